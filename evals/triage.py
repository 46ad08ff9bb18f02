"""How the harness triages one case: through the whole graph, as users run it.

Each case gets a fresh data directory, so cases never correlate with each
other and nothing is left behind; the graph stops at the approval step, which
is where a replay's answer is complete (suspects, severity, who is paged).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from agent.alert.models import Alert
from agent.config import TriageConfig
from agent.context import build_context
from agent.hypothesis.models import Isolation
from agent.runner import TriageRunner
from evals.alert_intake import case_alerts
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import CaseRecord, Severity

Engine = Callable[[TelemetryBackend, list[Alert]], Isolation]


class CaseResult(BaseModel):
    """What the harness scores for one case."""

    isolation: Isolation
    severity: Severity | None = None
    page_team: str | None = None


CaseTriage = Callable[[ReplayDataset, CaseRecord], CaseResult]


def graph_triage(config: TriageConfig | None = None) -> CaseTriage:
    """Alert payload in, the graph up to approval, the incident's answer out."""
    settings = config or TriageConfig()

    def triage(dataset: ReplayDataset, case: CaseRecord) -> CaseResult:
        with tempfile.TemporaryDirectory(prefix="triage-eval-") as home:
            ctx = build_context(settings, home=Path(home), telemetry=dataset.at)
            incident = TriageRunner(ctx).run(case_alerts(case), case.now).incident
        if incident.isolation is None:
            raise RuntimeError(f"{case.id}: the graph finished without an isolation")
        return CaseResult(
            isolation=incident.isolation,
            severity=incident.severity.level if incident.severity else None,
            page_team=incident.routing.page_team if incident.routing else None,
        )

    return triage


def engine_only(engine: Engine) -> CaseTriage:
    """Just an isolation engine (no severity or routing): for tests and ablations."""

    def triage(dataset: ReplayDataset, case: CaseRecord) -> CaseResult:
        return CaseResult(isolation=engine(dataset.at(case.now), case_alerts(case)))

    return triage
