"""How the harness triages one case: through the whole graph, as users run it.

Each case gets a fresh data directory, so cases never correlate with each
other and nothing is left behind; the graph stops at the approval step, which
is where a replay's answer is complete (suspects, severity, who is paged).
The harness says which ranking model to use (None = the shipped one), so a
dataset the shipped model was fitted on is scored by the model fitted without it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from agent.alert.models import Alert
from agent.config import TriageConfig
from agent.context import build_context
from agent.incident.models import Incident
from agent.isolation.engine import isolate
from agent.isolation.models import Isolation
from agent.isolation.ranking import RankingModel
from agent.runner import NoIncident, TriageRunner
from evals.alert_intake import case_alerts
from evals.models import RecalledIncident
from knowledge.memory import EmptyMemory, IncidentMemory
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import CaseRecord, Severity

Engine = Callable[[TelemetryBackend, list[Alert]], Isolation]


class CaseResult(BaseModel):
    """What the harness scores for one case (and, in memory mode, the incident to learn)."""

    isolation: Isolation
    severity: Severity | None = None
    page_team: str | None = None
    recalled: list[RecalledIncident] = Field(default_factory=list)
    incident: Incident | None = None


CaseTriage = Callable[[ReplayDataset, CaseRecord, RankingModel | None], CaseResult]
MemoryFor = Callable[[ReplayDataset], IncidentMemory]


def graph_triage(config: TriageConfig | None = None, memory: MemoryFor | None = None) -> CaseTriage:
    """Alert payload in, the graph up to approval, the incident's answer out.

    Without `memory` the triage remembers nothing (whatever the config says), so
    cases stay independent; with it, each case recalls from `memory(dataset)`.
    """
    settings = config or TriageConfig()

    def triage(
        dataset: ReplayDataset, case: CaseRecord, ranking: RankingModel | None
    ) -> CaseResult:
        recall = memory(dataset) if memory else EmptyMemory()
        with tempfile.TemporaryDirectory(prefix="triage-eval-") as home:
            ctx = build_context(
                settings, home=Path(home), telemetry=dataset.at, memory=recall, ranking=ranking
            )
            outcome = TriageRunner(ctx).run(case_alerts(case), case.now)
        if isinstance(outcome, NoIncident):
            raise RuntimeError(f"{case.id}: {outcome.reason}")
        incident = outcome.incident
        if incident.isolation is None:
            raise RuntimeError(f"{case.id}: the graph finished without an isolation")
        return CaseResult(
            isolation=incident.isolation,
            severity=incident.severity.level if incident.severity else None,
            page_team=incident.routing.page_team if incident.routing else None,
            recalled=recalled_by(incident),
            incident=incident,
        )

    return triage


def recalled_by(incident: Incident) -> list[RecalledIncident]:
    """What the recall step recorded in the incident's timeline."""
    for entry in incident.timeline:
        if "recalled" in entry.data:
            return [RecalledIncident.model_validate(r) for r in entry.data["recalled"]]
    return []


def engine_only(engine: Engine | None = None) -> CaseTriage:
    """Just the isolation engine (no severity or routing), with the ranking model the
    harness gives; or a stand-in `engine` that ranks by its own lights (tests, ablations)."""

    def triage(
        dataset: ReplayDataset, case: CaseRecord, ranking: RankingModel | None
    ) -> CaseResult:
        backend, alerts = dataset.at(case.now), case_alerts(case)
        if engine is not None:
            return CaseResult(isolation=engine(backend, alerts))
        return CaseResult(isolation=isolate(backend, alerts, ranking))

    return triage
