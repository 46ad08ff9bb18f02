"""Prometheus Alertmanager webhook, version 4."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from evals.simulator.alerts import AlertSpec
from evals.simulator.timeutil import iso

ZERO_TIME = "0001-01-01T00:00:00Z"


def labels_of(spec: AlertSpec) -> dict[str, str]:
    labels = {
        "alertname": spec.name,
        "namespace": "sakuramart-prod",
        "service": spec.service,
        "severity": spec.severity,
        "team": spec.labels.get("team", ""),
    }
    if spec.instance:
        labels["pod"] = spec.instance
    labels.update({k: v for k, v in spec.labels.items() if k != "team"})
    return {k: v for k, v in labels.items() if v}


def fingerprint(labels: dict[str, str]) -> str:
    text = ",".join(f"{k}={labels[k]}" for k in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _entry(spec: AlertSpec) -> dict[str, Any]:
    labels = labels_of(spec)
    expr = f'{spec.metric}{{service="{spec.service}"}} > {spec.threshold:g}'
    return {
        "status": spec.status,
        "labels": labels,
        "annotations": {
            "summary": spec.summary,
            "description": spec.description or spec.summary,
            "runbook_url": f"https://runbooks.sakuramart.example/alerts/{spec.name}",
        },
        "startsAt": iso(spec.starts_at, 3),
        "endsAt": iso(spec.ends_at, 3) if spec.ends_at else ZERO_TIME,
        "generatorURL": "http://prometheus.monitoring.svc:9090/graph?g0.expr="
        + quote(expr, safe="")
        + "&g0.tab=1",
        "fingerprint": fingerprint(labels),
    }


def payload(specs: list[AlertSpec]) -> dict[str, Any]:
    """One notification grouping `specs` (grouped by alertname and service)."""
    entries = [_entry(s) for s in specs]
    first = entries[0]["labels"]
    group = {"alertname": first["alertname"], "service": first.get("service", "")}
    common = {k: v for k, v in first.items() if all(e["labels"].get(k) == v for e in entries)}
    firing = any(e["status"] == "firing" for e in entries)
    return {
        "version": "4",
        "groupKey": '{{}}/{{severity=~"critical|warning"}}:{{alertname="{}", service="{}"}}'.format(
            group["alertname"], group["service"]
        ),
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "incident-triage",
        "groupLabels": group,
        "commonLabels": common,
        "commonAnnotations": entries[0]["annotations"] if len(entries) == 1 else {},
        "externalURL": "http://alertmanager.monitoring.svc:9093",
        "alerts": entries,
    }
