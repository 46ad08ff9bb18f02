"""Where "before" ends and "during" begins for one incident."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.telemetry.models import TimeWindow

# Counts (log lines, spans) are compared per bucket of this width, fetched this finely
# and folded into buckets aligned on the onset.
BUCKET_S = 60.0
ALIGN_S = 5.0


@dataclass(frozen=True, slots=True)
class Split:
    """Baseline [start, onset) and current [onset, now] of an incident window.

    Alerts fire after a fault starts (rules hold for a minute or more), so the
    baseline ends a lead time before the first alert. When exactly the fault
    began inside that lead is unknown; count-based signals try each candidate
    start in `onset_buckets` and keep the one that explains the change best, so
    a few fault-free minutes do not dilute a short fault.
    """

    start_s: float
    onset_s: float
    now_s: float
    alert_s: float

    @classmethod
    def around(
        cls, alert_s: float, now_s: float, lookback_s: float = 3600.0, lead_s: float = 120.0
    ) -> Split:
        onset = min(alert_s - lead_s, now_s)
        return cls(
            start_s=min(now_s - lookback_s, onset),
            onset_s=onset,
            now_s=now_s,
            alert_s=min(max(alert_s, onset), now_s),
        )

    def onset_buckets(self, bucket_s: float) -> list[int]:
        """Candidate fault starts as indices of onset-aligned buckets (see `bucket_of`)."""
        return list(range(int((self.alert_s - self.onset_s) // bucket_s) + 1))

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
        return TimeWindow.of(self.onset_s, self.now_s)

    def is_current(self, ts: np.ndarray) -> np.ndarray:
        return ts >= self.onset_s

    def is_baseline(self, ts: np.ndarray) -> np.ndarray:
        return (ts >= self.start_s) & (ts < self.onset_s)
