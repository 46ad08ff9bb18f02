"""Datadog Logs as replay/1 log lines and template counts.

Searches go to /api/v2/logs/events/search with the filters Datadog's search
syntax can carry (services, status, a phrase); a regex, which it cannot, is
applied here. Results are read page by page (cursor) up to `max_pages`.
Template counts need every line of the window (a template is the line masked
the replay store's way, which Datadog's patterns are not), so first one
aggregate request counts the window's lines: past `max_lines` the read is
refused (the volume guard) rather than paged for minutes. The window's lines,
once read, serve the later searches of the same triage.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from datadog_api_client.v2.api.logs_api import LogsApi
from datadog_api_client.v2.model.logs_aggregate_request import LogsAggregateRequest
from datadog_api_client.v2.model.logs_aggregation_function import LogsAggregationFunction
from datadog_api_client.v2.model.logs_compute import LogsCompute
from datadog_api_client.v2.model.logs_compute_type import LogsComputeType
from datadog_api_client.v2.model.logs_list_request import LogsListRequest
from datadog_api_client.v2.model.logs_list_request_page import LogsListRequestPage
from datadog_api_client.v2.model.logs_query_filter import LogsQueryFilter
from datadog_api_client.v2.model.logs_sort import LogsSort

from tools.telemetry.config import DatadogConfig, DatadogLogsConfig
from tools.telemetry.datadog.client import DatadogClients, DatadogError
from tools.telemetry.datadog.search import Budget, iso, iso_until, pages, search_query
from tools.telemetry.loglines import Line, LineFilter, TemplateCounter, to_record
from tools.telemetry.models import LogQuery, LogRecord, TemplateCounts, TimeWindow, to_epoch

# Datadog's status values -> replay/1 levels.
LEVELS = {
    "emergency": "FATAL",
    "alert": "FATAL",
    "critical": "FATAL",
    "fatal": "FATAL",
    "error": "ERROR",
    "err": "ERROR",
    "warning": "WARN",
    "warn": "WARN",
    "notice": "INFO",
    "info": "INFO",
    "ok": "INFO",
    "debug": "DEBUG",
    "trace": "TRACE",
}
# replay/1 levels -> the statuses a search names.
STATUSES = {
    "FATAL": ("emergency", "alert", "critical"),
    "ERROR": ("error",),
    "WARN": ("warn",),
    "INFO": ("info", "notice", "ok"),
    "DEBUG": ("debug",),
    "TRACE": ("trace",),
}


def level_of(status: str | None) -> str:
    return LEVELS.get((status or "").lower(), (status or "").upper())


class DatadogLogs:
    """The log side of the Datadog store."""

    def __init__(self, clients: DatadogClients, config: DatadogConfig) -> None:
        assert config.logs is not None
        self.clients = clients
        self.config = config
        self.logs: DatadogLogsConfig = config.logs

    @property
    def api(self) -> LogsApi:
        return self.clients.api(LogsApi)

    def scope(self, services: Sequence[str] | None = None, levels: Sequence[str] | None = None,
              phrase: str | None = None) -> str:  # fmt: skip
        """The search for these filters, within the configured scope and env."""
        statuses = [s for lv in levels or () for s in STATUSES.get(lv.upper(), ())]
        return search_query(
            self.config, self.logs.query, services=services, statuses=statuses, phrase=phrase
        )

    def count(self, window: TimeWindow, query: str) -> int:
        """Lines matching `query` in `window` (one aggregate request)."""
        body = LogsAggregateRequest(
            compute=[LogsCompute(aggregation=LogsAggregationFunction.COUNT,
                                 type=LogsComputeType.TOTAL)],
            filter=self._filter(window, query),
        )  # fmt: skip
        buckets = self.api.aggregate_logs(body).data.get("buckets", [])
        return int(sum(float(b.computes.get("c0", 0) or 0) for b in buckets))

    def lines(
        self, window: TimeWindow, query: str, budget: Budget, keep: Callable[[Line], bool],
        limit: float = math.inf,
    ) -> list[Line]:  # fmt: skip
        """Lines matching `query` and `keep`, newest first, page by page until `limit`
        matched or the window is read; more than `max_pages` pages is an error."""
        out: list[Line] = []
        for page in self._pages(window, query, budget):
            out += [ln for ln in page if window.start_s <= ln.ts_s <= window.end_s and keep(ln)]
            if len(out) >= limit:
                break
        return out

    def _pages(self, window: TimeWindow, query: str, budget: Budget) -> Iterator[list[Line]]:
        def fetch(cursor: str | None) -> Any:
            page = LogsListRequestPage(limit=self.logs.page_size)
            if cursor:
                page.cursor = cursor
            return self.api.list_logs(
                body=LogsListRequest(filter=self._filter(window, query), page=page,
                                     sort=LogsSort.TIMESTAMP_DESCENDING)
            )  # fmt: skip

        what = (f"list_logs: of {self.logs.page_size} lines (datadog.logs.max_pages);"
                " narrow datadog.logs.query")  # fmt: skip
        for answer in pages(fetch, budget, self.logs.max_pages, what):
            yield [line for item in answer.get("data", []) if (line := self._line(item))]

    def _filter(self, window: TimeWindow, query: str) -> LogsQueryFilter:
        return LogsQueryFilter(
            _from=iso(window.start_s),
            to=iso_until(window.end_s),
            query=query,
            indexes=self.logs.indexes,
        )

    def _line(self, item: Any) -> Line | None:
        attrs = item.attributes
        service = self.config.naming.resolve(attrs.get("service", "") or "")
        stamp: datetime | None = attrs.get("timestamp")
        if not service or stamp is None:
            return None
        extra: dict[str, Any] = attrs.get("attributes", {}) or {}
        status = extra.get(self.logs.level_attribute) if self.logs.level_attribute else None
        instance = attrs.get("host", "") or ""
        if self.config.tags.instance and self.config.tags.instance != "host":
            instance = _tag(attrs.get("tags", []) or [], self.config.tags.instance) or instance
        trace = extra.get("dd", {}).get("trace_id") if isinstance(extra.get("dd"), dict) else None
        return Line(
            ts_s=to_epoch(stamp),
            service=service,
            instance=instance,
            level=level_of(str(status) if status else attrs.get("status")),
            message=attrs.get("message", "") or "",
            trace_id=str(trace or extra.get("trace_id") or "") or None,
        )


def _tag(tags: Sequence[str], name: str) -> str | None:
    prefix = f"{name}:"
    return next((t[len(prefix) :] for t in tags if t.startswith(prefix)), None)


class WindowLines:
    """One triage's reads: the whole window read once (behind the volume guard) for
    the template counts, and reused by later searches of the same window."""

    def __init__(self, logs: DatadogLogs, budget: Budget) -> None:
        self.logs = logs
        self.budget = budget
        self._lock = threading.Lock()
        self._read: dict[TimeWindow, list[Line]] = {}

    def all(self, window: TimeWindow) -> list[Line]:
        with self._lock:
            if window not in self._read:
                query = self.logs.scope()
                total = self.logs.count(window, query)
                limit = self.logs.logs.max_lines
                if total > limit:
                    raise DatadogError(
                        "list_logs",
                        f"{total} lines in the window, more than datadog.logs.max_lines"
                        f" ({limit}); narrow datadog.logs.query",
                    )
                self._read[window] = self.logs.lines(window, query, self.budget, lambda _: True)
            return self._read[window]

    def records(self, query: LogQuery) -> list[LogRecord]:
        keep = LineFilter.of(query.services, query.levels, query.contains, query.regex).keep
        with self._lock:
            cached = self._read.get(query.window)
        if cached is not None:
            lines = [line for line in cached if keep(line)]
        else:
            search = self.logs.scope(query.services, query.levels, query.contains)
            lines = self.logs.lines(query.window, search, self.budget, keep, query.limit)
        lines.sort(key=lambda line: -line.ts_s)
        return [to_record(line) for line in lines[: query.limit]]

    def template_counts(
        self,
        window: TimeWindow,
        bucket_s: float,
        services: Sequence[str] | None,
        levels: Sequence[str] | None,
    ) -> TemplateCounts:
        keep = LineFilter.of(services, levels)
        counts = TemplateCounter(bucket_s)
        for line in self.all(window):
            if keep.keep(line):
                counts.add_line(line)
        return counts.frame()
