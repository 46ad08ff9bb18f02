"""The Datadog store: metrics, logs, APM spans and the service map, events and Cloud
SIEM signals, behind the TelemetryBackend interface.

A DatadogStore lives as long as the process (the API client, metric
discovery); `store.at(now)` is one triage's backend, clock-bound like any
other. Each kind has its own time budget per triage (`kind_timeout_s`): a kind
that fails or runs out of time raises TelemetryError and the engine goes on
without it, saying which.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from tools.telemetry.backend import TelemetryBackend, TelemetryKind
from tools.telemetry.config import DatadogConfig
from tools.telemetry.datadog.apm import DatadogApm
from tools.telemetry.datadog.changes import DatadogChanges, without_duplicates
from tools.telemetry.datadog.client import DatadogClients
from tools.telemetry.datadog.logs import DatadogLogs, WindowLines
from tools.telemetry.datadog.metrics import DatadogMetrics
from tools.telemetry.datadog.search import Budget
from tools.telemetry.datadog.siem import DatadogSiem
from tools.telemetry.metering import QueryCounter
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

TOPOLOGY_LOOKBACK_S = 3600.0


class DatadogStore:
    """Everything that outlives one triage: the guarded client and metric discovery."""

    def __init__(self, config: DatadogConfig, counter: QueryCounter | None = None) -> None:
        self.config = config
        self.clients = DatadogClients(config, counter)
        self.metrics = DatadogMetrics(self.clients, config) if config.metrics else None
        self.logs = DatadogLogs(self.clients, config) if config.logs else None
        self.apm = DatadogApm(self.clients, config) if config.apm else None
        self.changes = DatadogChanges(self.clients, config) if config.changes else None
        self.siem = DatadogSiem(self.clients, config) if config.siem else None

    @property
    def counter(self) -> QueryCounter:
        return self.clients.counter

    def at(self, now: datetime) -> DatadogBackend:
        return DatadogBackend(self, now)


class DatadogBackend(TelemetryBackend):
    """One triage's view of the Datadog store as of `now`."""

    name = "datadog"

    def __init__(self, store: DatadogStore, now: datetime) -> None:
        super().__init__(now)
        self.store = store
        seconds = store.config.kind_timeout_s
        self.budgets = {k: Budget(k, seconds) for k in ("metrics", "logs", "traces", "changes",
                                                         "siem")}  # fmt: skip
        self.lines = WindowLines(store.logs, self.budgets["logs"]) if store.logs else None
        self._lock = threading.Lock()
        self._services: list[str] | None = None
        self._topology: Topology | None = None

    def kinds(self) -> set[TelemetryKind]:
        return self.store.config.kinds()  # type: ignore[return-value]

    def services(self) -> list[str]:
        """Services with metrics over the lookback, and those on the service map;
        discovered once per triage."""
        with self._lock:
            if self._services is None:
                found = self.store.metrics.services(self.now_s) if self.store.metrics else set()
                self._services = sorted(found)
        return sorted({*self._services, *(s.name for s in self.topology().services)})

    def topology(self) -> Topology:
        """The APM service map of the last hour, where configured."""
        apm = self.store.apm
        if apm is None or not apm.apm.service_map:
            return Topology(source="empty")
        with self._lock:
            if self._topology is None:
                self._topology = apm.topology(TimeWindow.of(self.now_s - TOPOLOGY_LOOKBACK_S,
                                                            self.now_s))  # fmt: skip
            return self._topology

    def _metric_series(
        self,
        window: TimeWindow,
        services: Sequence[str] | None,
        metrics: Sequence[str] | None,
        instances: Sequence[str] | None,
    ) -> list[Series]:
        if self.store.metrics is None:
            return []
        self.budgets["metrics"].check()
        return self.store.metrics.series(window, services, metrics, instances)

    def _metric_keys(self, window: TimeWindow) -> list[SeriesKey]:
        return [s.key for s in self._metric_series(window, None, None, None)]

    def _logs(self, query: LogQuery) -> list[LogRecord]:
        return self.lines.records(query) if self.lines else []

    def _log_template_counts(
        self,
        window: TimeWindow,
        bucket_s: float,
        services: Sequence[str] | None,
        levels: Sequence[str] | None,
    ) -> TemplateCounts:
        if self.lines is None:
            return super()._log_template_counts(window, bucket_s, services, levels)
        return self.lines.template_counts(window, bucket_s, services, levels)

    def _spans(self, window: TimeWindow, services: Sequence[str] | None) -> SpanFrame:
        apm = self.store.apm
        if apm is None or not apm.apm.spans:
            return super()._spans(window, services)
        return apm.spans(window, self.budgets["traces"], list(services) if services else None)

    def _span_stats(self, window: TimeWindow, bucket_s: float) -> SpanStats:
        apm = self.store.apm
        if apm is None or not apm.apm.spans:
            return super()._span_stats(window, bucket_s)
        return apm.stats(window, bucket_s, self.budgets["traces"], self.now_s)

    def _changes(self, window: TimeWindow) -> list[Change]:
        source = self.store.changes
        if source is None:
            return []
        events = source.events(window, self.budgets["changes"])
        derived = []
        if self.store.metrics is not None and source.changes_config.versions:
            derived = without_duplicates(self.store.metrics.version_changes(window), events)
        return sorted([*events, *derived], key=lambda c: (c.ts, c.id))

    def _security_signals(self, window: TimeWindow) -> list[SecuritySignal]:
        if self.store.siem is None:
            return []
        return self.store.siem.signals(window, self.budgets["siem"])
