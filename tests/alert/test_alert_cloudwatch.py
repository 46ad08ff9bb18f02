"""CloudWatch alarm state changes over SNS and EventBridge."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.alert import AlertParseError, SnsSubscriptionConfirmation, parse_alert

Load = Callable[[str], Any]


def test_sns_alarm_reads_the_message_string(load: Load) -> None:
    (alert,) = parse_alert(load("cloudwatch_sns_alarm.json"))
    assert (alert.source, alert.name, alert.status, alert.source_status) == (
        "cloudwatch",
        "orders-api-cpu-high",
        "firing",
        "ALARM",
    )
    assert alert.starts_at == datetime(2024, 3, 14, 9, 41, 7, 418000, tzinfo=UTC)
    # ECS: the service is ServiceName, the cluster the system.
    assert (alert.service, alert.system) == ("orders-api", "prod-cluster")
    assert alert.metric is not None
    assert (alert.metric.namespace, alert.metric.name, alert.metric.statistic) == (
        "AWS/ECS",
        "CPUUtilization",
        "Average",  # SNS says AVERAGE
    )
    assert alert.metric.period_s == 60
    assert alert.labels["region"] == "eu-west-1"  # from the ARN, not "EU (Ireland)"
    assert alert.summary.startswith("Threshold Crossed: 3 out of the last 3")
    assert alert.annotations["description"].startswith("ECS service orders-api")
    assert alert.url is not None and "region=eu-west-1" in alert.url


def test_sns_metric_math_alarm_takes_its_first_plain_metric(load: Load) -> None:
    (alert,) = parse_alert(load("cloudwatch_sns_metric_math.json"))
    assert alert.metric is not None
    assert alert.metric.name == "HTTPCode_Target_5XX_Count"
    assert alert.metric.dimensions == {"LoadBalancer": "app/storefront-alb/50dc6c495c0c9188"}
    assert alert.annotations["expression"] == "100 * m1 / m2"
    assert alert.service == "storefront-alb"  # the name inside the load balancer id


def test_subscription_confirmation_is_reported_distinctly(load: Load) -> None:
    with pytest.raises(SnsSubscriptionConfirmation) as caught:
        parse_alert(load("cloudwatch_sns_subscription_confirmation.json"))
    confirmation = caught.value
    assert not isinstance(confirmation, AlertParseError)
    assert confirmation.topic_arn == "arn:aws:sns:eu-west-1:111122223333:incident-triage-alarms"
    assert confirmation.subscribe_url.startswith("https://sns.eu-west-1.amazonaws.com/")
    assert confirmation.token.startswith("2336412f")
    assert confirmation.message_id == "165545c9-2a5c-472c-8df2-7ff2be2b3b1b"


def test_unsubscribe_confirmation_has_no_alerts(load: Load) -> None:
    payload = load("cloudwatch_sns_subscription_confirmation.json")
    payload["Type"] = "UnsubscribeConfirmation"
    assert parse_alert(payload) == []


def test_raw_delivery_and_lambda_records_parse_like_the_envelope(load: Load) -> None:
    envelope = load("cloudwatch_sns_alarm.json")
    expected = parse_alert(envelope)
    assert parse_alert(envelope["Message"]) == expected  # raw message delivery
    lambda_event = {"Records": [{"EventSource": "aws:sns", "Sns": envelope}]}
    assert parse_alert(lambda_event) == expected


def test_eventbridge_alarm(load: Load) -> None:
    (alert,) = parse_alert(load("cloudwatch_eventbridge_alarm.json"))
    assert (alert.name, alert.status, alert.service) == (
        "invoice-renderer-errors",
        "firing",
        "invoice-renderer",
    )
    assert alert.starts_at == datetime(2024, 3, 14, 11, 20, 40, 987000, tzinfo=UTC)
    assert alert.metric is not None and alert.metric.statistic == "Sum"
    assert alert.annotations["previous_state"] == "OK"


def test_eventbridge_recovery_starts_when_the_alarm_fired(load: Load) -> None:
    fired = parse_alert(load("cloudwatch_eventbridge_alarm.json"))[0]
    (alert,) = parse_alert(load("cloudwatch_eventbridge_resolved.json"))
    assert (alert.status, alert.source_status) == ("resolved", "OK")
    assert alert.starts_at == fired.starts_at
    assert alert.ends_at == datetime(2024, 3, 14, 11, 48, 40, 112000, tzinfo=UTC)
    assert alert.fingerprint == fired.fingerprint


def test_eventbridge_metric_math_without_metric_stat_on_the_expression(load: Load) -> None:
    (alert,) = parse_alert(load("cloudwatch_eventbridge_metric_math.json"))
    assert alert.metric is not None
    assert (alert.metric.name, alert.metric.statistic) == ("Latency", "p99")
    assert alert.annotations["expression"] == "m1 / m2"
    assert (alert.service, alert.system) == ("search", "prod-cluster")


def test_insufficient_data_fires_and_an_expression_only_alarm_has_no_metric(
    load: Load,
) -> None:
    (alert,) = parse_alert(load("cloudwatch_eventbridge_insights_query.json"))
    assert (alert.status, alert.source_status) == ("firing", "INSUFFICIENT_DATA")
    assert alert.metric is None
    assert alert.service is None
    assert alert.annotations["expression"].startswith("SELECT AVG(CPUUtilization)")


def test_fingerprint_is_per_alarm_not_per_delivery(load: Load) -> None:
    sns = parse_alert(load("cloudwatch_sns_alarm.json"))[0]
    again = load("cloudwatch_sns_alarm.json")
    again["MessageId"] = "another-delivery"
    message = json.loads(again["Message"])
    message["StateChangeTime"] = "2024-03-15T01:00:00.000+0000"
    again["Message"] = json.dumps(message)
    assert parse_alert(again)[0].fingerprint == sns.fingerprint

    # The same alarm through EventBridge dedups onto the same condition.
    event = load("cloudwatch_eventbridge_alarm.json")
    event.update(region="eu-west-1", account="111122223333", id="x", time="2024-03-15T01:00:00Z")
    event["detail"]["alarmName"] = "orders-api-cpu-high"
    assert parse_alert(event)[0].fingerprint == sns.fingerprint

    event["region"] = "us-east-1"
    assert parse_alert(event)[0].fingerprint != sns.fingerprint


def test_eventbridge_event_forwarded_through_sns(load: Load) -> None:
    event = load("cloudwatch_eventbridge_alarm.json")
    envelope = load("cloudwatch_sns_alarm.json")
    envelope["Message"] = json.dumps(event)
    assert parse_alert(envelope) == parse_alert(event)


def test_alarm_tags_name_the_service_before_dimensions(load: Load) -> None:
    event = load("cloudwatch_eventbridge_alarm.json")
    event["detail"]["alarmTags"] = {"service": "billing", "severity": "sev2"}
    (alert,) = parse_alert(event)
    assert (alert.service, alert.source_severity) == ("billing", "sev2")


def test_composite_alarm_has_its_rule(load: Load) -> None:
    event = load("cloudwatch_eventbridge_alarm.json")
    event["detail"]["configuration"] = {
        "alarmRule": 'ALARM("invoice-renderer-errors") AND ALARM("invoice-queue-depth")',
        "description": "invoice pipeline failing",
    }
    (alert,) = parse_alert(event)
    assert alert.metric is None
    assert alert.annotations["alarm_rule"].startswith('ALARM("invoice-renderer-errors")')


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p.update({"detail-type": "EC2 Instance State-change Notification"}),
            "cloudwatch: detail-type: expected 'CloudWatch Alarm State Change',"
            " got 'EC2 Instance State-change Notification'",
        ),
        (
            lambda p: p["detail"]["state"].update(value="BROKEN"),
            "cloudwatch: detail.state.value: expected one of alarm, insufficient_data, ok,"
            " got 'BROKEN'",
        ),
        (
            lambda p: p["detail"]["state"].update(timestamp="soon"),
            "cloudwatch: detail.state.timestamp: not a timestamp: 'soon'",
        ),
        (
            lambda p: p["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"].pop(
                "name"
            ),
            "cloudwatch: detail.configuration.metrics[0].metricStat.metric.name: missing",
        ),
    ],
)
def test_malformed_events_name_the_field(
    load: Load, change: Callable[[dict[str, Any]], object], message: str
) -> None:
    payload = load("cloudwatch_eventbridge_alarm.json")
    change(payload)
    with pytest.raises(AlertParseError) as caught:
        parse_alert(payload, source="cloudwatch")
    assert str(caught.value) == message


def test_malformed_sns_messages_name_the_field(load: Load) -> None:
    envelope = load("cloudwatch_sns_alarm.json")
    envelope["Message"] = "ALARM: orders-api-cpu-high"
    with pytest.raises(AlertParseError, match=r"^cloudwatch: Message: not JSON: "):
        parse_alert(envelope)
    envelope["Message"] = json.dumps({"hello": "world"})
    with pytest.raises(AlertParseError, match=r"^cloudwatch: Message: not a CloudWatch alarm"):
        parse_alert(envelope)
    envelope["Type"] = "Gossip"
    with pytest.raises(AlertParseError, match=r"^cloudwatch: Type: expected Notification"):
        parse_alert(envelope)


def test_sns_dimension_without_a_name_is_reported(load: Load) -> None:
    envelope = load("cloudwatch_sns_alarm.json")
    message = json.loads(envelope["Message"])
    message["Trigger"]["Dimensions"][1] = {"value": "orders-api"}
    envelope["Message"] = json.dumps(message)
    with pytest.raises(AlertParseError) as caught:
        parse_alert(envelope)
    assert str(caught.value) == "cloudwatch: Message.Trigger.Dimensions[1].name: missing"
