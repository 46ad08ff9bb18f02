"""The project's generic alert format (scripts, cron checks, SIEM rules)."""

from __future__ import annotations

from typing import Any

from evals.simulator.alerts import AlertSpec
from evals.simulator.timeutil import iso


def payload(spec: AlertSpec) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": spec.name,
        "status": spec.status,
        "starts_at": iso(spec.starts_at),
        "service": spec.service,
        "system": "sakuramart",
        "severity": spec.severity,
        "summary": spec.summary,
        "labels": {"env": "prod", **spec.labels},
        "annotations": {"description": spec.description} if spec.description else {},
    }
    if spec.ends_at:
        body["ends_at"] = iso(spec.ends_at)
    return body
