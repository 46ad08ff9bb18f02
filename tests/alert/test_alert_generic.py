"""The generic JSON format of docs/alerts.md."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.alert import AlertParseError, parse_alert

Load = Callable[[str], Any]


def test_generic_alert(load: Load) -> None:
    (alert,) = parse_alert(load("generic.json"))
    assert (alert.source, alert.name, alert.status) == ("generic", "SuspiciousLoginBurst", "firing")
    assert (alert.service, alert.system, alert.source_severity) == ("auth", "identity", "high")
    assert alert.starts_at == datetime(2024, 3, 14, 12, 2, tzinfo=UTC)
    assert alert.summary.startswith("412 failed logins")
    assert alert.url == "https://siem.example.com/alerts/88213"


def test_batch_with_epoch_start_and_given_fingerprint(load: Load) -> None:
    late, done = parse_alert(load("generic_batch.json"))
    assert late.starts_at == datetime(2024, 3, 14, 3, 0, tzinfo=UTC)
    assert late.service == "billing-export"  # from labels
    assert late.summary == "nightly export has not finished 2h after its deadline"
    assert (done.status, done.fingerprint) == ("resolved", "billing-export-late")
    assert done.ends_at == datetime(2024, 3, 13, 3, 41, tzinfo=UTC)


def test_minimal_alert_and_derived_fingerprint() -> None:
    base = {"name": "DiskFull", "starts_at": "2024-03-14T00:00:00Z", "labels": {"a": "1", "b": "2"}}
    (alert,) = parse_alert(base)
    assert (alert.status, alert.summary, alert.service, alert.ends_at) == ("firing", "", None, None)
    reordered = {**base, "labels": {"b": "2", "a": "1"}, "starts_at": "2024-03-15T00:00:00Z"}
    assert parse_alert(reordered)[0].fingerprint == alert.fingerprint
    assert parse_alert({**base, "service": "db"})[0].fingerprint != alert.fingerprint
    assert parse_alert({**base, "name": "DiskSlow"})[0].fingerprint != alert.fingerprint


@pytest.mark.parametrize(
    ("word", "status"),
    [("firing", "firing"), ("TRIGGERED", "firing"), ("ok", "resolved"), ("Resolved", "resolved")],
)
def test_status_words(word: str, status: str) -> None:
    payload = {"name": "X", "starts_at": 0, "status": word}
    assert parse_alert(payload)[0].status == status


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"name": "X", "starts_at": 0, "status": "bogus"},
            "generic: status: expected one of alarm, closed, firing, ok, open, problem,"
            " recovered, resolved, triggered, got 'bogus'",
        ),
        ({"name": "X"}, "generic: starts_at: missing"),
        ({"name": "", "starts_at": 0}, "generic: name: missing"),
        (
            [{"name": "X", "starts_at": 0}, {"name": "Y"}],
            "generic: [1].starts_at: missing",
        ),
        (
            {"name": "X", "starts_at": 0, "labels": {"env": ["prod"]}},
            "generic: labels.env: expected a string, got list",
        ),
    ],
)
def test_malformed_generic_alerts_name_the_field(payload: Any, message: str) -> None:
    with pytest.raises(AlertParseError) as caught:
        parse_alert(payload, source="generic")
    assert str(caught.value) == message
