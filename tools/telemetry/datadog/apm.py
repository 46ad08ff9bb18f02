"""Datadog APM: indexed spans as the engine's trace summaries, the service map as topology.

One aggregate request counts the window's spans. Up to `max_spans`, the spans
themselves are read (/api/v2/spans/events/search, cursor pages) and summed
here with self time and callee computed from parent links, exactly as the
replay store computes them. Past it, reading them all would cost minutes and
much of the endpoint's hourly quota (300 requests), so Datadog sums them
instead (/api/v2/spans/analytics/aggregate, per bucket, service, resource and
peer.service); Datadog keeps no self time, so a span's self time is then its
duration, and its callee is the peer.service of its client spans.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import numpy as np
from datadog_api_client.v2.api.spans_api import SpansApi
from datadog_api_client.v2.model.spans_aggregate_data import SpansAggregateData
from datadog_api_client.v2.model.spans_aggregate_request import SpansAggregateRequest
from datadog_api_client.v2.model.spans_aggregate_request_attributes import (
    SpansAggregateRequestAttributes,
)
from datadog_api_client.v2.model.spans_aggregate_request_type import SpansAggregateRequestType
from datadog_api_client.v2.model.spans_aggregation_function import SpansAggregationFunction
from datadog_api_client.v2.model.spans_compute import SpansCompute
from datadog_api_client.v2.model.spans_compute_type import SpansComputeType
from datadog_api_client.v2.model.spans_group_by import SpansGroupBy
from datadog_api_client.v2.model.spans_list_request import SpansListRequest
from datadog_api_client.v2.model.spans_list_request_attributes import SpansListRequestAttributes
from datadog_api_client.v2.model.spans_list_request_data import SpansListRequestData
from datadog_api_client.v2.model.spans_list_request_page import SpansListRequestPage
from datadog_api_client.v2.model.spans_list_request_type import SpansListRequestType
from datadog_api_client.v2.model.spans_query_filter import SpansQueryFilter
from datadog_api_client.v2.model.spans_sort import SpansSort

from tools.telemetry.backend import sum_spans
from tools.telemetry.config import DatadogApmConfig, DatadogConfig
from tools.telemetry.datadog.client import DatadogClients, DatadogError
from tools.telemetry.datadog.search import Budget, iso, iso_until, pages, search_query
from tools.telemetry.models import ServiceNode, SpanFrame, SpanStats, TimeWindow, Topology, to_epoch
from tools.telemetry.spanframe import Span, span_frame

# Groups per facet in one aggregate answer (Datadog's own cap is 10,000 buckets).
GROUP_LIMIT = 1000
# What the service map answers: service -> {"calls": [services]}.
DEPENDENCIES = ({str: ({str: ([str],)},)},)


class DatadogApm:
    """The APM side of the Datadog store."""

    def __init__(self, clients: DatadogClients, config: DatadogConfig) -> None:
        assert config.apm is not None
        self.clients = clients
        self.config = config
        self.apm: DatadogApmConfig = config.apm
        self._map = clients.endpoint(
            "list_service_dependencies",
            {"env": (str,), "start": (int,), "end": (int,)},
            DEPENDENCIES,
        )

    @property
    def api(self) -> SpansApi:
        return self.clients.api(SpansApi)

    def query(self, services: list[str] | None = None) -> str:
        return search_query(self.config, self.apm.query, services=services)

    # -- spans --------------------------------------------------------------------------
    def spans(self, window: TimeWindow, budget: Budget, services: list[str] | None) -> SpanFrame:
        """The window's spans, self time and callee computed from their parent links."""
        found = self._count(window)
        if found > self.apm.max_spans:
            raise DatadogError(
                "list_spans",
                f"{found} spans in the window, more than datadog.apm.max_spans"
                f" ({self.apm.max_spans}); the engine reads their sums instead",
            )
        return self._frame(window, budget, services)

    def _frame(self, window: TimeWindow, budget: Budget, services: list[str] | None) -> SpanFrame:
        spans = [s for page in self._pages(window, budget, services) for s in page]
        return span_frame([s for s in spans if window.start_s <= s.start_s <= window.end_s])

    def stats(self, window: TimeWindow, bucket_s: float, budget: Budget, now_s: float) -> SpanStats:
        """Spans that ended by `now_s`, summed per (bucket, service, operation, callee):
        from the spans themselves up to `max_spans`, else from Datadog's own sums."""
        if self._count(window) <= self.apm.max_spans:
            frame = self._frame(window, budget, None)
            return sum_spans(frame.take(frame.ts + frame.duration_ms / 1000.0 <= now_s), bucket_s)
        return self._summed(window, bucket_s)

    def _count(self, window: TimeWindow) -> int:
        answer = self.api.aggregate_spans(self._aggregate(window, self.query(), [], None))
        return int(sum(float(b.attributes.computes.get("c0", 0) or 0) for b in _data(answer)))

    def _pages(
        self, window: TimeWindow, budget: Budget, services: list[str] | None
    ) -> Iterator[list[Span]]:
        def fetch(cursor: str | None) -> Any:
            page = SpansListRequestPage(limit=self.apm.page_size)
            if cursor:
                page.cursor = cursor
            attributes = SpansListRequestAttributes(
                filter=SpansQueryFilter(
                    _from=iso(window.start_s),
                    to=iso_until(window.end_s),
                    query=self.query(services),
                ),
                page=page,
                sort=SpansSort.TIMESTAMP_ASCENDING,
            )
            return self.api.list_spans(
                SpansListRequest(
                    data=SpansListRequestData(
                        attributes=attributes, type=SpansListRequestType.SEARCH_REQUEST
                    )
                )
            )

        what = (f"list_spans: of {self.apm.page_size} spans (datadog.apm.max_pages);"
                " narrow datadog.apm.query")  # fmt: skip
        for answer in pages(fetch, budget, self.apm.max_pages, what):
            yield [span for item in _data(answer) if (span := self._span(item)) is not None]

    def _span(self, item: Any) -> Span | None:
        attrs = item.attributes
        service = self.config.naming.resolve(attrs.get("service", "") or "")
        start: datetime | None = attrs.get("start_timestamp")
        if not service or start is None:
            return None
        custom: dict[str, Any] = attrs.get("custom", {}) or {}
        end: datetime | None = attrs.get("end_timestamp")
        nanos = custom.get("duration")
        duration_ms = (
            float(nanos) / 1e6
            if isinstance(nanos, int | float)
            else (to_epoch(end) - to_epoch(start)) * 1000.0
            if end
            else 0.0
        )
        status = str(custom.get("status") or attrs.get("attributes", {}).get("status") or "")
        parent = str(attrs.get("parent_id", "") or "")
        return Span(
            id=str(attrs.get("span_id", "")),
            parent="" if parent == "0" else parent,
            service=service,
            instance=str(attrs.get("host", "") or ""),
            operation=str(attrs.get("resource_name", "") or ""),
            start_s=to_epoch(start),
            duration_ms=duration_ms,
            error=status.lower() == "error" or bool(custom.get("error")),
            trace_id=str(attrs.get("trace_id", "")),
        )

    def _summed(self, window: TimeWindow, bucket_s: float) -> SpanStats:
        """Datadog's sums per bucket: counts and durations, then errors alone."""
        facets = ["service", "resource_name", "@peer.service"]
        computes = [
            SpansCompute(aggregation=SpansAggregationFunction.COUNT,
                         type=SpansComputeType.TIMESERIES, interval=f"{int(bucket_s)}s"),
            SpansCompute(aggregation=SpansAggregationFunction.SUM, metric="@duration",
                         type=SpansComputeType.TIMESERIES, interval=f"{int(bucket_s)}s"),
        ]  # fmt: skip
        sums: dict[tuple[float, str, str, str], list[float]] = {}
        for query, errors in ((self.query(), False), (f"{self.query()} status:error", True)):
            request = self._aggregate(window, query, facets, computes[:1] if errors else computes)
            for bucket in _data(self.api.aggregate_spans(request)):
                by = bucket.attributes.get("by", {}) or {}
                service = self.config.naming.resolve(str(by.get("service", "") or ""))
                if not service:
                    continue
                peer = self.config.naming.resolve(str(by.get("@peer.service", "") or "")) or ""
                name = str(by.get("resource_name", "") or "")
                counts = _points(bucket.attributes.computes.get("c0"))
                totals = dict(_points(bucket.attributes.computes.get("c1")))
                for ts, count in counts:
                    row = sums.setdefault((ts, service, name, peer), [0.0, 0.0, 0.0])
                    if errors:
                        row[2] += count
                    else:
                        row[0] += count
                        row[1] += totals.get(ts, 0.0) / 1e6
        keys = sorted(sums)
        durations = np.array([sums[k][1] for k in keys], dtype=np.float64)
        return SpanStats(
            bucket_s=np.array([k[0] for k in keys], dtype=np.float64),
            service=np.array([k[1] for k in keys], dtype=object),
            operation=np.array([k[2] for k in keys], dtype=object),
            peer=np.array([k[3] for k in keys], dtype=object),
            count=np.array([sums[k][0] for k in keys], dtype=np.float64),
            self_ms=durations,
            duration_ms=durations.copy(),
            errors=np.array([sums[k][2] for k in keys], dtype=np.float64),
        )

    def _aggregate(
        self, window: TimeWindow, query: str, facets: list[str], computes: list[Any] | None
    ) -> SpansAggregateRequest:
        attributes = SpansAggregateRequestAttributes(
            compute=computes or [SpansCompute(aggregation=SpansAggregationFunction.COUNT,
                                              type=SpansComputeType.TOTAL)],
            filter=SpansQueryFilter(_from=iso(window.start_s), to=iso_until(window.end_s),
                                    query=query),
            group_by=[SpansGroupBy(facet=f, limit=GROUP_LIMIT) for f in facets],
        )  # fmt: skip
        return SpansAggregateRequest(
            data=SpansAggregateData(
                attributes=attributes, type=SpansAggregateRequestType.AGGREGATE_REQUEST
            )
        )

    # -- the service map ----------------------------------------------------------------
    def topology(self, window: TimeWindow) -> Topology:
        """Who calls whom in the env over `window` (the APM service map)."""
        answer = self._map.call_with_http_info(
            env=self.config.env or "", start=int(window.start_s), end=int(window.end_s)
        )
        resolve = self.config.naming.resolve
        calls: dict[str, set[str]] = {}
        for name, entry in answer.items():
            caller = resolve(name)
            if not caller:
                continue
            mine = calls.setdefault(caller, set())
            for callee in entry.get("calls", []):
                if (to := resolve(callee)) and to != caller:
                    mine.add(to)
                    calls.setdefault(to, set())
        nodes = [ServiceNode(name=n, depends_on=sorted(deps)) for n, deps in sorted(calls.items())]
        return Topology(services=nodes, source="traces" if nodes else "empty")


def _data(answer: Any) -> list[Any]:
    return list(answer.get("data", []) or [])


def _points(value: Any) -> list[tuple[float, float]]:
    """A timeseries compute's [{time, value}] as (epoch s, value)."""
    out = []
    for point in value or []:
        stamp = point.get("time")
        if stamp is not None:
            ts = to_epoch(datetime.fromisoformat(str(stamp).replace("Z", "+00:00")))
            out.append((ts, float(point.get("value") or 0.0)))
    return out
