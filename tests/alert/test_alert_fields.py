"""Timestamps, field paths and the bounds on untrusted text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.alert.errors import AlertParseError
from agent.alert.fields import Fields, parse_timestamp
from agent.alert.models import LABELS_MAX, NAME_MAX_CHARS, TEXT_MAX_CHARS, Alert

WHEN = datetime(2023, 4, 13, 15, 19, 19, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2023-04-13T15:19:19Z",
        "2023-04-13T17:19:19+02:00",
        "2023-04-13T15:19:19.000+0000",  # CloudWatch
        "2023-04-13T10:19:19-0500",
        "2023-04-13T15:19:19",  # no offset: taken as UTC
        1681399159,
        1681399159.0,
        "1681399159",
        1681399159000,  # milliseconds (Datadog $DATE)
        "1681399159000",
    ],
)
def test_timestamps_normalise_to_aware_utc(value: object) -> None:
    parsed = parse_timestamp(value)
    assert parsed == WHEN
    assert parsed.utcoffset() == timedelta(0)


def test_nanosecond_timestamps_keep_microseconds() -> None:
    parsed = parse_timestamp("2018-08-03T09:52:26.739266876+02:00")
    assert parsed == datetime(2018, 8, 3, 7, 52, 26, 739266, tzinfo=UTC)


@pytest.mark.parametrize(
    "value", ["yesterday", "", "13/04/2023", True, None, {}, [], 10**17, float("nan")]
)
def test_non_timestamps_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(value)


def test_go_zero_time_is_unset() -> None:
    body = Fields("alertmanager", {"endsAt": "0001-01-01T00:00:00Z"})
    assert body.time("endsAt") is None


def test_errors_name_source_path_and_value() -> None:
    body = Fields.of("alertmanager", {"alerts": [{"startsAt": "yesterday"}]})
    entry = body.objects("alerts")[0]
    with pytest.raises(AlertParseError) as caught:
        entry.need_time("startsAt")
    assert str(caught.value) == "alertmanager: alerts[0].startsAt: not a timestamp: 'yesterday'"


def test_errors_quote_only_the_start_of_a_huge_value() -> None:
    body = Fields("generic", {"starts_at": "x" * 1_000_000})
    with pytest.raises(AlertParseError) as caught:
        body.time("starts_at")
    assert len(str(caught.value)) < 200


def test_wrong_types_are_reported_not_raised_raw() -> None:
    body = Fields("generic", {"labels": {"env": {"nested": 1}}, "alerts": {}, "name": []})
    with pytest.raises(AlertParseError, match=r"^generic: labels\.env: expected a string"):
        body.mapping("labels")
    with pytest.raises(AlertParseError, match=r"^generic: alerts: expected a list, got object"):
        body.objects("alerts")
    with pytest.raises(AlertParseError, match=r"^generic: name: expected a string, got list"):
        body.text("name")


def test_scalars_read_as_text() -> None:
    body = Fields("generic", {"a": 3, "b": True, "c": "  x  ", "d": ""})
    assert (body.text("a"), body.text("b"), body.text("c"), body.text("d")) == (
        "3",
        "true",
        "x",
        None,
    )


def test_alert_bounds_untrusted_text() -> None:
    alert = Alert(
        source="generic",
        fingerprint="f" * 1000,
        name="n" * 1000,
        starts_at=WHEN,
        summary="s" * 1_000_000,
        labels={f"k{i}": "v" * 5000 for i in range(1000)},
        annotations={"description": "d" * 1_000_000},
    )
    assert len(alert.summary) == TEXT_MAX_CHARS
    assert alert.summary.endswith("…")
    assert len(alert.name) == len(alert.fingerprint) == NAME_MAX_CHARS
    assert len(alert.labels) == LABELS_MAX
    assert all(len(value) == TEXT_MAX_CHARS for value in alert.labels.values())
    assert len(alert.annotations["description"]) == TEXT_MAX_CHARS
