"""Time ranges on the backend clock, caps and name patterns shared by every tool."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from tests.support.synthetic import SyntheticDataset
from tools.bounds import (
    TimeRange,
    ToolInputError,
    clip,
    ellipsize,
    match_names,
    parse_duration,
    require_name,
    resolve_time,
    sig,
    take,
)
from tools.telemetry.replay.backend import ReplayBackend

NOW_S = 1_700_000_000.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("2h", 7200), ("1h30m", 5400), ("1d", 86400), (" 1.5 h ", 5400)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "15", "m", "15 minutes", "-5m", "1h-30m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW_S),
        ("-15m", NOW_S - 900),
        ("15m", NOW_S - 900),
        ("now-2h", NOW_S - 7200),
        ("2023-11-14T22:13:20Z", 1_700_000_000.0),
        ("2023-11-14T23:13:20+01:00", 1_700_000_000.0),
        ("2023-11-14T22:13:20", 1_700_000_000.0),  # no offset: UTC
    ],
)
def test_resolve_time(text: str, expected: float) -> None:
    assert resolve_time(text, NOW_S) == expected


def test_resolve_time_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        resolve_time("yesterday", NOW_S)


def test_default_range_is_the_last_hour(backend: ReplayBackend) -> None:
    window = TimeRange().window(backend)
    assert window.end == backend.now
    assert window.seconds == 3600


def test_range_never_reaches_past_now(backend: ReplayBackend) -> None:
    later = backend.now + timedelta(hours=1)
    window = TimeRange(start="-30m", end=later).window(backend)
    assert window.end == backend.now
    assert window.seconds == 1800


def test_range_wholly_in_the_future_is_empty_at_now(backend: ReplayBackend) -> None:
    later = backend.now + timedelta(hours=1)
    window = TimeRange(start=later, end=later + timedelta(hours=1)).window(backend)
    assert window.start == window.end == backend.now


def test_start_after_now_names_start(backend: ReplayBackend) -> None:
    with pytest.raises(ToolInputError, match="after the range's end") as caught:
        TimeRange(start=backend.now + timedelta(minutes=1)).window(backend)
    assert caught.value.field == "start"


def test_last_counts_back_from_end(backend: ReplayBackend) -> None:
    window = TimeRange(end="-1h", last="30m").window(backend)
    assert window.end == backend.now - timedelta(hours=1)
    assert window.start == backend.now - timedelta(hours=1, minutes=30)


def test_aware_and_naive_datetimes_are_accepted(synthetic: SyntheticDataset) -> None:
    backend = synthetic.backend()
    start = synthetic.spec.fault_start
    naive = TimeRange(start=start.replace(tzinfo=None)).window(backend)
    aware = TimeRange(start=start.astimezone(UTC)).window(backend)
    assert naive == aware
    assert aware.start == start


def test_start_and_last_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="either 'start' or 'last'"):
        TimeRange(start="-1h", last="10m")


def test_start_after_end_names_start(backend: ReplayBackend) -> None:
    with pytest.raises(ToolInputError) as caught:
        TimeRange(start="-10m", end="-1h").window(backend)
    assert caught.value.field == "start"


def test_bad_time_is_a_validation_error_on_its_field() -> None:
    with pytest.raises(ValidationError) as caught:
        TimeRange(end="tomorrow-ish")
    assert caught.value.errors()[0]["loc"] == ("end",)


def test_take_reports_what_it_left_out() -> None:
    assert take([1, 2, 3, 4], 3) == ([1, 2, 3], 1)
    assert take([1], 3) == ([1], 0)


def test_clip_says_how_much_it_cut() -> None:
    assert clip("short", 10) == "short"
    assert clip("a" * 50, 10) == "a" * 10 + "…[+40 chars]"


def test_sig_rounds_to_significant_digits() -> None:
    assert sig(0.000123456789) == 0.000123457
    assert sig(123456789.0) == 123457000.0
    assert sig(0.0) == 0.0
    assert sig(float("nan")) is None


def test_match_names_globs_commas_and_case() -> None:
    names = ["payment", "checkout", "cart", "catalog"]
    assert match_names("PAY*", names, "service") == ["payment"]
    assert match_names("ca*,checkout", names, "service") == ["cart", "catalog", "checkout"]
    assert match_names(None, names, "service") is None


def test_match_names_suggests_close_names() -> None:
    with pytest.raises(ToolInputError, match="did you mean payment") as caught:
        match_names("paymnet", ["payment", "cart"], "service")
    assert caught.value.field == "service"


def test_require_name_wants_an_exact_name() -> None:
    assert require_name("cart", ["cart"], "service") == "cart"
    with pytest.raises(ToolInputError, match="unknown name 'ca\\*'"):
        require_name("ca*", ["cart"], "service")


def test_synthetic_now_is_the_backend_clock(synthetic: SyntheticDataset) -> None:
    assert synthetic.backend().now == synthetic.spec.now
    assert synthetic.spec.now == datetime(2024, 3, 1, 12, 5, tzinfo=UTC)


def test_ellipsize_cuts_at_a_word_and_says_so() -> None:
    text = "Call to orders-db failed: could not serialize access due to concurrent update"
    cut = ellipsize(text, 40)
    assert len(cut) <= 40 and cut.endswith("…")
    assert cut == "Call to orders-db failed: could not…"
    assert ellipsize(text, len(text)) == text
    assert ellipsize("x" * 50, 10) == "x" * 9 + "…"  # no space near: cut hard
