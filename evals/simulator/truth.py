"""Ground truth from the policy: severity and the team paged, as the policy
would set them if the engine had named the true culprit and the true blast
radius with certainty. The engine's job is to reproduce these.

Harm is the engine's own definition (tools.analysis.harm: errors up 2 points
and doubled, or median latency x1.8 and +100 ms), applied here to the
simulator's true, noise-free state instead of to sampled telemetry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from agent.routing.route import route
from agent.severity.assess import assess, severity_inputs
from evals.simulator.estate import Estate
from evals.simulator.state import CaseState
from evals.simulator.timeutil import utc
from tools.analysis.harm import HarmReading, Health

TRUTH_CONFIDENCE = 1.0
# A service with less traffic than this before the fault cannot be judged.
MIN_RPS = 0.01


@dataclass(frozen=True)
class Verdict:
    severity: str
    rule: str
    page_team: str


def harmed(state: CaseState, culprit: str, fault_minute: int, end_minute: int) -> list[str]:
    """The culprit plus every service the shared harm definition calls harmed."""
    readings = true_health(state, fault_minute, end_minute)
    return [culprit] + [
        name
        for name in state.estate.order
        if name != culprit and name in readings and readings[name].harmed
    ]


def true_health(state: CaseState, fault_minute: int, end_minute: int) -> dict[str, HarmReading]:
    """Each service's true error share and median latency, the hour before the
    fault and from the minute after it began to now (as the mesh would report
    them without sampling noise)."""
    before = slice(0, max(fault_minute, 1))
    during = slice(min(fault_minute + 1, end_minute - 1), end_minute)
    out = {}
    for name in state.estate.order:
        derived = state.derived[name]
        if not derived.svc_rps[before].mean() > MIN_RPS:
            continue
        sigma = state.services[name].component.behaviour.sigma
        median_ms = derived.svc_latency_ms / np.exp(sigma**2 / 2)
        out[name] = HarmReading(
            before=_health(derived.svc_err[before], median_ms[before]),
            during=_health(derived.svc_err[during], median_ms[during]),
        )
    return out


def _health(errors: np.ndarray, latency_ms: np.ndarray) -> Health:
    finite = latency_ms[np.isfinite(latency_ms)]
    latency = float(finite.mean()) if finite.size else None
    return Health(error_share=float(np.mean(errors)), latency_ms=latency)


def verdict(  # noqa: PLR0917
    estate: Estate,
    culprit: str,
    harmed_services: Iterable[str],
    alert_services: Iterable[str],
    security: bool,
    at_s: float,
) -> Verdict:
    """Severity and page team by the policy for the true culprit and harm."""
    policy = estate.policy
    inputs = severity_inputs(
        policy,
        estate.topology(),
        culprit,
        list(harmed_services),
        list(alert_services),
        security=security,
        confidence=TRUTH_CONFIDENCE,
    )
    assessment = assess(policy, inputs)
    routing = route(policy, culprit, assessment, utc(at_s), security=security)
    return Verdict(assessment.level, assessment.rule, routing.page_team)
