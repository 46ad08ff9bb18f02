"""When did the fault begin (and is it over)? Read from the signals, not the alert.

Alerts fire late: a `for: 5m` rule, a 5-minute CloudWatch period, a group
wait. So the alert time is only an upper bound on the onset. Over a search
range reaching well before the alert, `activity` scores every service per
bucket; the incident's activity per bucket is the sum of its few most
abnormal services (a fault moves the culprit and whoever depends on it, noise
moves one service at a time). Episodes are runs of buckets whose incident
activity stands out from the search range's own typical level. The incident
is the most recent strong episode that began by the alert; its onset is that
episode's first bucket and its end the bucket after which activity stayed
quiet (or now, when it has not ended).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.analysis.activity import Activity

# The alert fires at most this long after the fault began.
SEARCH_S = 15 * 60.0
# ... and a bucket after the alert may still hold its first samples.
SLACK_BUCKETS = 1
TOP_SERVICES = 3
# Incident activity (a sum of squashed strengths) that counts as an episode at all.
MIN_LEVEL = 1.2
# An episode's buckets must be this many times the grid's median bucket.
LEVEL_OVER_MEDIAN = 3.0
# Quiet buckets that close an episode (one quiet bucket inside a fault is common).
QUIET_TO_END = 2
# A more recent episode wins unless it is this much weaker than the strongest.
RECENT_SHARE = 0.5
# A step up: the level over STEP_S after a bucket against its median over PRIOR_S before.
STEP_S = 180.0
PRIOR_S = 300.0
MIN_STEP = 0.5


@dataclass(frozen=True, slots=True)
class Episode:
    start_s: float
    end_s: float
    peak: float
    services: tuple[str, ...]


@dataclass(slots=True)
class Onset:
    """The incident's fault window as the data shows it."""

    onset_s: float
    end_s: float | None
    found: bool
    episode: Episode | None = None
    # Each service's own first abnormal bucket inside the episode.
    per_service: dict[str, float] = field(default_factory=dict)
    reason: str = ""


def incident_level(activity: Activity) -> np.ndarray:
    """Per bucket, the summed strength of the most abnormal few services, each above
    its own usual level over the grid (a service that always looks odd is not news)."""
    values = np.nan_to_num(activity.values, nan=0.0)
    if values.size == 0:
        return np.zeros(activity.grid.size)
    values = np.maximum(0.0, values - np.median(values, axis=1, keepdims=True))
    top = -np.sort(-values, axis=0)[:TOP_SERVICES]
    return top.sum(axis=0)


def episodes(activity: Activity) -> list[Episode]:
    """Runs of buckets whose incident level stands out, oldest first."""
    level = incident_level(activity)
    threshold = _threshold(level)
    hot = level >= threshold
    times = activity.grid.times()
    found: list[Episode] = []
    k = 0
    while k < len(hot):
        if not hot[k]:
            k += 1
            continue
        start, last, quiet = k, k, 0
        k += 1
        while k < len(hot) and quiet < QUIET_TO_END:
            if hot[k]:
                last, quiet = k, 0
            else:
                quiet += 1
            k += 1
        found.append(_episode(activity, level, start, last, times))
    return found


def _threshold(level: np.ndarray) -> float:
    """Well above the grid's typical bucket (faults are a minority of buckets)."""
    return max(MIN_LEVEL, LEVEL_OVER_MEDIAN * float(np.median(level)))


def _episode(
    activity: Activity, level: np.ndarray, start: int, last: int, times: np.ndarray
) -> Episode:
    values = np.nan_to_num(activity.values[:, start : last + 1], nan=0.0)
    strongest = np.argsort(-values.max(axis=1))[:TOP_SERVICES]
    bucket = activity.grid.bucket_s
    return Episode(
        start_s=float(times[start]),
        end_s=float(times[last] + bucket),
        peak=float(level[start : last + 1].max()),
        services=tuple(activity.services[i] for i in strongest if values[i].max() > 0),
    )


def steps(level: np.ndarray, width: int, before: int) -> np.ndarray:
    """Per bucket, how far the level over the next `width` buckets rose above its
    median over the `before` buckets before it: an onset is a local step up."""
    padded = np.concatenate([np.full(before, np.nan), level, np.full(width, np.nan)])
    ahead = np.lib.stride_tricks.sliding_window_view(padded[before:], width)[: len(level)]
    behind = np.lib.stride_tricks.sliding_window_view(padded, before)[: len(level)]
    after = np.nanmean(ahead, axis=1)
    prior = np.nan_to_num(np.nanmedian(behind, axis=1), nan=0.0)
    return np.nan_to_num(after - prior, nan=0.0)


def detect_onset(activity: Activity, alert_s: float, now_s: float) -> Onset:
    """The incident's fault window: the most recent clear step up in incident activity
    by the alert (within SEARCH_S of it), or no finding."""
    grid = activity.grid
    bucket = grid.bucket_s
    level = incident_level(activity)
    width = max(1, round(STEP_S / bucket))
    step = steps(level, width, max(2, round(PRIOR_S / bucket)))
    times = grid.times()
    in_range = (times >= alert_s - SEARCH_S - bucket) & (times <= alert_s)
    rises = in_range & (step >= MIN_STEP) & (step >= np.roll(step, 1)) & (step >= np.roll(step, -1))
    found = np.flatnonzero(rises)
    if found.size == 0:
        return Onset(onset_s=alert_s, end_s=None, found=False, reason="no step up stands out")
    strongest = float(step[found].max())
    k = int(next(i for i in found[::-1] if step[i] >= RECENT_SHARE * strongest))
    end = _quiet_after(level, k, float(np.median(level[max(0, k - 5) : k + 1])), step[k])
    end_s = None if end is None else float(times[end])
    episode = Episode(float(times[k]), end_s or now_s, float(level[k : k + width].max()), ())
    return Onset(
        onset_s=float(times[k]),
        end_s=end_s,
        found=True,
        episode=episode,
        per_service=_service_onsets(activity, episode),
        reason=f"{found.size} step(s) up in range; the latest clear one began"
        f" {(alert_s - times[k]) / 60:.0f} min before the alert",
    )


def _quiet_after(level: np.ndarray, start: int, prior: float, rise: float) -> int | None:
    """The first bucket after `start` from which the level stayed near its prior level
    for QUIET_TO_END buckets (None: it has not settled)."""
    quiet = level <= prior + rise / 2
    for k in range(start + 1, len(level) - QUIET_TO_END + 1):
        if quiet[k : k + QUIET_TO_END].all():
            return k
    return None


def _service_onsets(activity: Activity, episode: Episode) -> dict[str, float]:
    """Each service's first abnormal bucket from a little before the episode to its end."""
    times = activity.grid.times()
    bucket = activity.grid.bucket_s
    inside = (times >= episode.start_s - 2 * bucket) & (times < episode.end_s)
    values = np.nan_to_num(activity.values[:, inside], nan=0.0)
    hit = values >= MIN_LEVEL / TOP_SERVICES
    out: dict[str, float] = {}
    for i, service in enumerate(activity.services):
        first = np.flatnonzero(hit[i])
        if first.size:
            out[service] = float(times[inside][first[0]])
    return out
