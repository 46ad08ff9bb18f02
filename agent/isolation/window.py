"""The incident's fault window: where "before" ends and "during" begins, from the data.

The alert time is only an upper bound (alerts fire late). The snapshot reaches
SEARCH_S before the alert plus an hour of reference; onset detection
(tools.analysis.onset) reads every signal's activity over it. When it finds an
onset, the split runs from there to where the fault went quiet (or now); when
nothing stands out, the split falls back to a lead before the alert and says so.
When several onsets could explain the alert (or none stands out and the fault
may have begun anywhere in the search range), `fault_windows` weighs each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from agent.isolation.snapshot import FINEST_BUCKET_S, Snapshot
from tools.analysis.activity import (
    Activity,
    Grid,
    log_activity,
    metric_activity,
    trace_activity,
)
from tools.analysis.onset import SEARCH_S, Onset, candidate_onsets, most_recent_clear
from tools.analysis.split import Split, on_bucket
from tools.telemetry.models import TimeWindow

REFERENCE_S = 3600.0
# Room for the onset to sit a few buckets before the search range.
MARGIN_S = 600.0
# Count signals are scanned over windows of a few buckets from each bucket, so on a
# fine grid an episode can show a bucket or more early; candidate starts cover that.
EARLY_BUCKETS = 1
LATE_BUCKETS = 4
# The fault window runs on a bucket past the last abnormal one.
END_MARGIN_BUCKETS = 1
# A late alert, or faults in quick succession, leave several onsets that could explain
# the alert; the ranking is averaged over the heaviest few (agent.isolation.averaging).
MAX_ONSETS = 4
# With no clear onset, the fault is assumed to have begun this long before the alert.
ASSUMED_LEADS_S = (120.0, 420.0, 720.0)


@dataclass(frozen=True, slots=True)
class FaultWindow:
    split: Split
    onset: Onset


def snapshot_window(alert_s: float, now_s: float) -> TimeWindow:
    """What the triage reads: an hour of reference before the search range, up to now."""
    start = min(alert_s, now_s) - SEARCH_S - REFERENCE_S - MARGIN_S
    return TimeWindow.of(start, now_s)


@dataclass(frozen=True, slots=True)
class FaultWindows:
    """The windows the fault may lie in, heaviest first with weights summing to 1 (what
    the engine ranks), and the most recent clear onset's (what the weights are fitted on)."""

    plausible: list[tuple[FaultWindow, float]]
    latest: FaultWindow


def fault_windows(snapshot: Snapshot, alert_s: float, now_s: float) -> FaultWindows:
    """The plausible windows: the MAX_ONSETS clear onsets weighed by their mass,
    discounted by 1/e per SEARCH_S before the alert; assumed onsets across the search
    range when none stands out (the latest is then the alert's two-minute lead)."""
    alert_s = min(alert_s, now_s)
    activity = _activity(snapshot, alert_s, now_s, snapshot.bucket_s)
    onsets = candidate_onsets(activity, alert_s, now_s)
    latest = window_at(most_recent_clear(onsets, alert_s), snapshot, alert_s, now_s)
    if not onsets:
        return FaultWindows(_assumed_windows(latest.onset, snapshot, alert_s, now_s), latest)
    weighed = sorted(
        ((o, o.mass * math.exp(-(alert_s - o.onset_s) / SEARCH_S)) for o in onsets),
        key=lambda pair: -pair[1],
    )[:MAX_ONSETS]
    total = sum(weight for _, weight in weighed)
    plausible = [(window_at(o, snapshot, alert_s, now_s), w / total) for o, w in weighed]
    return FaultWindows(plausible, latest)


def _assumed_windows(
    none: Onset, snapshot: Snapshot, alert_s: float, now_s: float
) -> list[tuple[FaultWindow, float]]:
    """With no onset in the data (`none`), the fault began at an unknown time in the search
    range: windows at ASSUMED_LEADS_S before the alert, weighed as onsets are (by how long
    before)."""
    weights = [math.exp(-lead / SEARCH_S) for lead in ASSUMED_LEADS_S]
    total = sum(weights)
    return [
        (window_at(none, snapshot, alert_s, now_s, lead_s=lead), weight / total)
        for lead, weight in zip(ASSUMED_LEADS_S, weights, strict=True)
    ]


def window_at(
    onset: Onset, snapshot: Snapshot, alert_s: float, now_s: float, lead_s: float = 120.0
) -> FaultWindow:
    """The split around one onset (the alert's lead when the data showed none)."""
    bucket = snapshot.bucket_s
    start = snapshot.metrics_start_s
    lookback = alert_s - start if snapshot.long_lookback and start is not None else REFERENCE_S
    if not onset.found:
        return FaultWindow(Split.around(alert_s, now_s, lookback_s=lookback, lead_s=lead_s), onset)
    end = None if onset.end_s is None else onset.end_s + END_MARGIN_BUCKETS * bucket
    early = EARLY_BUCKETS * bucket if bucket <= FINEST_BUCKET_S else 0.0
    split = Split.at_onset(
        onset.onset_s - early,
        alert_s,
        now_s,
        end,
        slack_s=early + LATE_BUCKETS * bucket,
        lookback_s=lookback,
    )
    return FaultWindow(split, onset)


def _activity(snapshot: Snapshot, alert_s: float, now_s: float, bucket: float) -> Activity:
    reference_end = on_bucket(alert_s - SEARCH_S - bucket, bucket)
    grid = Grid(reference_end - SEARCH_S, now_s, bucket, reference_end)
    activity = metric_activity(snapshot.series or [], grid)
    if snapshot.counts is not None:
        activity = activity.merge(log_activity(snapshot.counts, grid))
    if snapshot.spans is not None:
        activity = activity.merge(trace_activity(snapshot.spans, grid))
    return activity
