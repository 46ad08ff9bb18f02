"""Trace shifts on hand-made span sums: own time, failures, calls that stopped."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tools.analysis.split import Split
from tools.analysis.trace_shifts import TraceShift, trace_shifts
from tools.telemetry.models import SpanStats

ALERT = 100_000.0
SPLIT = Split.around(alert_s=ALERT, now_s=ALERT + 180.0)
ONSET = SPLIT.onset_s
Row = tuple[float, str, str, str, float, float, float]  # t, service, op, peer, n, self ms, errors


def stats(rows: Iterable[Row]) -> SpanStats:
    rows = list(rows)
    text = lambda i: np.array([r[i] for r in rows], dtype=object)  # noqa: E731
    number = lambda i: np.array([r[i] for r in rows], dtype=np.float64)  # noqa: E731
    return SpanStats(
        bucket_s=number(0),
        service=text(1),
        operation=text(2),
        peer=text(3),
        count=number(4),
        self_ms=number(5),
        duration_ms=number(5),
        errors=number(6),
    )


def minutes(start: float, end: float) -> list[float]:
    return [float(t) for t in np.arange(start, end, 60.0)]


def normal(t: float) -> list[Row]:
    return [
        (t, "pay", "Charge", "", 30, 30 * (10 + (t // 60) % 3), 0),
        (t, "pay", "SELECT payments", "", 30, 60, 0),
        (t, "pay", "HTTP POST", "bank", 20, 100, 0),
    ]


def window(change: dict[str, Row] | None = None) -> list[Row]:
    """Thirty normal minutes, then the current window with some operations replaced."""
    rows = [row for t in minutes(ONSET - 1800, ONSET) for row in normal(t)]
    for t in minutes(ONSET, SPLIT.now_s):
        for row in normal(t):
            rows.append((t, *change[row[2]][1:]) if change and row[2] in change else row)
    return rows


def kinds(found: list[TraceShift]) -> set[tuple[str, str, str]]:
    return {(s.kind, s.service, s.operation) for s in found}


def test_a_quiet_window_has_no_shifts() -> None:
    assert trace_shifts(stats(window()), SPLIT, 60.0) == []


def test_own_time_that_grew_is_kept_with_its_share_of_the_time() -> None:
    found = trace_shifts(
        stats(window({"Charge": (0, "pay", "Charge", "", 30, 30 * 200, 0)})), SPLIT, 60.0
    )
    (shift,) = [s for s in found if s.kind == "self_time"]
    assert shift.operation == "Charge" and shift.current == 200 and shift.share_of_time > 0.9


def test_a_grown_gap_on_a_client_span_is_an_edge() -> None:
    found = trace_shifts(
        stats(window({"HTTP POST": (0, "pay", "HTTP POST", "bank", 20, 20 * 90, 0)})), SPLIT, 60.0
    )
    assert ("edge_gap", "pay", "HTTP POST") in kinds(found)


def test_failures_and_calls_that_stopped() -> None:
    found = trace_shifts(
        stats(window({
            "Charge": (0, "pay", "Charge", "", 30, 330, 12),
            "SELECT payments": (0, "pay", "SELECT payments", "", 0, 0, 0),
        })),
        SPLIT,
        60.0,
    )  # fmt: skip
    assert {("errors", "pay", "Charge"), ("calls_dropped", "pay", "SELECT payments")} <= kinds(
        found
    )
