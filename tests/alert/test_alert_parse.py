"""Dispatch: source detection, input forms, and errors that never escape raw."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.alert import (
    Alert,
    AlertParseError,
    SnsSubscriptionConfirmation,
    detect_source,
    parse_alert,
)

Load = Callable[[str], Any]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"
FIXTURE_NAMES = sorted(path.name for path in FIXTURES.glob("*.json"))


def read_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _source_of(fixture_name: str) -> str:
    """Fixtures are named `<source>_<case>.json`."""
    return fixture_name.removesuffix(".json").split("_")[0]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_fixture_is_detected_as_its_source(name: str) -> None:
    assert detect_source(read_fixture(name)) == _source_of(name)


@pytest.mark.parametrize("name", [n for n in FIXTURE_NAMES if "subscription" not in n])
def test_dict_text_and_bytes_parse_alike(name: str) -> None:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    expected = parse_alert(json.loads(text))
    assert expected
    assert parse_alert(text) == expected
    assert parse_alert(text.encode("utf-8")) == expected
    assert parse_alert(text, source=_source_of(name)) == expected


def test_explicit_source_wins_over_the_shape() -> None:
    payload = {"name": "Export late", "starts_at": 0, "event_type": "cron"}
    assert detect_source(payload) == "datadog"
    assert parse_alert(payload, source="generic")[0].source == "generic"


def test_explicit_source_that_does_not_fit_says_what_is_missing(load: Load) -> None:
    with pytest.raises(AlertParseError, match=r"^cloudwatch: payload: not a CloudWatch alarm"):
        parse_alert(load("alertmanager_firing.json"), source="cloudwatch")
    with pytest.raises(AlertParseError, match=r"^alertmanager: alerts: missing$"):
        parse_alert(load("generic.json"), source="alertmanager")


def test_unknown_source_name() -> None:
    with pytest.raises(AlertParseError) as caught:
        parse_alert({"name": "x", "starts_at": 0}, source="pagerduty")
    assert str(caught.value) == (
        "alert: source: expected one of alertmanager, cloudwatch, datadog, generic, got 'pagerduty'"
    )


def test_unknown_shape_lists_what_was_looked_for() -> None:
    with pytest.raises(AlertParseError) as caught:
        parse_alert({"event": "disk full", "host": "web-3"})
    message = str(caught.value)
    assert message.startswith("alert: payload: unknown alert format, got keys 'event', 'host';")
    for source in ("alertmanager:", "cloudwatch:", "datadog:", "generic:"):
        assert source in message
    with pytest.raises(AlertParseError, match=r"got a JSON string"):
        parse_alert('"just text"')


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{not json", r"^alert: payload: not JSON: "),
        (b"\xff\xfe\x00", r"^alert: payload: not UTF-8 text: byte 0xff at offset 0$"),
        ("[" * 100_000 + "]" * 100_000, r"^alert: payload: nested too deeply$"),
    ],
)
def test_undecodable_payloads(payload: str | bytes, message: str) -> None:
    with pytest.raises(AlertParseError, match=message):
        parse_alert(payload)


def test_decoding_errors_name_the_explicit_source() -> None:
    with pytest.raises(AlertParseError, match=r"^datadog: payload: not JSON: "):
        parse_alert("{", source="datadog")


def test_service_is_found_even_past_the_label_limit(load: Load) -> None:
    payload = load("alertmanager_firing.json")
    labels = {f"extra_{i}": "x" * 10_000 for i in range(5_000)}
    payload["alerts"][0]["labels"] = {"alertname": "Huge", **labels, "service": "checkout"}
    payload["alerts"][0]["annotations"] = {"description": "y" * 5_000_000}
    alert = parse_alert(payload)[0]
    assert alert.service == "checkout"
    assert len(alert.labels) == 100
    assert len(alert.summary) == 2_000


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        yield path
        return
    yield path
    for key, child in items:
        yield from _leaves(child, (*path, key))


_ODD_VALUES = [None, [], {}, 1e400, -1, "", "yesterday", True, [{}], "0001-01-01T00:00:00Z"]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_any_mangled_field_gives_alerts_or_a_parse_error(name: str) -> None:
    """Replace every field of every fixture with odd values: nothing but
    AlertParseError (or the SNS handshake) may come out."""
    original = read_fixture(name)
    source = detect_source(original)
    refused = 0
    for path in _leaves(original):
        if not path:
            continue
        for odd in _ODD_VALUES:
            payload = copy.deepcopy(original)
            parent = payload
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = odd
            try:
                alerts = parse_alert(payload, source=source)
            except AlertParseError:
                refused += 1
            except SnsSubscriptionConfirmation:
                continue
            else:
                assert all(isinstance(alert, Alert) for alert in alerts)
    assert refused > 0
