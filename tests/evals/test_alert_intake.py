"""The harness reads case alerts through the product's intake."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.alert.errors import AlertParseError
from evals.alert_intake import case_alerts
from tests.evals.tiny_dataset import FAULTS, alertmanager_payload, cloudwatch_payload
from tools.telemetry.replay.format import CaseRecord


def case(source: str, payload: dict) -> CaseRecord:
    return CaseRecord.model_validate(
        {"id": "c", "now": "2024-05-01T10:00:00Z", "alert": {"source": source, "payload": payload}}
    )


def test_alertmanager_alert_keeps_start_labels_and_fingerprint() -> None:
    (alert,) = case_alerts(case("alertmanager", alertmanager_payload(FAULTS[0])))
    assert alert.starts_at == FAULTS[0].alert_at
    assert alert.name == "ShopAnomaly" and alert.system == "tiny-shop"
    assert alert.source_severity == "warning" and alert.fingerprint == "fp-tiny-01"
    assert alert.service is None


def test_cloudwatch_alarm_keeps_state_time_metric_and_service_dimension() -> None:
    (alert,) = case_alerts(case("cloudwatch", cloudwatch_payload(FAULTS[2])))
    assert alert.starts_at == FAULTS[2].alert_at
    assert alert.starts_at.utcoffset() == timedelta(0)  # "+0000" read as UTC
    assert alert.service == "frontend" and alert.name == "shop-latency"
    assert alert.metric is not None and alert.metric.dimensions == {"Service": "frontend"}
    assert alert.metric.period_s == 60 and alert.metric.statistic == "Average"


def test_a_malformed_case_alert_is_refused_with_the_field_named() -> None:
    payload = alertmanager_payload(FAULTS[0])
    payload["alerts"][0]["startsAt"] = "yesterday"
    with pytest.raises(AlertParseError, match=r"alerts\[0\]\.startsAt"):
        case_alerts(case("alertmanager", payload))
