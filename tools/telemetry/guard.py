"""Telemetry that fails soft: a store that cannot answer reads as "no data", and says so.

Outages come together: the Prometheus a triage needs may be down with the
service it watches. A triage must still finish from what it has (the alert,
topology, changes, memory), so every store is wrapped here: its first error
in a triage is recorded as a gap (which kinds, why) and that store is not
asked for those kinds again in the same triage, so an unreachable host costs
one timeout, not one per query. Callers read `gaps` and say what was missing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from tools.telemetry.backend import (
    EmptyBackend,
    TelemetryBackend,
    TelemetryError,
    TelemetryKind,
    empty_span_frame,
    no_template_counts,
    sum_spans,
)
from tools.telemetry.composite import CompositeBackend
from tools.telemetry.config import KINDS
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
)

log = logging.getLogger(__name__)
T = TypeVar("T")
REASON_CHARS = 300
PROBE_SPAN = timedelta(minutes=5)


class Gaps:
    """The telemetry kinds a triage could not read, each with the first reason."""

    def __init__(self, reasons: Mapping[str, str] | None = None) -> None:
        self.reasons: dict[str, str] = dict(reasons or {})
        self._lock = threading.Lock()

    def record(self, kinds: Iterable[TelemetryKind], error: BaseException) -> None:
        reason = _reason(error)
        with self._lock:
            for kind in kinds:
                self.reasons.setdefault(kind, reason)

    def __bool__(self) -> bool:
        return bool(self.reasons)


def grouped(gaps: Mapping[str, str]) -> list[tuple[list[str], str]]:
    """Gaps with the same reason together: ([metrics, logs], 'no telemetry configured')."""
    kinds: dict[str, list[str]] = {}
    for kind, reason in gaps.items():
        kinds.setdefault(reason, []).append(kind)
    return [(names, reason) for reason, names in kinds.items()]


def _reason(error: BaseException) -> str:
    """What went wrong, in one line: a TelemetryError says it; anything else is named."""
    if isinstance(error, TelemetryError):
        text = str(error)
    else:
        log.warning("telemetry store failed unexpectedly", exc_info=error)
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:REASON_CHARS]


class GuardedBackend(TelemetryBackend):
    """`inner`, answering "no data" for any kind whose store failed, the failure kept in `gaps`.

    `serves` are the kinds `inner` is asked for: a failure to list services or
    to say what it holds is a gap in each of them.
    """

    name = "guarded"

    def __init__(
        self, inner: TelemetryBackend, gaps: Gaps, serves: Iterable[TelemetryKind] = KINDS
    ) -> None:
        super().__init__(inner.now)
        self.inner = inner
        self.gaps = gaps
        self.serves = frozenset(serves)
        self._failed: set[TelemetryKind] = set()
        self._lock = threading.Lock()

    def _ask(self, kinds: Iterable[TelemetryKind], call: Callable[[], T], empty: T) -> T:
        wanted = set(kinds)
        with self._lock:
            if wanted <= self._failed:
                return empty
        try:
            return call()
        except Exception as error:  # a store's failure is a gap, never the triage's end
            with self._lock:
                self._failed |= wanted
            self.gaps.record(sorted(wanted), error)
            return empty

    def kinds(self) -> set[TelemetryKind]:
        return self._ask(self.serves, self.inner.kinds, set())

    def services(self) -> list[str]:
        return self._ask(self.serves, self.inner.services, [])

    def topology(self) -> Topology:
        return self._ask({"topology"}, self.inner.topology, Topology(source="empty"))

    def _metric_series(
        self,
        window: TimeWindow,
        services: Sequence[str] | None,
        metrics: Sequence[str] | None,
        instances: Sequence[str] | None,
    ) -> list[Series]:
        read = lambda: self.inner.metric_series(window, services, metrics, instances)  # noqa: E731
        return self._ask({"metrics"}, read, [])

    def _metric_keys(self, window: TimeWindow) -> list[SeriesKey]:
        return self._ask({"metrics"}, lambda: self.inner.metric_keys(window), [])

    def _logs(self, query: LogQuery) -> list[LogRecord]:
        return self._ask({"logs"}, lambda: self.inner.query_logs(query), [])

    def _log_template_counts(
        self,
        window: TimeWindow,
        bucket_s: float,
        services: Sequence[str] | None,
        levels: Sequence[str] | None,
    ) -> TemplateCounts:
        read = lambda: self.inner.log_template_counts(window, bucket_s, services, levels)  # noqa: E731
        return self._ask({"logs"}, read, no_template_counts())

    def _spans(self, window: TimeWindow, services: Sequence[str] | None) -> SpanFrame:
        return self._ask({"traces"}, lambda: self.inner.spans(window, services), empty_span_frame())

    def _span_stats(self, window: TimeWindow, bucket_s: float) -> SpanStats:
        read = lambda: self.inner.span_stats(window, bucket_s)  # noqa: E731
        return self._ask({"traces"}, read, sum_spans(empty_span_frame(), bucket_s))

    def _changes(self, window: TimeWindow) -> list[Change]:
        return self._ask({"changes"}, lambda: self.inner.changes(window), [])

    def _security_signals(self, window: TimeWindow) -> list[SecuritySignal]:
        """Passed through, not guarded: a SIEM is no routed kind, and the engine reads it
        apart, a TelemetryError there being a note of its own rather than a gap."""
        return self.inner.security_signals(window)


def guard(backend: TelemetryBackend) -> GuardedBackend:
    """`backend` failing soft, store by store: a composite's stores are each guarded for
    the kinds routed to them, so one store's outage leaves the others readable."""
    gaps = Gaps()
    if not isinstance(backend, CompositeBackend):
        return GuardedBackend(backend, gaps)
    served: dict[int, set[TelemetryKind]] = {}
    for kind, store in backend.routes.items():
        served.setdefault(id(store), set()).add(kind)
    wrapped = {
        id(store): GuardedBackend(store, gaps, served[id(store)])
        for store in backend.routes.values()
    }
    routes = {kind: wrapped[id(store)] for kind, store in backend.routes.items()}
    return GuardedBackend(CompositeBackend(backend.now, routes, backend.declared), gaps)


def unavailable(now: datetime, reason: str) -> GuardedBackend:
    """A backend holding nothing, every kind a gap for `reason` (no telemetry configured,
    or the stores could not even be opened)."""
    gaps = Gaps(dict.fromkeys(KINDS, reason))
    return GuardedBackend(EmptyBackend(now), gaps, serves=())


def probe(backend: GuardedBackend, kinds: Iterable[str]) -> dict[str, str]:
    """Which of `kinds` still fail: one small read of each over the last few minutes."""
    window = TimeWindow.of(backend.now_s - PROBE_SPAN.total_seconds(), backend.now_s)
    reads: dict[TelemetryKind, Callable[[], object]] = {
        "metrics": lambda: backend.metric_keys(window),
        "logs": lambda: backend.logs(window, limit=1),
        "traces": lambda: backend.span_stats(window, PROBE_SPAN.total_seconds()),
        "changes": lambda: backend.changes(window),
        "topology": backend.topology,
    }
    wanted = [k for k in KINDS if k in set(kinds)]
    backend.services()
    for kind in wanted:
        reads[kind]()
    return {k: v for k, v in backend.gaps.reasons.items() if k in wanted}
