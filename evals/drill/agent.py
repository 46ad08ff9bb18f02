"""The agent's answer to a case, the way the triage graph reaches it:
isolation, then severity and routing by policy (agent/nodes.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from agent.isolation.engine import alert_services, isolate
from agent.policy.load import default_policy
from agent.routing.route import route
from agent.severity.assess import assess, severity_inputs
from evals.alert_intake import case_alerts
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import CaseRecord

AFFECTED = 0.5


@dataclass(frozen=True)
class AgentAnswer:
    """What the agent concluded for one case, and how long it took."""

    case_id: str
    service: str | None
    fault_type: str | None
    confidence: float
    severity: str
    page_team: str
    alert_at: float
    elapsed_s: float
    ranking: tuple[str, ...]
    verdict: str


def answer(dataset: ReplayDataset, case: CaseRecord) -> AgentAnswer:
    """Run the engine on `case` as of its `now`, then severity and routing."""
    policy = default_policy()
    started = time.perf_counter()
    backend = dataset.at(case.now)
    alerts = case_alerts(case)
    isolation = isolate(backend, alerts)
    top = isolation.top()
    affected = sorted({e.service for e in isolation.evidence if e.strength >= AFFECTED})
    security = bool(top and top.fault_type == "security")
    inputs = severity_inputs(
        policy,
        backend.topology(),
        top.service if top else None,
        affected,
        alert_services(alerts, set(backend.services())),
        security=security,
        confidence=top.confidence if top else 0.0,
    )
    severity = assess(policy, inputs)
    routing = route(policy, top.service if top else None, severity, case.now, security=security)
    elapsed = time.perf_counter() - started
    return AgentAnswer(
        case_id=case.id,
        service=top.service if top else None,
        fault_type=top.fault_type if top else None,
        confidence=top.confidence if top else 0.0,
        severity=severity.level,
        page_team=routing.page_team,
        alert_at=min(a.starts_at for a in alerts).timestamp() if alerts else case.now.timestamp(),
        elapsed_s=elapsed,
        ranking=tuple(h.service for h in isolation.hypotheses[:5]),
        verdict=isolation.verdict,
    )


def answers(root: Path) -> list[AgentAnswer]:
    dataset = ReplayDataset.open(root)
    return [answer(dataset, case) for case in dataset.cases()]
