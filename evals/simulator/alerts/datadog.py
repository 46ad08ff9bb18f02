"""Datadog monitor notifications through the Webhooks integration, with the
payload template docs/alerts.md asks for."""

from __future__ import annotations

import zlib
from typing import Any

from evals.simulator.alerts import AlertSpec

PRIORITY = {"critical": "P1", "page": "P1", "warning": "P3", "info": "P4"}


def payload(spec: AlertSpec, seed: int = 0) -> dict[str, Any]:
    monitor = 10_000_000 + zlib.crc32(spec.name.encode()) % 89_999_999
    event = zlib.crc32(f"{seed}|{spec.name}|{spec.starts_at}".encode())
    transition = "Triggered" if spec.status == "firing" else "Recovered"
    scope = f"service:{spec.service}"
    title = f"[{transition} on {{{scope}}}] {spec.name}"
    tags = f"env:prod,service:{spec.service},team:{spec.labels.get('team', 'unknown')}"
    return {
        "id": str(7_000_000_000_000_000_000 + event),
        "title": f"[{PRIORITY.get(spec.severity, 'P2')}] {title}",
        "alert_title": title,
        "body": f"%%%\n{spec.summary}\n\n{spec.description}\n%%%",
        "date": str(int(spec.starts_at * 1000)),
        "last_updated": str(int(spec.starts_at * 1000)),
        "event_type": "query_alert_monitor",
        "org": {"id": "482913", "name": "Sakura Mart"},
        "alert_id": str(monitor),
        "alert_cycle_key": str(event),
        "aggreg_key": f"{monitor:x}",
        "alert_transition": transition,
        "alert_status": f"{spec.metric} {spec.value:.4g} > {spec.threshold:g}",
        "alert_type": "error" if spec.status == "firing" else "success",
        "alert_priority": PRIORITY.get(spec.severity, "P2"),
        "alert_metric": spec.metric.replace("_", "."),
        "alert_query": f"avg(last_5m):avg:{spec.metric.replace('_', '.')}{{{scope}}}"
        f" > {spec.threshold:g}",
        "alert_scope": scope,
        "tags": tags,
        "hostname": spec.instance,
        "link": f"https://app.datadoghq.com/event/event?id={event}",
    }
