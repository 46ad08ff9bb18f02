"""Where "before" ends and "during" begins for one incident."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.telemetry.models import TimeWindow

# Counts (log lines, spans) are compared per bucket of this width; onsets fall on
# bucket boundaries of the clock, so counts fetched per clock bucket line up with them.
BUCKET_S = 60.0


def on_bucket(ts: float, bucket_s: float = BUCKET_S) -> float:
    """The start of the clock bucket `ts` falls in."""
    return float(np.floor(ts / bucket_s) * bucket_s)


@dataclass(frozen=True, slots=True)
class Split:
    """Baseline [start, onset) and fault window [onset, until] of an incident.

    The onset is where the data shows the fault began (tools.analysis.onset), or,
    when nothing stands out, a lead time before the first alert. The fault
    window ends where the signals went quiet again (`end_s`), or now: a fault
    already over at triage time is compared as it was, not diluted by the
    quiet minutes after it. When exactly the fault began within `slack_s`
    after the onset is unknown; count-based signals try each candidate start in
    `onset_buckets` and keep the one that explains the change best, so a few
    fault-free minutes do not dilute a short fault.
    """

    start_s: float
    onset_s: float
    now_s: float
    alert_s: float
    end_s: float | None = None
    slack_s: float | None = None

    @classmethod
    def around(
        cls, alert_s: float, now_s: float, lookback_s: float = 3600.0, lead_s: float = 120.0
    ) -> Split:
        """The split when the data names no onset: `lead_s` before the alert."""
        onset = on_bucket(min(alert_s - lead_s, now_s))
        return cls(
            start_s=min(now_s - lookback_s, onset),
            onset_s=onset,
            now_s=now_s,
            alert_s=min(max(alert_s, onset), now_s),
        )

    @classmethod
    def at_onset(
        cls,
        onset_s: float,
        alert_s: float,
        now_s: float,
        end_s: float | None = None,
        *,
        slack_s: float = 120.0,
        lookback_s: float = 3600.0,
    ) -> Split:
        """The split around a fault window the data showed."""
        onset = min(onset_s, now_s)
        return cls(
            start_s=onset - lookback_s,
            onset_s=onset,
            now_s=now_s,
            alert_s=min(max(alert_s, onset), now_s),
            end_s=None if end_s is None or end_s >= now_s else max(end_s, onset),
            slack_s=slack_s,
        )

    @property
    def until_s(self) -> float:
        """The end of the fault window: where it went quiet, else now."""
        return self.now_s if self.end_s is None else self.end_s

    def onset_buckets(self, bucket_s: float) -> list[int]:
        """Candidate fault starts as indices of onset-aligned buckets (see `bucket_of`)."""
        slack = self.alert_s - self.onset_s if self.slack_s is None else self.slack_s
        return list(range(int(slack // bucket_s) + 1))

    def last_bucket(self, bucket_s: float) -> int:
        """Index of the last onset-aligned bucket inside the fault window."""
        return int(np.ceil((self.until_s - self.onset_s) / bucket_s)) - 1

    def bucket_of(self, ts: np.ndarray, bucket_s: float) -> np.ndarray:
        """Index of the `bucket_s`-wide bucket each time falls in, counted from the onset
        (negative before it). Buckets aligned on the onset rather than the clock keep
        a fault that began seconds after the onset out of the baseline."""
        return np.floor((np.asarray(ts, dtype=np.float64) - self.onset_s) / bucket_s).astype(
            np.int64
        )

    @property
    def window(self) -> TimeWindow:
        return TimeWindow.of(self.start_s, self.now_s)

    @property
    def baseline(self) -> TimeWindow:
        return TimeWindow.of(self.start_s, self.onset_s)

    @property
    def current(self) -> TimeWindow:
        return TimeWindow.of(self.onset_s, self.until_s)

    def is_current(self, ts: np.ndarray) -> np.ndarray:
        return (ts >= self.onset_s) & (ts <= self.until_s)

    def is_baseline(self, ts: np.ndarray) -> np.ndarray:
        return (ts >= self.start_s) & (ts < self.onset_s)
