"""The harness reads case alerts through the product's intake, on time or late."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.alert.errors import AlertParseError
from evals.alert_intake import ON_TIME, AlertLag, LaggedCase, case_alerts
from tests.evals.tiny_dataset import FAULTS, Fault, alertmanager_payload, cloudwatch_payload
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


def test_an_alert_lag_spec_is_seconds_or_a_range_and_bad_specs_say_why() -> None:
    assert AlertLag.parse("300") == AlertLag(low_s=300, high_s=300)
    assert AlertLag.parse(" 60-600 ").label == "60-600 s"
    assert AlertLag.parse("0").label == "0 s"
    with pytest.raises(ValueError, match="expected SECONDS or MIN-MAX"):
        AlertLag.parse("5m")
    with pytest.raises(ValueError, match="MIN is above MAX"):
        AlertLag.parse("600-60")


def test_a_ranged_lag_is_drawn_per_case_the_same_for_the_same_seed() -> None:
    lag = AlertLag.parse("60-600")
    draws = {case_id: lag.draw(case_id, seed=3) for case_id in (f"c{i}" for i in range(50))}
    assert all(60 <= d <= 600 for d in draws.values())
    assert len(set(draws.values())) > 10  # cases differ
    assert draws == {case_id: lag.draw(case_id, seed=3) for case_id in draws}
    assert draws != {case_id: lag.draw(case_id, seed=4) for case_id in draws}


@pytest.mark.parametrize("fault", [FAULTS[0], FAULTS[2]], ids=["alertmanager", "cloudwatch"])
def test_a_lagged_case_moves_its_clock_and_its_parsed_alerts_together(fault: Fault) -> None:
    payload = (alertmanager_payload if fault.source == "alertmanager" else cloudwatch_payload)(
        fault
    )
    on_time = case(fault.source, payload)
    late = AlertLag.parse("300").apply(on_time)
    assert isinstance(late, LaggedCase) and late.alert_lag_s == 300
    assert late.now == on_time.now + timedelta(seconds=300)
    assert late.alert.payload == on_time.alert.payload  # the payload is as its source sent it
    (alert,) = case_alerts(late)
    assert alert.starts_at == fault.alert_at + timedelta(seconds=300)
    assert alert.model_dump(exclude={"starts_at"}) == case_alerts(on_time)[0].model_dump(
        exclude={"starts_at"}
    )
    assert ON_TIME.apply(on_time) is on_time


def test_a_resolved_alert_ends_later_too() -> None:
    payload = alertmanager_payload(FAULTS[0])
    payload["alerts"][0].update(status="resolved", endsAt="2024-05-01T09:20:00Z")
    (alert,) = case_alerts(AlertLag.parse("120").apply(case("alertmanager", payload)))
    assert alert.ends_at is not None and alert.ends_at.isoformat() == "2024-05-01T09:22:00+00:00"
