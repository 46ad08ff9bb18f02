"""Case alert payload -> Alerts, through the product's own intake."""

from __future__ import annotations

from agent.alert.models import Alert
from agent.alert.parse import parse_alert
from tools.telemetry.replay.format import CaseRecord


def case_alerts(case: CaseRecord) -> list[Alert]:
    """The alert(s) a case's payload carries, parsed as the live intake would."""
    return parse_alert(case.alert.payload, case.alert.source)
