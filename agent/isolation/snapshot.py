"""The telemetry one triage reads, fetched once: metrics, log counts and span sums,
the lines the security detectors search for, SIEM signals and changes.

Finding the onset and measuring the shifts (in every plausible fault window)
read the same data over the same stretch of time, so it is fetched once, each
kind in parallel. A kind whose
store fails (TelemetryError) is left out and named in the notes; the others
still count.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.isolation.signals.changes import LOOKBACK_S
from agent.isolation.signals.security import SecurityLines, search_lines
from tools.analysis.split import BUCKET_S
from tools.telemetry.backend import TelemetryBackend, TelemetryError
from tools.telemetry.models import (
    Change,
    SecuritySignal,
    Series,
    SpanStats,
    TemplateCounts,
    TimeWindow,
)

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
    # The security detectors' one search (with the counts; None when either failed).
    security_lines: SecurityLines | None = None
    siem: list[SecuritySignal] | None = None
    # Changes from LOOKBACK_S before `window`: every onset in it looks that far back.
    changes: list[Change] | None = None
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
        "logs": lambda: _logs(backend, window),
        "traces": lambda: backend.span_stats(window, BUCKET_S),
        "changes": lambda: backend.changes(
            TimeWindow.of(window.start_s - LOOKBACK_S, window.end_s)
        ),
    }
    jobs: dict[str, Callable[[], Any]] = {k: job for k, job in readers.items() if k in kinds}
    jobs["siem"] = lambda: backend.security_signals(window)
    snapshot = Snapshot(
        window, notes=[f"no {k} in this telemetry store" for k in KINDS if k not in kinds]
    )
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        for name, future in futures.items():
            try:
                _keep(snapshot, name, future.result())
            except TelemetryError as error:
                snapshot.notes.append(f"{name} unavailable: {error}")
    return snapshot


def _keep(snapshot: Snapshot, name: str, result: Any) -> None:
    """Put one reader's result where the analyses look for it."""
    if name == "metrics":
        snapshot.series, longer = result
        snapshot.metrics_start_s = (longer or snapshot.window).start_s
    elif name == "logs":
        snapshot.counts, snapshot.security_lines, failed = result
        if failed is not None:
            snapshot.notes.append(f"logs unavailable: {failed}")
    elif name == "traces":
        snapshot.spans = result
    elif name == "siem":
        snapshot.siem = result
    else:
        snapshot.changes = result


def _logs(
    backend: TelemetryBackend, window: TimeWindow
) -> tuple[TemplateCounts, SecurityLines | None, TelemetryError | None]:
    """The counts, and the security detectors' search; a search that fails leaves the
    counts (the onset still reads them) but no log evidence, as a failed log store would."""
    counts = backend.log_template_counts(window, BUCKET_S)
    try:
        return counts, search_lines(backend, window), None
    except TelemetryError as error:
        return counts, None, error


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
