"""The incident's fault window: where "before" ends and "during" begins, from the data.

The alert time is only an upper bound (alerts fire late). The snapshot reaches
SEARCH_S before the alert plus an hour of reference; onset detection
(tools.analysis.onset) reads every signal's activity over it. When it finds an
onset, the split runs from there to where the fault went quiet (or now); when
nothing stands out, the split falls back to a lead before the alert and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.isolation.snapshot import FINEST_BUCKET_S, Snapshot
from tools.analysis.activity import (
    Activity,
    Grid,
    log_activity,
    metric_activity,
    trace_activity,
)
from tools.analysis.onset import SEARCH_S, Onset, detect_onset
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


@dataclass(frozen=True, slots=True)
class FaultWindow:
    split: Split
    onset: Onset


def snapshot_window(alert_s: float, now_s: float) -> TimeWindow:
    """What the triage reads: an hour of reference before the search range, up to now."""
    start = min(alert_s, now_s) - SEARCH_S - REFERENCE_S - MARGIN_S
    return TimeWindow.of(start, now_s)


def fault_window(snapshot: Snapshot, alert_s: float, now_s: float) -> FaultWindow:
    """The split for this incident: the data's onset and end, or the alert's lead."""
    alert_s = min(alert_s, now_s)
    bucket = snapshot.bucket_s
    start = snapshot.metrics_start_s
    lookback = alert_s - start if snapshot.long_lookback and start is not None else REFERENCE_S
    onset = detect_onset(_activity(snapshot, alert_s, now_s, bucket), alert_s, now_s)
    if not onset.found:
        return FaultWindow(Split.around(alert_s, now_s, lookback_s=lookback), onset)
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
