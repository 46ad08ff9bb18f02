"""When did the fault begin, and is it over? Read from the signals, not the alert.

Alerts fire late: a `for: 5m` rule, a 5-minute CloudWatch period, a group
wait. So the alert time is only an upper bound on the onset. Every signal's
activity (tools.analysis.activity) is cut into episodes: runs of buckets where
it stayed abnormal (two buckets at least on a fine grid: one alone is a scrape
hiccup or a stray line). A fault starts episodes in several signals at once,
of the culprit and of whoever depends on it; noise starts them one at a time.
So each bucket gets the summed strength of the episodes that start there (or
one bucket either side), counting each service once, and the onset is the most
recent bucket by the alert where that sum is clearly high; the fault window
ends when the episodes that began it have ended (or now, if they have not).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.analysis.activity import Activity
from tools.analysis.codes import factorize

# The alert fires at most this long after the fault began.
SEARCH_S = 15 * 60.0
# Episodes on a grid this fine must hold for two buckets.
FINE_BUCKET_S = 120.0
TOP_SERVICES = 3
# Summed episode strength at a bucket that makes it an onset at all ...
MIN_MASS = 0.45
# ... and a more recent onset wins unless it is much weaker than the strongest.
RECENT_SHARE = 0.4
# A fault window runs at least this many buckets past its peak onset, and ends when
# activity stayed down for QUIET_BUCKETS, judged against the PRIOR_BUCKETS before it.
MIN_BUCKETS = 3
QUIET_BUCKETS = 2
PRIOR_BUCKETS = 5
TIE = 1e-9


@dataclass(slots=True)
class Onset:
    """The incident's fault window as the data shows it."""

    onset_s: float
    end_s: float | None
    found: bool
    mass: float = 0.0
    # When each service's own episode began (the services that moved with the fault).
    per_service: dict[str, float] = field(default_factory=dict)
    reason: str = ""


@dataclass(slots=True)
class _Episodes:
    """Per signal and bucket: the strength of the episode starting there (0 if none)
    and the bucket where that episode ends (exclusive)."""

    strength: np.ndarray
    end: np.ndarray


def episodes(activity: Activity) -> _Episodes:
    """Cut every signal's activity into episodes (runs of abnormal buckets)."""
    values = np.nan_to_num(activity.values, nan=0.0)
    if activity.grid.bucket_s <= FINE_BUCKET_S and values.shape[1] > 1:
        values = np.minimum(values, np.concatenate([values[:, 1:], values[:, -1:]], axis=1))
    hot = values > 0
    strength = np.zeros(values.shape)
    end = np.zeros(values.shape, dtype=np.int64)
    width = values.shape[1]
    for row in np.flatnonzero(hot.any(axis=1)):
        k = 0
        while k < width:
            if not hot[row, k]:
                k += 1
                continue
            start = k
            while k < width and hot[row, k]:
                k += 1
            strength[row, start] = values[row, start:k].max()
            end[row, start] = k
    # A run that began before the grid is not a start seen here.
    strength[:, 0] = 0.0
    return _Episodes(strength, end)


def onset_mass(activity: Activity, found: _Episodes) -> np.ndarray:
    """Per bucket, the summed strength of the strongest few services' episodes that
    start there (each service counted once), over that bucket and one either side."""
    if len(activity.owners) == 0:
        return np.zeros(activity.grid.size)
    here = _leading(activity, found.strength)
    padded = np.concatenate([[0.0], here, [0.0]])
    return padded[:-2] + padded[1:-1] + padded[2:]


def detect_onset(activity: Activity, alert_s: float, now_s: float) -> Onset:
    """The incident's fault window: the most recent clear onset by the alert (within
    SEARCH_S before it), or no finding."""
    return most_recent_clear(candidate_onsets(activity, alert_s, now_s), alert_s)


def most_recent_clear(candidates: list[Onset], alert_s: float) -> Onset:
    """Of the candidates (most recent first), the most recent that is not much weaker
    than the strongest; no finding when there are none."""
    if not candidates:
        return Onset(onset_s=alert_s, end_s=None, found=False, reason="no onset stands out")
    strongest = max(onset.mass for onset in candidates)
    return next(onset for onset in candidates if onset.mass >= RECENT_SHARE * strongest)


def candidate_onsets(activity: Activity, alert_s: float, now_s: float) -> list[Onset]:
    """Every clear onset within SEARCH_S before the alert, most recent first."""
    grid = activity.grid
    found = episodes(activity)
    mass = onset_mass(activity, found)
    times = grid.times()
    in_range = (times >= alert_s - SEARCH_S - grid.bucket_s) & (times <= alert_s)
    before = np.concatenate([[0.0], mass[:-1]])
    after = np.concatenate([mass[1:], [0.0]])
    # Sums of the same strengths added in another order differ in the last bits: a
    # plateau (equal masses) must not hide its first bucket, so compare with a tolerance.
    rises = mass > before + TIE
    peaks = np.flatnonzero(in_range & (mass >= MIN_MASS) & rises & (mass >= after - TIE))
    level = _leading(activity, np.nan_to_num(activity.values, nan=0.0))
    return [
        _onset_at(activity, found, level, float(mass[k]), int(k), alert_s=alert_s, now_s=now_s)
        for k in peaks[::-1]
    ]


def _onset_at(
    activity: Activity,
    found: _Episodes,
    level: np.ndarray,
    mass: float,
    k: int,
    *,
    alert_s: float,
    now_s: float,
) -> Onset:
    """The fault window whose onset mass peaks at bucket `k`."""
    grid = activity.grid
    times = grid.times()
    starters = _starters(activity, found, max(0, k - 1), k + 1)
    onset = min(start for _, start in starters.values())
    end_bucket = _quiet_after(level, onset, k)
    end_s = now_s if end_bucket is None else float(grid.start_s + end_bucket * grid.bucket_s)
    return Onset(
        onset_s=float(times[onset]),
        end_s=None if end_s >= now_s - grid.bucket_s else end_s,
        found=True,
        mass=mass,
        per_service={s: float(times[start]) for s, (_, start) in starters.items()},
        reason=f"episodes began {(alert_s - times[onset]) / 60:.0f} min before the alert",
    )


def _leading(activity: Activity, values: np.ndarray) -> np.ndarray:
    """Per bucket, the sum over the TOP_SERVICES services highest there of each
    service's highest value among its signals (rows of `values`)."""
    services, code = factorize(np.asarray(activity.owners, dtype=object))
    per_service = np.zeros((len(services), values.shape[1]))
    np.maximum.at(per_service, code, values)
    return (-np.sort(-per_service, axis=0))[:TOP_SERVICES].sum(axis=0)


def _quiet_after(level: np.ndarray, onset: int, peak: int) -> int | None:
    """The first bucket, at least MIN_BUCKETS past the peak, from which the leading
    services' activity (`_leading`) stayed back near its level before the onset
    for QUIET_BUCKETS buckets (None: it has not settled by now)."""
    prior = float(np.median(level[max(0, onset - PRIOR_BUCKETS) : onset])) if onset else 0.0
    high = float(level[onset : peak + 2].max())
    quiet = level <= prior + (high - prior) / 2
    for k in range(peak + MIN_BUCKETS, len(level) - QUIET_BUCKETS + 1):
        if quiet[k : k + QUIET_BUCKETS].all():
            return k
    return None


def _starters(
    activity: Activity, found: _Episodes, first: int, last: int
) -> dict[str, tuple[int, int]]:
    """The strongest few services whose episodes start in buckets `first`..`last`: each
    with its strongest such (signal row, start bucket)."""
    window = found.strength[:, first : last + 1]
    best: dict[str, tuple[float, int, int]] = {}
    for row, offset in zip(*np.nonzero(window > 0), strict=True):
        service = activity.owners[row]
        value = float(window[row, offset])
        if service not in best or value > best[service][0]:
            best[service] = (value, int(row), first + int(offset))
    top = sorted(best.items(), key=lambda item: -item[1][0])[:TOP_SERVICES]
    return {service: (row, start) for service, (_, row, start) in top}
