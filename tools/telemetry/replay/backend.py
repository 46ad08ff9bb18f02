"""The replay backend: a replay/1 dataset served as if it were live at `now`."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tools.telemetry.backend import TelemetryBackend, TelemetryKind
from tools.telemetry.models import (
    SPAN_COLUMNS,
    Change,
    LogQuery,
    LogRecord,
    Series,
    SeriesKey,
    ServiceNode,
    SpanFrame,
    SpanStats,
    TemplateCounts,
    TimeWindow,
    Topology,
    from_epoch,
    to_epoch,
)
from tools.telemetry.replay.format import (
    CaseRecord,
    DatasetInfo,
    find_file,
    load_cases,
    read_json,
    read_jsonl,
)
from tools.telemetry.replay.store import ReplayStore

REPLAY_LEAD = timedelta(minutes=5)


class ReplayDataset:
    """A replay/1 folder: parsed telemetry, changes, topology and cases."""

    def __init__(self, root: Path, cache_dir: Path | None = None) -> None:
        self.store = ReplayStore(root, cache_dir)
        self.root = self.store.root
        self.info: DatasetInfo = self.store.info
        changes = find_file(self.root, "changes.jsonl")
        self.changes = sorted(
            read_jsonl(changes, Change) if changes else [], key=lambda c: to_epoch(c.ts)
        )
        self.topology = self._topology()
        self.services = self._services()

    @classmethod
    @functools.cache
    def open(cls, root: Path) -> ReplayDataset:
        """The dataset at `root`, parsed once per process."""
        return cls(Path(root).resolve())

    def cases(self) -> list[CaseRecord]:
        return load_cases(self.root)

    def clock_after(self, alert_at: datetime) -> datetime:
        """The triage clock for an alert replayed without one: a few minutes after
        it fired (time for the evidence to show), never past the end of the data."""
        latest = alert_at + REPLAY_LEAD
        end = self.info.time_range[1] if self.info.time_range else None
        return min(latest, end) if end else latest

    def at(self, now: datetime) -> ReplayBackend:
        """A backend that sees this dataset as of `now`."""
        return ReplayBackend(self, now)

    @functools.cached_property
    def _kinds(self) -> frozenset[TelemetryKind]:
        """The kinds the files hold (counted once: the files never change under a run)."""
        kinds: set[TelemetryKind] = set()
        for table, kind in (("metrics", "metrics"), ("logs", "logs"), ("spans", "traces")):
            if self._count(table):
                kinds.add(kind)  # type: ignore[arg-type]
        if self.changes:
            kinds.add("changes")
        if self.topology.services:
            kinds.add("topology")
        return frozenset(kinds)

    def kinds(self) -> set[TelemetryKind]:
        return set(self._kinds)

    def _count(self, table: str) -> int:
        row = self.store.cursor().execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def _topology(self) -> Topology:
        path = find_file(self.root, "topology.json")
        if path is not None:
            return read_json(path, Topology)
        return self._topology_from_traces()

    def _topology_from_traces(self) -> Topology:
        rows = (
            self.store.cursor()
            .execute(
                "SELECT parent_service, service FROM spans"
                " WHERE parent_service NOT IN ('', service) GROUP BY ALL ORDER BY ALL"
            )
            .fetchall()
        )
        if not rows:
            return Topology(source="empty")
        calls: dict[str, list[str]] = {}
        for caller, callee in rows:
            calls.setdefault(caller, []).append(callee)
            calls.setdefault(callee, [])
        nodes = [ServiceNode(name=name, depends_on=deps) for name, deps in sorted(calls.items())]
        return Topology(services=nodes, source="traces")

    def _services(self) -> list[str]:
        rows = (
            self.store.cursor()
            .execute(
                "SELECT DISTINCT service FROM metrics UNION SELECT DISTINCT service FROM logs"
                " UNION SELECT DISTINCT service FROM spans"
            )
            .fetchall()
        )
        names = {r[0] for r in rows if r[0]} | {s.name for s in self.topology.services}
        return sorted(names)


def _in_list(column: str, values: Sequence[str] | None, params: list[Any]) -> str:
    if not values:
        return ""
    params.extend(values)
    return f" AND {column} IN ({', '.join('?' for _ in values)})"


class ReplayBackend(TelemetryBackend):
    """Reads a ReplayDataset; the base class keeps every answer at or before `now`."""

    name = "replay"

    def __init__(self, dataset: ReplayDataset, now: datetime) -> None:
        super().__init__(now)
        self.dataset = dataset

    def kinds(self) -> set[TelemetryKind]:
        return self.dataset.kinds()

    def services(self) -> list[str]:
        return list(self.dataset.services)

    def topology(self) -> Topology:
        return self.dataset.topology

    def _query(self, sql: str, params: list[Any]) -> dict[str, np.ndarray]:
        return self.dataset.store.cursor().execute(sql, params).fetchnumpy()

    def _metric_series(
        self,
        window: TimeWindow,
        services: Sequence[str] | None,
        metrics: Sequence[str] | None,
        instances: Sequence[str] | None,
    ) -> list[Series]:
        params: list[Any] = [window.start_s, window.end_s]
        where = "t >= ? AND t <= ?"
        where += _in_list("service", services, params)
        where += _in_list("metric", metrics, params)
        where += _in_list("instance", instances, params)
        cols = self._query(
            "SELECT service, instance, metric, t, coalesce(value, 'nan'::DOUBLE) AS value"
            f" FROM metrics WHERE {where} ORDER BY service, instance, metric, t",
            params,
        )
        return _split_series(cols)

    def _metric_keys(self, window: TimeWindow) -> list[SeriesKey]:
        rows = (
            self.dataset.store.cursor()
            .execute(
                "SELECT DISTINCT service, instance, metric FROM metrics"
                " WHERE t >= ? AND t <= ? ORDER BY ALL",
                [window.start_s, window.end_s],
            )
            .fetchall()
        )
        return [SeriesKey(*row) for row in rows]

    def _logs(self, query: LogQuery) -> list[LogRecord]:
        params: list[Any] = [query.window.start_s, query.window.end_s]
        where = "t >= ? AND t <= ?"
        where += _in_list("service", query.services, params)
        levels = [lv.upper() for lv in query.levels] if query.levels else None
        where += _in_list("level", levels, params)
        if query.contains:
            where += " AND contains(lower(message), lower(?))"
            params.append(query.contains)
        if query.regex:
            where += " AND regexp_matches(message, ?)"
            params.append(query.regex)
        params.append(query.limit)
        rows = (
            self.dataset.store.cursor()
            .execute(
                "SELECT t, service, instance, level, message, template, trace_id FROM logs"
                f" WHERE {where} ORDER BY t DESC LIMIT ?",
                params,
            )
            .fetchall()
        )
        return [
            LogRecord(
                ts=from_epoch(t),
                service=service,
                instance=instance,
                level=level,
                message=message,
                template=template,
                trace_id=trace_id,
            )
            for t, service, instance, level, message, template, trace_id in rows
        ]

    def _log_template_counts(
        self,
        window: TimeWindow,
        bucket_s: float,
        services: Sequence[str] | None,
        levels: Sequence[str] | None,
    ) -> TemplateCounts:
        params: list[Any] = [bucket_s, bucket_s, window.start_s, window.end_s]
        where = "t >= ? AND t <= ?"
        where += _in_list("service", services, params)
        where += _in_list("level", [lv.upper() for lv in levels] if levels else None, params)
        cols = self._query(
            "SELECT floor(t / ?) * ? AS bucket_s, service, level, template, count(*) AS count,"
            " any_value(left(message, 300)) AS example"
            f" FROM logs WHERE {where} GROUP BY ALL ORDER BY bucket_s",
            params,
        )
        return TemplateCounts(
            bucket_s=cols["bucket_s"].astype(np.float64),
            service=cols["service"],
            level=cols["level"],
            template=cols["template"],
            count=cols["count"].astype(np.int64),
            example=cols["example"],
        )

    def _spans(self, window: TimeWindow, services: Sequence[str] | None) -> SpanFrame:
        params: list[Any] = [window.start_s, window.end_s]
        where = "t >= ? AND t <= ?" + _in_list("service", services, params)
        cols = self._query(
            "SELECT t AS ts, trace_id, service, instance, operation, duration_ms, self_ms, status,"
            f" parent_service, child_service FROM spans WHERE {where} ORDER BY t",
            params,
        )
        return SpanFrame(**{name: cols[name] for name in SPAN_COLUMNS})

    def _span_stats(self, window: TimeWindow, bucket_s: float) -> SpanStats:
        cols = self._query(
            "SELECT floor(t / ?) * ? AS bucket_s, service, operation, child_service AS peer,"
            " count(*)::DOUBLE AS count, sum(self_ms) AS self_ms, sum(duration_ms) AS duration_ms,"
            " count(*) FILTER (WHERE status = 'error')::DOUBLE AS errors"
            " FROM spans WHERE t >= ? AND t <= ? AND t + duration_ms / 1000 <= ?"
            " GROUP BY ALL ORDER BY ALL",
            [bucket_s, bucket_s, window.start_s, window.end_s, self.now_s],
        )
        return SpanStats(
            **{
                k: v.astype(np.float64) if k != "service" and v.dtype.kind == "f" else v
                for k, v in cols.items()
            }
        )

    def _changes(self, window: TimeWindow) -> list[Change]:
        return [c for c in self.dataset.changes if window.start_s <= to_epoch(c.ts) <= window.end_s]


def _split_series(cols: dict[str, np.ndarray]) -> list[Series]:
    """Cut columns sorted by (service, instance, metric, t) into one Series per key."""
    n = len(cols["t"])
    if n == 0:
        return []
    service, instance, metric = cols["service"], cols["instance"], cols["metric"]
    changed = (service[1:] != service[:-1]) | (instance[1:] != instance[:-1])
    changed |= metric[1:] != metric[:-1]
    starts = np.concatenate(([0], np.flatnonzero(changed) + 1))
    ends = np.concatenate((starts[1:], [n]))
    ts = cols["t"].astype(np.float64)
    values = cols["value"].astype(np.float64)
    return [
        Series(
            key=SeriesKey(str(service[a]), str(instance[a]), str(metric[a])),
            ts=ts[a:b],
            values=values[a:b],
        )
        for a, b in zip(starts, ends, strict=True)
    ]
