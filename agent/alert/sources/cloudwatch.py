"""Amazon CloudWatch alarm state changes, as SNS or EventBridge deliver them.

Accepted shapes: the SNS HTTP(S) envelope (`Type`, with the alarm as a JSON
string in `Message`), the same inside a Lambda `Records[].Sns`, SNS raw message
delivery (the bare alarm), and the EventBridge "CloudWatch Alarm State Change"
event, directly or wrapped in SNS. Both spellings of an alarm are read into one
`_Alarm` first, so the mapping to `Alert` is written once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final
from urllib.parse import quote

from agent.alert.derive import SERVICE_LABELS, SYSTEM_LABELS, fingerprint_of, pick
from agent.alert.errors import AlertParseError, SnsSubscriptionConfirmation
from agent.alert.fields import Fields, quoted
from agent.alert.models import Alert, AlertMetric, AlertStatus
from agent.alert.sources import Source

NAME: Final = "cloudwatch"
_EVENT_TYPE = "CloudWatch Alarm State Change"
_SHAPE = (
    "an SNS message (`Type`, `TopicArn`), Lambda SNS `Records`, an EventBridge event"
    f" (`detail-type` {_EVENT_TYPE!r}) or a bare alarm (`AlarmName`, `NewStateValue`)"
)
# INSUFFICIENT_DATA fires: a service that stopped emitting its metric may be
# the outage itself. `source_status` keeps the word for whoever wants to filter.
_STATES: dict[str, AlertStatus] = {
    "alarm": "firing",
    "insufficient_data": "firing",
    "ok": "resolved",
}
# Dimensions naming a service, most specific first. ECS sends ClusterName and
# ServiceName together: the service is ServiceName, the cluster the system.
_SERVICE_DIMENSIONS = (
    "ServiceName",
    "Service",
    "FunctionName",
    "TableName",
    "QueueName",
    "TopicName",
    "StreamName",
    "BucketName",
    "ApiName",
    "StateMachineArn",
    "DBInstanceIdentifier",
    "DBClusterIdentifier",
    "CacheClusterId",
    "ReplicationGroupId",
    "LoadBalancer",
    "LoadBalancerName",
    "TargetGroup",
    "AutoScalingGroupName",
)
_SYSTEM_DIMENSIONS = ("ClusterName",)
_STATISTICS = {
    "AVERAGE": "Average",
    "SUM": "Sum",
    "MINIMUM": "Minimum",
    "MAXIMUM": "Maximum",
    "SAMPLECOUNT": "SampleCount",
}
_ELB_NAME = re.compile(r"(?:app|net|gwy|targetgroup)/([^/]+)/[0-9a-f]+")
_REGION_CODE = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d")


@dataclass(frozen=True)
class _Spelling:
    """Key names of a metric query: SNS spells them in PascalCase, EventBridge in camelCase."""

    metric_stat: str
    metric: str
    name: str
    namespace: str
    dimensions: str
    period: str
    stat: str
    expression: str


_SNS = _Spelling(
    "MetricStat", "Metric", "MetricName", "Namespace", "Dimensions", "Period", "Stat", "Expression"
)
_EVENT = _Spelling(
    "metricStat", "metric", "name", "namespace", "dimensions", "period", "stat", "expression"
)


@dataclass(frozen=True)
class _Alarm:
    """One alarm transition as either delivery tells it."""

    name: str
    state: str  # as sent: ALARM, OK, INSUFFICIENT_DATA
    status: AlertStatus
    changed_at: datetime
    region: str | None
    account: str | None
    previous_at: datetime | None = None  # when the previous state began (EventBridge only)
    metric: AlertMetric | None = None
    tags: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # reason, description, ...


def looks_like(payload: object) -> bool:
    if not isinstance(payload, Mapping):
        return False
    records = payload.get("Records")
    return (
        ("Type" in payload and "TopicArn" in payload)
        or (isinstance(records, list) and any(_has(r, "Sns") for r in records))
        or payload.get("detail-type") == _EVENT_TYPE
        or ("AlarmName" in payload and "NewStateValue" in payload)
    )


def _has(item: object, key: str) -> bool:
    return isinstance(item, Mapping) and key in item


def parse(payload: object) -> list[Alert]:
    body = Fields.of(NAME, payload)
    if body.has("Records"):
        return [a for r in body.need_objects("Records") for a in _from_sns(r.need_obj("Sns"))]
    if body.has("Type"):
        return _from_sns(body)
    return [_to_alert(_read_alarm(body, topic_arn=None))]


def _from_sns(envelope: Fields) -> list[Alert]:
    """The alarm inside an SNS message; confirmations are not alarms."""
    kind = envelope.need_text("Type")
    if kind == "SubscriptionConfirmation":
        raise SnsSubscriptionConfirmation(
            topic_arn=envelope.need_text("TopicArn"),
            subscribe_url=envelope.need_text("SubscribeURL"),
            token=envelope.need_text("Token"),
            message_id=envelope.text("MessageId") or "",
        )
    if kind == "UnsubscribeConfirmation":
        return []
    if kind != "Notification":
        expected = "Notification, SubscriptionConfirmation or UnsubscribeConfirmation"
        raise envelope.error("Type", f"expected {expected}, got {quoted(kind)}")
    message = envelope.json_object("Message")
    return [_to_alert(_read_alarm(message, envelope.text("TopicArn")))]


def _read_alarm(body: Fields, topic_arn: str | None) -> _Alarm:
    """An EventBridge event, or an alarm as SNS words it."""
    if body.has("detail-type") or body.has("detail"):
        return _from_event(body)
    if body.has("AlarmName"):
        return _from_sns_alarm(body, topic_arn)
    raise AlertParseError(f"{NAME}: {body.path or 'payload'}: not a CloudWatch alarm: {_SHAPE}")


def _from_event(event: Fields) -> _Alarm:
    kind = event.need_text("detail-type")
    if kind != _EVENT_TYPE:
        raise event.error("detail-type", f"expected {_EVENT_TYPE!r}, got {quoted(kind)}")
    detail = event.need_obj("detail")
    state = detail.need_obj("state")
    previous = detail.obj("previousState")
    config = detail.obj("configuration")
    queries = config.objects("metrics")
    return _Alarm(
        name=detail.need_text("alarmName"),
        state=state.need_text("value"),
        status=state.choice("value", _STATES),
        changed_at=state.time("timestamp") or event.need_time("time"),
        region=event.text("region"),
        account=event.text("account"),
        previous_at=previous.time("timestamp"),
        metric=_query_metric(queries, _EVENT),
        tags=detail.mapping("alarmTags"),
        notes=_present(
            reason=state.text("reason"),
            description=config.text("description"),
            previous_state=previous.text("value"),
            expression=_expression(queries, _EVENT),
            alarm_rule=config.text("alarmRule"),
        ),
    )


def _from_sns_alarm(alarm: Fields, topic_arn: str | None) -> _Alarm:
    # The region code is in the alarm ARN, or else in the topic's (an alarm
    # notifies topics of its own region); `Region` is a display name.
    region, account = _arn_parts(alarm.text("AlarmArn") or topic_arn)
    trigger = alarm.obj("Trigger")
    queries = trigger.objects("Metrics")
    return _Alarm(
        name=alarm.need_text("AlarmName"),
        state=alarm.need_text("NewStateValue"),
        status=alarm.choice("NewStateValue", _STATES),
        changed_at=alarm.need_time("StateChangeTime"),
        region=region or alarm.text("Region"),
        account=alarm.text("AWSAccountId") or account,
        metric=_trigger_metric(trigger) or _query_metric(queries, _SNS),
        notes=_present(
            reason=alarm.text("NewStateReason"),
            description=alarm.text("AlarmDescription"),
            previous_state=alarm.text("OldStateValue"),
            expression=_expression(queries, _SNS),
            alarm_rule=alarm.text("AlarmRule"),
        ),
    )


def _trigger_metric(trigger: Fields) -> AlertMetric | None:
    """A single-metric alarm's metric, which SNS puts straight in `Trigger`."""
    if not trigger.has("MetricName"):
        return None
    statistic = trigger.text("Statistic") or trigger.text("ExtendedStatistic")
    return _metric(trigger, _SNS, statistic, trigger.integer("Period"))


def _query_metric(queries: list[Fields], keys: _Spelling) -> AlertMetric | None:
    """A metric-math alarm's first plain metric; None when every query is an
    expression (e.g. a Metrics Insights alarm)."""
    for query in queries:
        if query.has(keys.metric_stat):
            stat = query.obj(keys.metric_stat)
            metric = stat.need_obj(keys.metric)
            return _metric(metric, keys, stat.text(keys.stat), stat.integer(keys.period))
    return None


def _expression(queries: list[Fields], keys: _Spelling) -> str | None:
    return next((q.text(keys.expression) for q in queries if q.has(keys.expression)), None)


def _metric(
    metric: Fields, keys: _Spelling, statistic: str | None, period: int | None
) -> AlertMetric:
    return AlertMetric(
        namespace=metric.text(keys.namespace),
        name=metric.need_text(keys.name),
        dimensions=_dimensions(metric, keys.dimensions),
        statistic=_STATISTICS.get(statistic.upper().replace("_", ""), statistic)
        if statistic
        else None,
        period_s=period,
    )


def _dimensions(metric: Fields, key: str) -> dict[str, str]:
    """Dimensions as a map: SNS sends a list of {name, value}, EventBridge a map."""
    if not isinstance(metric.data.get(key), list):
        return metric.mapping(key)
    return {d.need_text("name"): d.text("value") or "" for d in metric.objects(key)}


def _to_alert(alarm: _Alarm) -> Alert:
    dimensions = alarm.metric.dimensions if alarm.metric else {}
    resolved = alarm.status == "resolved"
    return Alert(
        source=NAME,
        # Per alarm, not per delivery: the same alarm over SNS or EventBridge
        # dedups onto one incident.
        fingerprint=fingerprint_of(NAME, alarm.region, alarm.account, alarm.name),
        name=alarm.name,
        status=alarm.status,
        # For a recovery, the alert began when the alarm left OK, if told.
        starts_at=(alarm.previous_at or alarm.changed_at) if resolved else alarm.changed_at,
        ends_at=alarm.changed_at if resolved else None,
        # The alarm's own tags are a person's deliberate choice, so they win.
        service=pick(alarm.tags, SERVICE_LABELS)
        or _resource_name(pick(dimensions, _SERVICE_DIMENSIONS)),
        system=pick(alarm.tags, SYSTEM_LABELS) or pick(dimensions, _SYSTEM_DIMENSIONS),
        source_severity=alarm.tags.get("severity"),
        source_status=alarm.state,
        summary=alarm.notes.get("reason", ""),
        labels={**dimensions, **alarm.tags, **_present(region=alarm.region, account=alarm.account)},
        annotations=alarm.notes,
        metric=alarm.metric,
        url=_console_url(alarm.region, alarm.name),
    )


def _present(**values: str | None) -> dict[str, str]:
    """The values that were given, for maps that must not hold empty strings."""
    return {key: value for key, value in values.items() if value}


def _arn_parts(arn: str | None) -> tuple[str | None, str | None]:
    """(region, account) of an ARN `arn:partition:service:region:account:...`."""
    parts = (arn or "").split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None, None
    return parts[3] or None, parts[4] or None


def _resource_name(value: str | None) -> str | None:
    """The name inside a load balancer id (`app/checkout-alb/50dc…`) or an ARN."""
    if value is None:
        return None
    if match := _ELB_NAME.fullmatch(value):
        return match.group(1)
    if value.startswith("arn:"):
        return value.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    return value


def _console_url(region: str | None, name: str) -> str | None:
    if region is None or not _REGION_CODE.fullmatch(region):
        return None
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#alarmsV2:alarm/{quote(name, safe='')}"
    )


SOURCE = Source(name=NAME, shape=_SHAPE, looks_like=looks_like, parse=parse)
