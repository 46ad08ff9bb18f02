"""Case alert payload -> Alert, just enough for the harness to replay a case.

TODO(alert-intake): switch `case_alerts` to `agent.alert.parse.parse_alert(source,
payload)` once it lands and delete the two readers below; they only cover the
shapes the dev datasets use (Alertmanager v4 webhook, CloudWatch via EventBridge).
"""

from __future__ import annotations

from typing import Any

from agent.alert.models import Alert, AlertMetric
from tools.telemetry.replay.format import CaseRecord


class UnsupportedAlert(ValueError):
    """The case's alert source has no reader here yet."""


def case_alerts(case: CaseRecord) -> list[Alert]:
    """The alert(s) a case's payload carries."""
    source, payload = case.alert.source, case.alert.payload
    if source == "alertmanager":
        return [_alertmanager(a) for a in payload.get("alerts", [])[:1]]
    if source == "cloudwatch":
        return [_cloudwatch(payload)]
    raise UnsupportedAlert(f"no reader for alert source {source!r} (case {case.id})")


def _alertmanager(alert: dict[str, Any]) -> Alert:
    labels = {str(k): str(v) for k, v in alert.get("labels", {}).items()}
    annotations = {str(k): str(v) for k, v in alert.get("annotations", {}).items()}
    return Alert(
        source="alertmanager",
        fingerprint=str(alert.get("fingerprint") or labels.get("alertname", "")),
        name=labels.get("alertname", ""),
        status="resolved" if alert.get("status") == "resolved" else "firing",
        starts_at=alert["startsAt"],
        service=labels.get("service"),
        system=labels.get("system"),
        source_severity=labels.get("severity"),
        summary=annotations.get("summary", ""),
        labels=labels,
        annotations=annotations,
        url=alert.get("generatorURL"),
    )


def _cloudwatch(event: dict[str, Any]) -> Alert:
    detail = event["detail"]
    stat = detail.get("configuration", {}).get("metrics", [{}])[0].get("metricStat", {})
    metric = stat.get("metric", {})
    dimensions = {str(k): str(v) for k, v in metric.get("dimensions", {}).items()}
    name = detail.get("alarmName", "")
    return Alert(
        source="cloudwatch",
        fingerprint=(event.get("resources") or [name])[0],
        name=name,
        status="firing" if detail.get("state", {}).get("value") == "ALARM" else "resolved",
        starts_at=detail["state"]["timestamp"],
        service=dimensions.get("Service"),
        summary=detail.get("state", {}).get("reason", ""),
        metric=AlertMetric(
            namespace=metric.get("namespace"),
            name=metric.get("name", ""),
            dimensions=dimensions,
            statistic=stat.get("stat"),
            period_s=stat.get("period"),
        )
        if metric
        else None,
    )
