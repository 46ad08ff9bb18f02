"""Prometheus as a metrics store behind the TelemetryBackend interface.

Each rule is one PromQL range query per triage window: a `promql` rule gives
one replay/1 metric (`as`), a `match` rule gives every metric its selector
matches under its own name. Labels say which service and instance a series
belongs to. Evaluation steps sit on multiples of `step_s` from the epoch, so
samples scraped on that grid come back exactly as stored.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from datetime import datetime

from tools.telemetry.backend import TelemetryBackend, TelemetryKind
from tools.telemetry.config import PrometheusConfig, PromMetricRule
from tools.telemetry.mapping import SeriesBuilder, keep_series
from tools.telemetry.metering import QueryCounter
from tools.telemetry.models import (
    Series,
    SeriesKey,
    TimeWindow,
)
from tools.telemetry.prometheus.client import PrometheusClient, values

log = logging.getLogger(__name__)
# Prometheus' own series about its alerting rules: they carry the alert's labels (service
# among them) but measure no service, so a selector must never read them as a metric.
ALERT_SERIES = frozenset({"ALERTS", "ALERTS_FOR_STATE"})


class PrometheusStore:
    """The client and settings that outlive one triage."""

    def __init__(self, config: PrometheusConfig, counter: QueryCounter | None = None) -> None:
        self.config = config
        self.client = PrometheusClient(config, counter)
        self.warned: set[str] = set()
        self._warn_lock = threading.Lock()

    def warn_duplicates(self, expr: str, duplicates: list[SeriesKey]) -> None:
        """One warning per rule for the life of the store, however many triages and series."""
        with self._warn_lock:
            if not duplicates or expr in self.warned:
                return
            self.warned.add(expr)
        log.warning(
            "Prometheus: %d series from %s map to a (service, instance, metric) another series"
            " already has (e.g. %s); aggregate by the service and instance labels. Keeping the"
            " first of each.",
            len(duplicates),
            expr,
            duplicates[0].label(),
        )

    @property
    def counter(self) -> QueryCounter:
        return self.client.counter

    def at(self, now: datetime) -> PrometheusBackend:
        return PrometheusBackend(self, now)


class PrometheusBackend(TelemetryBackend):
    name = "prometheus"

    def __init__(self, store: PrometheusStore, now: datetime) -> None:
        super().__init__(now)
        self.store = store
        self.config = store.config
        self._lock = threading.Lock()
        self._services: list[str] | None = None

    def kinds(self) -> set[TelemetryKind]:
        return {"metrics"}

    def services(self) -> list[str]:
        """Values of the service label over the last `services_lookback_s` (one request
        per triage): a service that stopped reporting is still a suspect."""
        with self._lock:
            if self._services is None:
                start = self.now_s - self.config.services_lookback_s
                raw = self.store.client.label_values(self.config.service_label, start, self.now_s)
                names = {self.config.naming.resolve(v) for v in raw}
                self._services = sorted(n for n in names if n)
            return list(self._services)

    # -- metrics ---------------------------------------------------------------------
    def key(self, rule: PromMetricRule, labels: dict[str, str]) -> SeriesKey | None:
        """The replay/1 key of a result series, or None when it names no service."""
        if labels.get("__name__") in ALERT_SERIES:
            return None
        raw_service = labels.get(self.config.service_label, "")
        service = self.config.naming.resolve(raw_service) if raw_service else None
        name = rule.as_ or rule.rename.get(labels.get("__name__", ""), labels.get("__name__"))
        if not service or not name:
            return None
        return SeriesKey(service, labels.get(self.config.instance_label, ""), name)

    def _grid(self, window: TimeWindow) -> tuple[float, float, float]:
        step = self.config.step_s
        return math.ceil(window.start_s / step) * step, math.floor(window.end_s / step) * step, step

    def _metric_series(
        self,
        window: TimeWindow,
        services: Sequence[str] | None,
        metrics: Sequence[str] | None,
        instances: Sequence[str] | None,
    ) -> list[Series]:
        start, end, step = self._grid(window)
        built = SeriesBuilder()
        if start > end:
            return []
        filled: set[SeriesKey] = set()
        for rule in self.config.metrics:
            if rule.as_ is not None and metrics and rule.as_ not in metrics:
                continue
            expr = rule.promql or rule.match or ""
            duplicates: list[SeriesKey] = []
            for result in self.store.client.query_range(expr, start, end, step):
                key = self.key(rule, result.get("metric", {}))
                if key is None or not keep_series(key, services, metrics, instances):
                    continue
                if key in filled:
                    duplicates.append(key)
                    continue
                filled.add(key)
                built.add(key, *values(result.get("values", [])))
            self.store.warn_duplicates(expr, duplicates)
        return built.series(window.start_s, window.end_s)

    def _metric_keys(self, window: TimeWindow) -> list[SeriesKey]:
        """Series with samples in `window`: /api/v1/series for selectors, the query itself
        for PromQL expressions."""
        keys: set[SeriesKey] = set()
        for rule in self.config.metrics:
            if rule.match is not None:
                for labels in self.store.client.series(rule.match, window.start_s, window.end_s):
                    key = self.key(rule, labels)
                    if key is not None:
                        keys.add(key)
            else:
                keys |= {s.key for s in self._metric_series(window, None, [rule.as_ or ""], None)}
        return sorted(keys, key=lambda k: (k.service, k.instance, k.metric))
