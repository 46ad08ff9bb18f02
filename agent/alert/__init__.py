"""Alert intake: parse what Alertmanager, CloudWatch, Datadog or a script sends."""

from agent.alert.errors import AlertParseError, SnsSubscriptionConfirmation
from agent.alert.models import Alert, AlertMetric
from agent.alert.parse import detect_source, parse_alert

__all__ = [
    "Alert",
    "AlertMetric",
    "AlertParseError",
    "SnsSubscriptionConfirmation",
    "detect_source",
    "parse_alert",
]
