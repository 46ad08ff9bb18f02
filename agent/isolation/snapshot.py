"""The telemetry one triage reads, fetched once: metrics, log counts and span sums.

Finding the onset and measuring the shifts read the same data over the same
stretch of time, so it is fetched once, each kind in parallel. A kind whose
store fails (TelemetryError) is left out and named in the notes; the others
still count.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.analysis.split import BUCKET_S
from tools.telemetry.backend import TelemetryBackend, TelemetryError
from tools.telemetry.models import Series, SpanStats, TemplateCounts, TimeWindow

KINDS = ("metrics", "logs", "traces")
# A robust median and spread want a score of samples; coarse metrics (5-minute
# CloudWatch periods) have fewer in an hour and look a day back.
MIN_HISTORY_POINTS = 20
LONG_LOOKBACK_S = 24 * 3600.0
FINEST_BUCKET_S = 60.0


@dataclass(slots=True)
class Snapshot:
    """What the stores returned for `window` (None: the kind is absent or failed)."""

    window: TimeWindow
    series: list[Series] | None = None
    counts: TemplateCounts | None = None
    spans: SpanStats | None = None
    notes: list[str] = field(default_factory=list)
    # Where the metrics begin: a day further back when they were too coarse for `window`.
    metrics_start_s: float | None = None

    @property
    def long_lookback(self) -> bool:
        return self.metrics_start_s is not None and self.metrics_start_s < self.window.start_s

    @property
    def bucket_s(self) -> float:
        """The grid the incident is read on: a minute, or the metrics' coarser step."""
        clocks = {s.ts.tobytes(): s.ts for s in self.series or [] if len(s.ts) > 2}
        steps = [float(np.median(np.diff(ts))) for ts in clocks.values()]
        return max(FINEST_BUCKET_S, float(np.median(steps))) if steps else FINEST_BUCKET_S


def fetch(backend: TelemetryBackend, window: TimeWindow) -> Snapshot:
    """Every kind the backend holds over `window`, in parallel; metrics reach a day
    further back when most series hold too few samples in it."""
    kinds = backend.kinds()
    readers: dict[str, Callable[[], Any]] = {
        "metrics": lambda: _metrics(backend, window),
        "logs": lambda: backend.log_template_counts(window, BUCKET_S),
        "traces": lambda: backend.span_stats(window, BUCKET_S),
    }
    jobs = {kind: job for kind, job in readers.items() if kind in kinds}
    snapshot = Snapshot(
        window, notes=[f"no {k} in this telemetry store" for k in KINDS if k not in kinds]
    )
    with ThreadPoolExecutor(max_workers=max(len(jobs), 1)) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        for name, future in futures.items():
            try:
                result = future.result()
            except TelemetryError as error:
                snapshot.notes.append(f"{name} unavailable: {error}")
                continue
            if name == "metrics":
                snapshot.series, longer = result
                snapshot.metrics_start_s = (longer or window).start_s
            elif name == "logs":
                snapshot.counts = result
            else:
                snapshot.spans = result
    return snapshot


def _metrics(
    backend: TelemetryBackend, window: TimeWindow
) -> tuple[list[Series], TimeWindow | None]:
    """The series, and the longer window they were read over when the window's own
    samples were too few."""
    series = backend.metric_series(window)
    thin = sum(1 for s in series if len(s.ts) < MIN_HISTORY_POINTS)
    if not series or thin <= len(series) / 2:
        return series, None
    longer = TimeWindow.of(window.start_s - LONG_LOOKBACK_S, window.end_s)
    return backend.metric_series(longer), longer
