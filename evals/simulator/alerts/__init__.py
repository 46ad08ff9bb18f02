"""Alert payloads exactly as each sender would POST them, from one spec.

A case's alert is a spec (what fired, where, when, on which metric) rendered
by one of the source modules; `parse_alert` must read every one back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SOURCES = ("alertmanager", "cloudwatch", "datadog", "generic")


@dataclass(frozen=True)
class AlertSpec:
    """What fired. `service` is the label the rule attaches; `metric`,
    `namespace` and `dimensions` are what a CloudWatch or Datadog monitor
    evaluates (over `period_s`); `value` and `threshold` word the reason."""

    name: str
    service: str
    starts_at: float
    summary: str
    description: str = ""
    severity: str = "critical"
    status: str = "firing"
    instance: str = ""
    metric: str = "error_rate_pct"
    namespace: str = "SakuraMart/Services"
    dimensions: dict[str, str] = field(default_factory=dict)
    value: float = 0.0
    threshold: float = 0.0
    comparison: str = "GreaterThanThreshold"
    ends_at: float | None = None
    labels: dict[str, str] = field(default_factory=dict)
    # The rule's evaluation period: CloudWatch alarms on 1-minute datapoints
    # (two of them) or on one 5-minute datapoint.
    period_s: int = 60


def render(spec: AlertSpec, source: str, seed: int = 0) -> dict[str, Any]:
    """The payload of `spec` as `source` sends it."""
    from evals.simulator.alerts import alertmanager, cloudwatch, datadog, generic

    builders = {
        "alertmanager": lambda: alertmanager.payload([spec]),
        "cloudwatch": lambda: cloudwatch.payload(spec, seed),
        "datadog": lambda: datadog.payload(spec, seed),
        "generic": lambda: generic.payload(spec),
    }
    return builders[source]()
