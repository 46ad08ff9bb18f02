"""The one interface every telemetry store sits behind.

A backend is bound to a clock. Every public query is clamped to that clock
here, in the base class, so no backend (replay files, CloudWatch, Prometheus)
can hand the engine data stamped after `now`: a replay stays honest and a live
triage never reads a half-written future bucket. Subclasses implement the
underscored methods and never see a window reaching past `now`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import numpy as np

from tools.telemetry.models import (
    Change,
    LogQuery,
    LogRecord,
    SecuritySignal,
    Series,
    SeriesKey,
    SpanFrame,
    SpanStats,
    TemplateCounts,
    TimeWindow,
    Topology,
    from_epoch,
    to_epoch,
)

TelemetryKind = Literal["metrics", "logs", "traces", "changes", "topology"]


class TelemetryError(Exception):
    """A backend could not answer; the message says which store and why."""


class TelemetryBackend(ABC):
    """Read-only access to one estate's telemetry as of `now`."""

    name: str = "backend"

    def __init__(self, now: datetime) -> None:
        self._now_s = to_epoch(now)

    @property
    def now(self) -> datetime:
        return from_epoch(self._now_s)

    @property
    def now_s(self) -> float:
        return self._now_s

    def _clamp(self, window: TimeWindow) -> TimeWindow:
        return window.clamp(self._now_s)

    # -- what the store holds -------------------------------------------------
    @abstractmethod
    def kinds(self) -> set[TelemetryKind]:
        """The telemetry kinds this store holds data for."""

    @abstractmethod
    def services(self) -> list[str]:
        """Every service name the store knows (topology, metrics, logs, traces)."""

    # -- metrics ----------------------------------------------------------------
    def metric_series(
        self,
        window: TimeWindow,
        services: Sequence[str] | None = None,
        metrics: Sequence[str] | None = None,
        instances: Sequence[str] | None = None,
    ) -> list[Series]:
        """Samples in `window`, one Series per (service, instance, metric)."""
        window = self._clamp(window)
        series = self._metric_series(window, services, metrics, instances)
        for s in series:
            keep = s.ts <= self._now_s
            if not keep.all():
                s.ts, s.values = s.ts[keep], s.values[keep]
        return series

    def _metric_series(
        self,
        window: TimeWindow,
        services: Sequence[str] | None,
        metrics: Sequence[str] | None,
        instances: Sequence[str] | None,
    ) -> list[Series]:
        """The store's series; each `_kind` method defaults to "this store holds none"."""
        return []

    def metric_keys(self, window: TimeWindow) -> list[SeriesKey]:
        """The series that have at least one sample in `window`."""
        return self._metric_keys(self._clamp(window))

    def _metric_keys(self, window: TimeWindow) -> list[SeriesKey]:
        return []

    # -- logs ---------------------------------------------------------------------
    def logs(
        self,
        window: TimeWindow,
        *,
        services: Sequence[str] | None = None,
        levels: Sequence[str] | None = None,
        contains: str | None = None,
        regex: str | None = None,
        limit: int = 100,
    ) -> list[LogRecord]:
        """Matching log lines in `window`, newest first, at most `limit`."""
        query = LogQuery(
            window=window,
            services=tuple(services) if services is not None else None,
            levels=tuple(levels) if levels is not None else None,
            contains=contains,
            regex=regex,
            limit=limit,
        )
        return self.query_logs(query)

    def query_logs(self, query: LogQuery) -> list[LogRecord]:
        """`logs` for a prepared query: its window clamped to `now`, nothing stamped later."""
        records = self._logs(query.model_copy(update={"window": self._clamp(query.window)}))
        return [r for r in records if to_epoch(r.ts) <= self._now_s][: query.limit]

    def _logs(self, query: LogQuery) -> list[LogRecord]:
        """The store's lines, newest first; a store that holds no logs keeps this default."""
        return []

    def log_template_counts(
        self,
        window: TimeWindow,
        bucket_s: float,
        services: Sequence[str] | None = None,
        levels: Sequence[str] | None = None,
    ) -> TemplateCounts:
        """Line counts per (service, level, masked template) and time bucket."""
        counts = self._log_template_counts(self._clamp(window), bucket_s, services, levels)
        keep = counts.bucket_s <= self._now_s
        if keep.all():
            return counts
        return counts.take(keep)

    def _log_template_counts(
        self,
        window: TimeWindow,
        bucket_s: float,
        services: Sequence[str] | None,
        levels: Sequence[str] | None,
    ) -> TemplateCounts:
        return no_template_counts()

    # -- traces -------------------------------------------------------------------
    def spans(self, window: TimeWindow, services: Sequence[str] | None = None) -> SpanFrame:
        """Spans that started in `window` and ended by `now`."""
        frame = self._spans(self._clamp(window), services)
        ended = frame.ts + frame.duration_ms / 1000.0 <= self._now_s
        return frame if ended.all() else frame.take(ended)

    def _spans(self, window: TimeWindow, services: Sequence[str] | None) -> SpanFrame:
        """The store's spans; a store that holds no traces keeps this empty default."""
        return empty_span_frame()

    def span_stats(self, window: TimeWindow, bucket_s: float) -> SpanStats:
        """Spans summed per (bucket, service, operation, callee) over `window`.

        Stores that can aggregate server-side override `_span_stats`; the
        default sums the raw spans here.
        """
        stats = self._span_stats(self._clamp(window), bucket_s)
        keep = stats.bucket_s <= self._now_s
        return stats if keep.all() else stats.take(keep)

    def _span_stats(self, window: TimeWindow, bucket_s: float) -> SpanStats:
        return sum_spans(self.spans(window), bucket_s)

    # -- changes and topology --------------------------------------------------
    def changes(self, window: TimeWindow) -> list[Change]:
        """Deploys, config pushes and flag flips that started in `window`."""
        return [c for c in self._changes(self._clamp(window)) if to_epoch(c.ts) <= self._now_s]

    def _changes(self, window: TimeWindow) -> list[Change]:
        return []

    def topology(self) -> Topology:
        """The call graph: declared where the store has one, else inferred."""
        return Topology(source="empty")

    # -- detections a SIEM already made ------------------------------------------------
    def security_signals(self, window: TimeWindow) -> list[SecuritySignal]:
        """SIEM signals that first fired in `window` (a store without a SIEM holds none)."""
        window = self._clamp(window)
        return [s for s in self._security_signals(window) if to_epoch(s.ts) <= self._now_s]

    def _security_signals(self, window: TimeWindow) -> list[SecuritySignal]:
        return []


class EmptyBackend(TelemetryBackend):
    """A store that holds nothing: what a kind with no configured source reads."""

    name = "none"

    def kinds(self) -> set[TelemetryKind]:
        return set()

    def services(self) -> list[str]:
        return []


def no_template_counts() -> TemplateCounts:
    """The answer of a store that holds no logs."""
    text = np.array([], dtype=object)
    return TemplateCounts(
        np.array([], dtype=np.float64), text, text, text, np.array([], dtype=np.int64), text
    )


def empty_span_frame() -> SpanFrame:
    text = np.array([], dtype=object)
    number = np.array([], dtype=np.float64)
    return SpanFrame(
        ts=number,
        trace_id=text,
        service=text,
        instance=text,
        operation=text,
        duration_ms=number,
        self_ms=number,
        status=text,
        parent_service=text,
        child_service=text,
    )


def sum_spans(frame: SpanFrame, bucket_s: float) -> SpanStats:
    """Aggregate raw spans into SpanStats (for stores without server-side sums)."""
    if len(frame) == 0:
        text = np.array([], dtype=object)
        number = np.array([], dtype=np.float64)
        return SpanStats(number, text, text, text, number, number, number, number)
    bucket = np.floor(frame.ts / bucket_s) * bucket_s
    names, group = np.unique(
        np.char.add(
            np.char.add(bucket.astype(str), "\x1f"),
            np.char.add(
                np.char.add(frame.service.astype(str), "\x1f"),
                np.char.add(
                    np.char.add(frame.operation.astype(str), "\x1f"),
                    frame.child_service.astype(str),
                ),
            ),
        ),
        return_inverse=True,
    )
    parts = [str(n).split("\x1f") for n in names]

    def total(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(group, weights=weights, minlength=len(names)).astype(np.float64)

    return SpanStats(
        bucket_s=np.array([float(p[0]) for p in parts]),
        service=np.array([p[1] for p in parts], dtype=object),
        operation=np.array([p[2] for p in parts], dtype=object),
        peer=np.array([p[3] for p in parts], dtype=object),
        count=total(None),
        self_ms=total(frame.self_ms),
        duration_ms=total(frame.duration_ms),
        errors=total((frame.status == "error").astype(np.float64)),
    )
