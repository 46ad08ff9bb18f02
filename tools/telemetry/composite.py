"""One backend made of several: each telemetry kind read from the store configured
for it (metrics from Prometheus, logs from CloudWatch, ...), still clock-bound.

`open_telemetry(config)` turns the `telemetry:` section into what the agent
needs: a function from the triage clock to a backend. Stores are opened once
(clients, caches) and a backend per store is made per triage, shared by every
kind that store serves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import ValidationError

from tools.telemetry.backend import EmptyBackend, TelemetryBackend, TelemetryKind
from tools.telemetry.config import KINDS, StoreName, TelemetryConfig, TelemetryConfigError
from tools.telemetry.metering import Usage
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
from tools.telemetry.replay.backend import ReplayDataset

Opener = Callable[[datetime], TelemetryBackend]


class CompositeBackend(TelemetryBackend):
    """Routes each kind to its own backend; the base class clamps every answer to `now`."""

    name = "composite"

    def __init__(
        self,
        now: datetime,
        routes: Mapping[TelemetryKind, TelemetryBackend],
        topology: Topology | None = None,
    ) -> None:
        super().__init__(now)
        for kind, backend in routes.items():
            if backend.now_s != self.now_s:
                raise ValueError(f"{kind}: backend clock {backend.now} is not {self.now}")
        self.routes = dict(routes)
        self.declared = topology

    def _route(self, kind: TelemetryKind) -> TelemetryBackend | None:
        backend = self.routes.get(kind)
        return backend if backend is not None and kind in backend.kinds() else None

    def _source(self, kind: TelemetryKind) -> TelemetryBackend:
        """The backend that holds `kind`, or an empty one."""
        return self._route(kind) or EmptyBackend(self.now)

    def kinds(self) -> set[TelemetryKind]:
        kinds: set[TelemetryKind] = {k for k in self.routes if self._route(k) is not None}
        if self.declared is not None and self.declared.services:
            kinds.add("topology")
        return kinds

    def services(self) -> list[str]:
        names = {s.name for s in self.topology().services}
        for backend in _distinct(self.routes.values()):
            names.update(backend.services())
        return sorted(names)

    def topology(self) -> Topology:
        if self.declared is not None:
            return self.declared
        return self._source("topology").topology()

    def _metric_series(
        self,
        window: TimeWindow,
        services: Sequence[str] | None,
        metrics: Sequence[str] | None,
        instances: Sequence[str] | None,
    ) -> list[Series]:
        return self._source("metrics").metric_series(window, services, metrics, instances)

    def _metric_keys(self, window: TimeWindow) -> list[SeriesKey]:
        return self._source("metrics").metric_keys(window)

    def _logs(self, query: LogQuery) -> list[LogRecord]:
        return self._source("logs").query_logs(query)

    def _log_template_counts(
        self,
        window: TimeWindow,
        bucket_s: float,
        services: Sequence[str] | None,
        levels: Sequence[str] | None,
    ) -> TemplateCounts:
        return self._source("logs").log_template_counts(window, bucket_s, services, levels)

    def _spans(self, window: TimeWindow, services: Sequence[str] | None) -> SpanFrame:
        return self._source("traces").spans(window, services)

    def _span_stats(self, window: TimeWindow, bucket_s: float) -> SpanStats:
        return self._source("traces").span_stats(window, bucket_s)

    def _changes(self, window: TimeWindow) -> list[Change]:
        return self._source("changes").changes(window)

    def _security_signals(self, window: TimeWindow) -> list[SecuritySignal]:
        """Every store's SIEM signals: a SIEM is not one of the routed kinds."""
        return [s for b in _distinct(self.routes.values()) for s in b.security_signals(window)]


def _distinct(backends: Any) -> list[TelemetryBackend]:
    seen: dict[int, TelemetryBackend] = {}
    for backend in backends:
        seen.setdefault(id(backend), backend)
    return list(seen.values())


class Store(Protocol):
    def at(self, now: datetime) -> TelemetryBackend: ...


class Telemetry:
    """The opened stores of one configuration; calling it gives a backend at `now`."""

    def __init__(
        self,
        stores: Mapping[StoreName, Store],
        routes: Mapping[TelemetryKind, StoreName],
        topology: Topology | None = None,
    ) -> None:
        self.stores = dict(stores)
        self.routes = dict(routes)
        self.topology = topology

    def __call__(self, now: datetime) -> TelemetryBackend:
        backends = {name: store.at(now) for name, store in self.stores.items()}
        routed = {kind: backends[name] for kind, name in self.routes.items()}
        return CompositeBackend(now, routed, self.topology)

    def usage(self) -> dict[str, Usage]:
        """Queries each live store has sent so far."""
        return {
            name: counter.usage()
            for name, store in self.stores.items()
            if (counter := getattr(store, "counter", None)) is not None
        }


def load_topology(path: Path) -> Topology:
    """A declared call graph: topology.json's shape, as JSON or YAML."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Topology.model_validate({"source": "declared", **raw})
    except OSError as error:
        raise TelemetryConfigError(f"{path}: cannot read: {error.strerror}") from None
    except (yaml.YAMLError, ValidationError, TypeError) as error:
        raise TelemetryConfigError(f"{path}: not a topology: {error}") from None


def open_telemetry(config: TelemetryConfig, dataset: Path | None = None) -> Opener | None:
    """The telemetry the config names (or the replay `dataset` given instead), or
    None when nothing is configured."""
    if dataset is not None:
        return ReplayDataset.open(dataset.resolve()).at
    routes = config.routes()
    if config.is_replay_only and len(routes) == len(KINDS):
        return ReplayDataset.open(config.path.resolve()).at if config.path else None
    stores: dict[StoreName, Store] = {}
    for name in set(routes.values()):
        stores[name] = _open_store(config, name)
    topology = load_topology(config.topology_file) if config.topology_file else None
    return Telemetry(stores, routes, topology)


def _open_store(config: TelemetryConfig, name: StoreName) -> Store:
    if name == "replay":
        if config.path is None:
            raise TelemetryConfigError("telemetry.path: a kind is read from replay but no path")
        return ReplayDataset.open(config.path.resolve())
    # Each store's client library is imported only where that store is configured.
    routed = {kind for kind, store in config.routes().items() if store == name}
    if name == "cloudwatch":
        from tools.telemetry.cloudwatch.backend import CloudWatchStore

        assert config.cloudwatch is not None  # the config validator checked
        return CloudWatchStore(config.cloudwatch.only(routed))
    if name == "datadog":
        from tools.telemetry.datadog.backend import DatadogStore

        assert config.datadog is not None
        return DatadogStore(config.datadog.only(routed))
    from tools.telemetry.prometheus.backend import PrometheusStore

    assert config.prometheus is not None
    return PrometheusStore(config.prometheus)
