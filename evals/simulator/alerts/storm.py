"""Alert storms: what an on-call's pager looks like during a real incident.

Many rules fire across the culprit and its neighbours (service SLOs, pod
readiness, CPU throttling, upstream errors), each repeated at its sender's
repeat interval, some flapping between firing and resolved, with a few
unrelated alerts mixed in. Each line is one delivery: `{"source", "payload",
"received_at"}`. Dedup and correlation code is tested against these.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from evals.simulator.alerts import AlertSpec, render
from evals.simulator.faults.base import camel
from evals.simulator.state import CaseState
from evals.simulator.timeutil import iso

RULES = (
    ("HighErrorRate", "error_rate_pct", 5.0),
    ("LatencyP99High", "latency_p99_s", 2.0),
    ("UpstreamErrorsHigh", "upstream_error_rate_pct", 2.0),
    ("ApdexLow", "apdex", 0.8),
)
POD_RULES = (
    ("KubePodNotReady", "kube_pod_status_ready", 1.0),
    ("CPUThrottlingHigh", "cpu_throttled_periods_pct", 25.0),
    ("ContainerRestarting", "restarts", 1.0),
)
UNRELATED = ("settlement-batch", "recommendations", "notifications", "object-storage")
STORM_SOURCES = ("alertmanager", "alertmanager", "alertmanager", "cloudwatch", "datadog")


@dataclass(frozen=True)
class _Condition:
    spec: AlertSpec
    source: str
    flapping: bool
    related: bool
    fingerprint: str


def _conditions(
    state: CaseState, alert: AlertSpec, culprit: str, count: int, rng: np.random.Generator
) -> list[_Condition]:
    estate = state.estate
    near = [
        culprit,
        *estate.callers(culprit),
        *estate[culprit].depends_on,
        *sorted(estate.ancestors(culprit)),
    ]
    near = [s for s in dict.fromkeys(near) if s in estate.components]
    specs: list[tuple[AlertSpec, bool]] = [(alert, True)]
    for service in near:
        for rule, metric, threshold in RULES:
            specs.append(
                (_spec(alert, f"{camel(service)}{rule}", service, metric, threshold), True)
            )
        svc = state.services[service]
        if svc.component.has_pods:
            for slot in range(svc.pods):
                pod = svc.instance(slot, state.minutes - 1)
                for rule, metric, threshold in POD_RULES:
                    spec = _spec(alert, rule, service, metric, threshold, instance=pod)
                    specs.append((spec, True))
    for service in UNRELATED:
        specs.append(
            (
                _spec(
                    alert,
                    f"{camel(service)}LatencyP99High",
                    service,
                    "latency_p99_s",
                    2.0,
                    severity="warning",
                ),
                False,
            )
        )
    rng.shuffle(specs)
    chosen = specs[: max(count, 1)]
    if not any(s is alert for s, _ in chosen):
        chosen[0] = (alert, True)
    out = []
    for i, (spec, related) in enumerate(chosen):
        source = STORM_SOURCES[int(rng.integers(0, len(STORM_SOURCES)))]
        out.append(
            _Condition(
                spec,
                source,
                bool(rng.random() < 0.2),
                related,
                f"{spec.name}|{spec.service}|{spec.instance}|{source}|{i}",
            )
        )
    return out


def _spec(  # noqa: PLR0917
    base: AlertSpec,
    name: str,
    service: str,
    metric: str,
    threshold: float,
    instance: str = "",
    severity: str = "critical",
) -> AlertSpec:
    return replace(
        base,
        name=name,
        service=service,
        metric=metric,
        threshold=threshold,
        instance=instance,
        severity=severity,
        value=threshold * 1.7,
        summary=f"{service}: {metric} past {threshold:g}",
        description="",
        dimensions={"Service": service},
    )


def storm(  # noqa: PLR0917
    state: CaseState,
    alert: AlertSpec,
    culprit: str,
    total: int,
    now: float,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """`total` deliveries over the incident, oldest first."""
    if culprit not in state.estate.components:
        culprit = alert.service
    conditions = _conditions(state, alert, culprit, max(8, min(total // 15, 300)), rng)
    weights = np.array([3.0 if c.related else 1.0 for c in conditions])
    picks = rng.choice(len(conditions), size=total, p=weights / weights.sum())
    start = alert.starts_at - 60.0
    times = np.sort(rng.uniform(start, now + 1200.0, total))
    seen: dict[int, int] = {}
    out = []
    for pick, at in zip(picks, times, strict=True):
        condition = conditions[int(pick)]
        n = seen.get(int(pick), 0)
        seen[int(pick)] = n + 1
        resolved = condition.flapping and n % 2 == 1
        spec = replace(
            condition.spec,
            starts_at=min(condition.spec.starts_at, float(at)) if n == 0 else float(at) - 60.0,
            status="resolved" if resolved else "firing",
            ends_at=float(at) if resolved else None,
        )
        out.append(
            {
                "source": condition.source,
                "received_at": iso(float(at), 3),
                "related": condition.related,
                "payload": render(spec, condition.source, int(pick)),
                "fingerprint": condition.fingerprint,
            }
        )
    return out
