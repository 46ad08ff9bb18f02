"""Onset from the data: signals scored per bucket, episodes, the most recent clear onset."""

from __future__ import annotations

import numpy as np

from tools.analysis.activity import Activity, Grid, log_activity, metric_activity
from tools.analysis.onset import SEARCH_S, candidate_onsets, detect_onset
from tools.telemetry.models import Series, SeriesKey, TemplateCounts

MINUTE = 60.0
ALERT = 1_800_000_000.0 - 1_800_000_000.0 % 3600  # on the clock hour
START = ALERT - 2 * SEARCH_S - 2 * 3600
GRID = Grid(ALERT - 2 * SEARCH_S - MINUTE, ALERT + 10 * MINUTE, MINUTE, ALERT - SEARCH_S - MINUTE)
TS = np.arange(START, GRID.end_s, MINUTE)


def noisy(level: float, seed: int) -> np.ndarray:
    return level * (1 + 0.03 * np.random.default_rng(seed).standard_normal(len(TS)))


def bumped(level: float, peak: float, start: float, minutes: int, seed: int) -> np.ndarray:
    values = noisy(level, seed)
    values[(start <= TS) & (start + minutes * MINUTE > TS)] = peak
    return values


def series(service: str, metric: str, values: np.ndarray) -> Series:
    return Series(SeriesKey(service, f"{service}-0", metric), TS, values.astype(np.float64))


def estate(**faults: np.ndarray) -> list[Series]:
    """Quiet cart, checkout and search, with the given (service -> latency) overrides."""
    quiet = {s: noisy(0.05, i) for i, s in enumerate(("cart", "checkout", "search"))}
    return [series(s, "latency_p95_s", faults.get(s, v)) for s, v in quiet.items()]


def test_a_fault_that_began_minutes_before_a_late_alert_is_found_where_it_began() -> None:
    began = ALERT - 9 * MINUTE
    slow = bumped(0.05, 0.9, began, 30, 7)
    found = detect_onset(metric_activity(estate(cart=slow), GRID), ALERT, GRID.end_s)
    assert found.found and found.onset_s == began
    assert found.end_s is None  # still going at now
    assert found.per_service == {"cart": began}


def test_a_fault_already_over_ends_where_it_went_quiet() -> None:
    began = ALERT - 12 * MINUTE
    slow = bumped(0.05, 0.9, began, 3, 8)
    found = detect_onset(metric_activity(estate(cart=slow), GRID), ALERT, GRID.end_s)
    assert found.found and found.onset_s == began
    assert found.end_s is not None and began + 3 * MINUTE <= found.end_s < ALERT


def test_of_two_faults_before_the_alert_the_latest_is_the_incident() -> None:
    earlier, latest = ALERT - 13 * MINUTE, ALERT - 4 * MINUTE
    first = bumped(0.05, 0.9, earlier, 3, 9)
    second = bumped(0.05, 0.9, latest, 3, 10)
    activity = metric_activity(estate(cart=first, search=second), GRID)
    found = detect_onset(activity, ALERT, GRID.end_s)
    assert found.onset_s == latest and set(found.per_service) == {"search"}
    # Both stay candidates (a late alert may be the earlier one's), the latest first.
    both = candidate_onsets(activity, ALERT, GRID.end_s)
    assert [(o.onset_s, set(o.per_service)) for o in both] == [
        (latest, {"search"}),
        (earlier, {"cart"}),
    ]
    assert both[0] == found and both[1].end_s is not None and both[1].end_s <= latest


def test_a_fault_after_the_alert_is_not_the_alerts() -> None:
    after = ALERT + 2 * MINUTE
    found = detect_onset(
        metric_activity(estate(cart=bumped(0.05, 0.9, after, 5, 11)), GRID), ALERT, GRID.end_s
    )
    assert not found.found


def test_a_one_sample_hiccup_is_no_episode() -> None:
    hiccup = noisy(0.05, 12)
    hiccup[np.argmin(np.abs(TS - (ALERT - 5 * MINUTE)))] = 0.9
    found = detect_onset(metric_activity(estate(cart=hiccup), GRID), ALERT, GRID.end_s)
    assert not found.found


def test_a_new_error_line_is_scanned_over_minutes_and_starts_where_it_began() -> None:
    began = ALERT - 6 * MINUTE
    rows: list[tuple[float, str, str, int]] = [
        (t, "INFO", "served order <N>", 30) for t in TS[TS >= ALERT - 2 * 3600]
    ]
    rows += [(t, "ERROR", "Timeout calling inventory", 4) for t in TS[(began <= TS)]]
    counts = TemplateCounts(
        bucket_s=np.array([r[0] for r in rows]),
        service=np.array(["checkout"] * len(rows), dtype=object),
        level=np.array([r[1] for r in rows], dtype=object),
        template=np.array([r[2] for r in rows], dtype=object),
        count=np.array([r[3] for r in rows], dtype=np.int64),
        example=np.array([r[2] for r in rows], dtype=object),
    )
    activity = log_activity(counts, GRID)
    assert set(activity.owners) == {"checkout"}
    found = detect_onset(activity, ALERT, GRID.end_s)
    assert found.found and found.onset_s == began


def test_without_any_signal_nothing_is_found() -> None:
    found = detect_onset(Activity.empty(GRID), ALERT, GRID.end_s)
    assert not found.found and found.onset_s == ALERT


def test_an_onset_whose_mass_ties_with_the_next_bucket_is_still_found() -> None:
    """The alert's bucket and the one after carry the same summed strength, added in
    another order (0.3 + 0.2 + 0.1 against 0.2 + 0.1 + 0.3): the last bits of a float must
    not hide the onset (a CPU fault one minute before its alert went unseen this way)."""
    alert = int(GRID.column(np.array([ALERT]))[0])
    values = np.zeros((4, GRID.size))
    for row, (start, strength) in enumerate(((-1, 0.3), (0, 0.2), (1, 0.1), (2, 0.3))):
        values[row, alert + start : alert + start + 3] = strength
    activity = Activity(GRID, ["api", "db", "cache", "queue"], values)
    found = detect_onset(activity, ALERT + 30, GRID.end_s)
    assert found.found and found.onset_s == ALERT - MINUTE
    assert set(found.per_service) == {"api", "db", "cache"}
