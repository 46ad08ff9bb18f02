"""Log template shifts on hand-made counts: what is news, and what is the system's weather."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tools.analysis.log_shifts import LogShift, log_shifts
from tools.analysis.split import Split
from tools.telemetry.models import TemplateCounts

ALERT = 100_000.0
SPLIT = Split.around(alert_s=ALERT, now_s=ALERT + 180.0)
ONSET = SPLIT.onset_s
CHARGED = "PaymentService#31 charged order <N>"
AUDIT = "AuditLog#12 wrote audit record <N> for user <N>"
TIMEOUT = "PaymentService#57 Timeout acquiring connection from pool after <N> ms"
Row = tuple[float, str, str, int]  # time, level, template, count (service "pay")


def counts(rows: Iterable[Row]) -> TemplateCounts:
    rows = list(rows)
    text = lambda values: np.array(values, dtype=object)  # noqa: E731
    return TemplateCounts(
        bucket_s=np.array([r[0] for r in rows], dtype=np.float64),
        service=text(["pay"] * len(rows)),
        level=text([r[1] for r in rows]),
        template=text([r[2] for r in rows]),
        count=np.array([r[3] for r in rows], dtype=np.int64),
        example=text([r[2] for r in rows]),
    )


def minutes(start: float, end: float) -> list[float]:
    return [float(t) for t in np.arange(start, end, 60.0)]


def steady(start: float = ONSET - 1800, end: float = SPLIT.now_s) -> list[Row]:
    """A service that charges 20 orders and writes 10 audit records a minute."""
    return [
        row
        for t in minutes(start, end)
        for row in ((t, "INFO", CHARGED, 20), (t, "INFO", AUDIT, 10))
    ]


def shifts_of(rows: Iterable[Row], template: str) -> list[LogShift]:
    return [
        s for s in log_shifts(counts(rows), SPLIT, 60.0) if s.template.startswith(template[:20])
    ]


def test_a_new_error_after_the_onset_is_news() -> None:
    errors = [(t, "ERROR", TIMEOUT, 5) for t in minutes(ONSET + 5, SPLIT.now_s)]
    (shift,) = shifts_of(steady() + errors, TIMEOUT)
    assert shift.kind == "new" and shift.is_error
    assert shift.current_count == 5 * len(errors) and shift.z >= 3


def test_a_line_that_stops_while_the_service_keeps_logging_vanished() -> None:
    rows = [r for r in steady() if not (r[2] == CHARGED and r[0] >= ONSET)]
    (shift,) = shifts_of(rows, CHARGED)
    assert shift.kind == "vanished" and shift.current_count == 0 and shift.expected > 8


def test_a_line_that_follows_the_request_mix_may_come_and_go() -> None:
    branch = "SeatService#154 left tickets for train type <N>"
    wandering = [
        (t, "INFO", branch, [0, 20, 3, 25, 0, 18][i % 6])
        for i, t in enumerate(minutes(ONSET - 1800, ONSET))
    ]
    assert not shifts_of(steady() + wandering, branch)


def test_a_burst_under_way_before_the_onset_is_not_the_fault() -> None:
    burst = [(t, "ERROR", TIMEOUT, 5) for t in minutes(ONSET - 30, SPLIT.now_s)]
    assert not shifts_of(steady() + burst, TIMEOUT)


def test_a_burst_like_those_that_keep_coming_back_is_weather() -> None:
    past = [(t, "ERROR", TIMEOUT, 6) for t in (ONSET - 1500, ONSET - 1000, ONSET - 500)]
    now = [(ONSET + 65, "ERROR", TIMEOUT, 6)]
    assert not shifts_of(steady() + past + now, TIMEOUT)
    # Two earlier bursts (the same fault striking twice before) do not hide a third.
    assert shifts_of(steady() + past[1:] + now, TIMEOUT)


def test_lines_seconds_after_the_onset_never_land_in_the_baseline() -> None:
    fine = [(ONSET + 5 * k, "ERROR", TIMEOUT, 1) for k in range(1, 8)]
    (shift,) = shifts_of(steady() + fine, TIMEOUT)
    assert shift.current_count == 7 and shift.baseline_count == 0


def test_nothing_without_a_baseline() -> None:
    assert log_shifts(counts(steady(start=ONSET)), SPLIT, 60.0) == []
