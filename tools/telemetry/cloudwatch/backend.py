"""The CloudWatch store: CloudWatch Logs and metrics, CloudTrail/ECS/CodeDeploy
changes and X-Ray, behind the TelemetryBackend interface.

A CloudWatchStore lives as long as the process (clients, discovery caches);
`store.at(now)` is the backend for one triage, clock-bound like any other.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from tools.telemetry.backend import TelemetryBackend, TelemetryKind
from tools.telemetry.cloudwatch.changes import AwsChanges
from tools.telemetry.cloudwatch.clients import AwsClients
from tools.telemetry.cloudwatch.logs import CloudWatchLogs
from tools.telemetry.cloudwatch.metrics import CloudWatchMetrics
from tools.telemetry.cloudwatch.xray import XRay
from tools.telemetry.config import CloudWatchConfig
from tools.telemetry.metering import QueryCounter
from tools.telemetry.models import (
    Change,
    LogQuery,
    LogRecord,
    Series,
    SeriesKey,
    SpanFrame,
    TemplateCounts,
    TimeWindow,
    Topology,
)

TOPOLOGY_LOOKBACK_S = 3600.0


class CloudWatchStore:
    """Everything that outlives one triage: clients and what discovery found."""

    def __init__(
        self,
        config: CloudWatchConfig,
        counter: QueryCounter | None = None,
        clients: AwsClients | None = None,
    ) -> None:
        self.config = config
        self.clients = clients or AwsClients(config, counter)
        ttl = config.logs.discovery_ttl_s if config.logs else 300.0
        self.logs = CloudWatchLogs(self.clients, config.logs) if config.logs else None
        self.metrics = (
            CloudWatchMetrics(self.clients, config.metrics, ttl) if config.metrics else None
        )
        self.changes = AwsChanges(self.clients, config.changes) if config.changes else None
        self.xray = XRay(self.clients, config.xray) if config.xray else None

    @property
    def counter(self) -> QueryCounter:
        return self.clients.counter

    def at(self, now: datetime) -> CloudWatchBackend:
        return CloudWatchBackend(self, now)


class CloudWatchBackend(TelemetryBackend):
    """One triage's view of the CloudWatch store as of `now`."""

    name = "cloudwatch"

    def __init__(self, store: CloudWatchStore, now: datetime) -> None:
        super().__init__(now)
        self.store = store
        self._lock = threading.Lock()
        self._services: list[str] | None = None
        self._topology: Topology | None = None

    def kinds(self) -> set[TelemetryKind]:
        return self.store.config.kinds()  # type: ignore[return-value]

    def services(self) -> list[str]:
        """Services with their own log group or metric, named in logs, or in the
        X-Ray graph; discovered once per triage."""
        with self._lock:
            if self._services is None:
                found: set[str] = set()
                if self.store.logs:
                    found |= self.store.logs.services(self.now_s)
                if self.store.metrics:
                    found |= {t.key.service for t in self.store.metrics.targets()}
                self._services = sorted(found)
        return sorted({*self._services, *(s.name for s in self.topology().services)})

    def topology(self) -> Topology:
        """The X-Ray service graph of the last hour, where X-Ray is configured."""
        xray = self.store.xray
        if xray is None or not xray.config.topology:
            return Topology(source="empty")
        with self._lock:
            if self._topology is None:
                window = TimeWindow.of(self.now_s - TOPOLOGY_LOOKBACK_S, self.now_s)
                self._topology = xray.topology(window)
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
        return self.store.metrics.series(window, services, metrics, instances)

    def _metric_keys(self, window: TimeWindow) -> list[SeriesKey]:
        return [s.key for s in self._metric_series(window, None, None, None)]

    def _logs(self, query: LogQuery) -> list[LogRecord]:
        return self.store.logs.records(query) if self.store.logs else []

    def _log_template_counts(
        self,
        window: TimeWindow,
        bucket_s: float,
        services: Sequence[str] | None,
        levels: Sequence[str] | None,
    ) -> TemplateCounts:
        if self.store.logs is None:
            return super()._log_template_counts(window, bucket_s, services, levels)
        return self.store.logs.template_counts(window, bucket_s, services, levels)

    def _spans(self, window: TimeWindow, services: Sequence[str] | None) -> SpanFrame:
        xray = self.store.xray
        if xray is None or not xray.config.traces:
            return super()._spans(window, services)
        frame = xray.spans(window)
        if services:
            frame = frame.take(np.isin(frame.service, list(services)))
        return frame

    def _changes(self, window: TimeWindow) -> list[Change]:
        if self.store.changes is None:
            return []
        return self.store.changes.changes(window, self.services)
