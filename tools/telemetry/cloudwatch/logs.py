"""CloudWatch Logs as replay/1 log lines and template counts.

Lines are read through Logs Insights (server-side filters and per-second
counts) or, as the fallback, FilterLogEvents (plain terms; everything else is
filtered here). Either way each line is parsed here, the same way, and masked
with the replay store's own template function, so a line has the same template
whichever store it came from.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tools.telemetry.backend import TelemetryError
from tools.telemetry.cloudwatch.clients import AwsClients
from tools.telemetry.cloudwatch.insights import (
    MAX_ROWS,
    InsightsRunner,
    Limits,
    Query,
    Row,
    bin_spec,
    field,
    literal_regex,
    parse_time,
    regex,
    string_list,
)
from tools.telemetry.config import CloudWatchLogsConfig, LogGroupRule
from tools.telemetry.loglines import Line, LineFilter, TemplateCounter, to_record
from tools.telemetry.models import LogQuery, LogRecord, TemplateCounts, TimeWindow

_TEXT_LEVEL = re.compile(r"\b(TRACE|DEBUG|INFO|WARN(?:ING)?|ERROR|FATAL|CRITICAL)\b", re.I)
_LEVEL_ALIASES = {"WARNING": "WARN", "CRITICAL": "FATAL"}
SERVICES_LOOKBACK_S = 3600.0
MAX_SPLITS = 8


@dataclass(frozen=True, slots=True)
class LogGroup:
    """One log group; `service` None means each line names its own (`service_field`)."""

    name: str
    service: str | None
    service_field: str | None


class LineParser:
    """A raw CloudWatch line (JSON or text) as service, instance, level and message."""

    def __init__(self, config: CloudWatchLogsConfig) -> None:
        self.config = config

    def parse(self, group: LogGroup, stream: str, raw: str, ts_s: float) -> Line | None:
        record = _json_object(raw) if self.config.format == "json" else None
        if record is None:
            return self._text(group, stream, raw, ts_s)
        fields = self.config.fields
        service = group.service or _text(record.get(group.service_field or ""))
        if not service:
            return None
        message = record.get(fields.message)
        instance = stream
        if fields.instance is not None and fields.instance in record:
            instance = _text(record[fields.instance])
        trace = record.get(fields.trace_id)
        return Line(
            ts_s=ts_s,
            service=service,
            instance=instance,
            level=_text(record.get(fields.level)).upper(),
            message=raw.rstrip("\n") if message is None else _text(message),
            trace_id=str(trace) if trace else None,
        )

    def _text(self, group: LogGroup, stream: str, raw: str, ts_s: float) -> Line | None:
        if not group.service:
            return None
        found = _TEXT_LEVEL.search(raw)
        level = found.group(1).upper() if found else ""
        return Line(
            ts_s=ts_s,
            service=group.service,
            instance=stream,
            level=_LEVEL_ALIASES.get(level, level),
            message=raw.rstrip("\n"),
            trace_id=None,
        )


def _json_object(raw: str) -> dict[str, Any] | None:
    if not raw.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class CloudWatchLogs:
    """The log side of the CloudWatch store: groups, lines, counts."""

    def __init__(self, clients: AwsClients, config: CloudWatchLogsConfig) -> None:
        self.clients = clients
        self.config = config
        self.parser = LineParser(config)
        self._lock = threading.Lock()
        self._groups: tuple[float, list[LogGroup]] | None = None

    @property
    def client(self) -> Any:
        return self.clients.client("logs")

    def insights(self) -> InsightsRunner:
        cfg = self.config
        limits = Limits(cfg.max_bytes_scanned, cfg.poll_s, cfg.timeout_s)
        return InsightsRunner(self.client, limits, self.clients.counter)

    # -- groups ------------------------------------------------------------------------
    def groups(self) -> list[LogGroup]:
        """The configured groups, prefixes expanded (DescribeLogGroups, cached)."""
        with self._lock:
            if self._groups and time.monotonic() < self._groups[0]:
                return self._groups[1]
            found: dict[str, LogGroup] = {}
            for rule in self.config.groups:
                names = [rule.name] if rule.name else self._under(rule.prefix or "")
                for name in names:
                    group = _group(name, rule)
                    if group is not None:
                        found.setdefault(name, group)
            groups = sorted(found.values(), key=lambda g: g.name)
            self._groups = (time.monotonic() + self.config.discovery_ttl_s, groups)
            return groups

    def _under(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix)
        return [g["logGroupName"] for page in pages for g in page.get("logGroups", [])]

    def _selected(self, services: Sequence[str] | None) -> list[LogGroup]:
        wanted = set(services or ())
        return [g for g in self.groups() if g.service is None or not wanted or g.service in wanted]

    def services(self, now_s: float) -> set[str]:
        """Services with a group of their own, and (Insights only) those named by a
        service field in the last hour."""
        named = {g.service for g in self.groups() if g.service}
        by_field = [g for g in self.groups() if g.service is None and g.service_field]
        if by_field and self.config.query == "insights":
            start = now_s - SERVICES_LOOKBACK_S
            for name, members in _by_field(by_field).items():
                query = Query(fields=(name,), stats=f"count(*) as n by {field(name)}", sort=None)
                rows = self.insights().run(query, [g.name for g in members], start, now_s)
                named |= {r[name] for r in rows if r.get(name)}
        return named

    # -- lines -------------------------------------------------------------------------
    def records(self, query: LogQuery) -> list[LogRecord]:
        """Lines matching `query`, newest first, at most `query.limit`."""
        keep = LineFilter.of(query.services, query.levels, query.contains, query.regex)
        groups = self._selected(query.services)
        window, limit = query.window, query.limit
        if not groups or limit <= 0:
            return []
        if self.config.query == "insights":
            lines = self._insights_lines(
                window, groups, keep, contains=query.contains, pattern=query.regex, limit=limit
            )
        else:
            lines = self._filtered_lines(window, groups, keep, query.contains, limit)
        lines.sort(key=lambda line: -line.ts_s)
        return [to_record(line) for line in lines[:limit]]

    def _insights_lines(
        self,
        window: TimeWindow,
        groups: list[LogGroup],
        keep: LineFilter,
        *,
        contains: str | None,
        pattern: str | None,
        limit: int,
    ) -> list[Line]:
        lines: list[Line] = []
        for members, filters in self._queries(groups, keep):
            extra = [*filters, *self._text_filters(contains, pattern)]
            query = Query(filters=tuple(extra), limit=limit)
            rows = self.insights().run(
                query, [g.name for g in members], window.start_s, window.end_s
            )
            lines += self._lines(rows, members, keep, window)
        return lines

    def _filtered_lines(
        self,
        window: TimeWindow,
        groups: list[LogGroup],
        keep: LineFilter,
        contains: str | None,
        limit: int,
    ) -> list[Line]:
        """FilterLogEvents from the newest slice of the window backwards, each slice
        twice as wide, until `limit` lines matched or the window is read."""
        pattern = plain_term(contains)
        lo_ms, hi_ms = _ms_window(window)
        width = max(60_000, (hi_ms - lo_ms) // 16)
        lines: list[Line] = []
        while hi_ms >= lo_ms and len(lines) < limit:
            start = max(lo_ms, hi_ms - width + 1)
            lines += self._events_as_lines(groups, start, hi_ms, pattern, keep)
            hi_ms, width = start - 1, width * 2
        return lines

    def _events_as_lines(
        self,
        groups: list[LogGroup],
        start_ms: int,
        end_ms: int,
        pattern: str | None,
        keep: LineFilter,
    ) -> list[Line]:
        out = []
        for group, event in self._events(groups, start_ms, end_ms, pattern):
            line = self.parser.parse(
                group, event.get("logStreamName", ""), event["message"], event["timestamp"] / 1000
            )
            if line is not None and keep.keep(line):
                out.append(line)
        return out

    def _events(
        self, groups: list[LogGroup], start_ms: int, end_ms: int, pattern: str | None
    ) -> Iterator[tuple[LogGroup, dict[str, Any]]]:
        read = 0
        for group in groups:
            args: dict[str, Any] = {
                "logGroupName": group.name,
                "startTime": start_ms,
                "endTime": end_ms,
            }
            if pattern:
                args["filterPattern"] = pattern
            while True:
                page = self.client.filter_log_events(**args)
                for event in page.get("events", []):
                    read += 1
                    if read > self.config.max_events:
                        raise TelemetryError(
                            f"CloudWatch Logs: more than {self.config.max_events} lines in the"
                            " window (cloudwatch.logs.max_events); narrow it or use Insights"
                        )
                    yield group, event
                token = page.get("nextToken")
                if not token or token == args.get("nextToken"):
                    break
                args["nextToken"] = token

    # -- template counts ---------------------------------------------------------------
    def template_counts(
        self,
        window: TimeWindow,
        bucket_s: float,
        services: Sequence[str] | None,
        levels: Sequence[str] | None,
    ) -> TemplateCounts:
        """Lines per (bucket, service, level, template), as the replay store counts them."""
        keep = LineFilter.of(services, levels)
        counts = TemplateCounter(bucket_s)
        groups = self._selected(services)
        if not groups:
            return counts.frame()
        if self.config.query == "insights":
            for members, filters in self._queries(groups, keep):
                self._count_insights(counts, members, filters, keep, window)
        else:
            lo_ms, hi_ms = _ms_window(window)
            for group, event in self._events(groups, lo_ms, hi_ms, None):
                stream = event.get("logStreamName", "")
                line = self.parser.parse(group, stream, event["message"], event["timestamp"] / 1000)
                if line is not None and keep.keep(line):
                    counts.add_line(line)
        return counts.frame()

    def _count_insights(
        self,
        counts: TemplateCounter,
        members: list[LogGroup],
        filters: list[str],
        keep: LineFilter,
        window: TimeWindow,
        *,
        depth: int = 0,
        upto: float = math.inf,
    ) -> None:
        """Per-bucket counts of each distinct line; a window whose result hits the row
        cap is cut in two on a bucket boundary and each part counted on its own."""
        spec = bin_spec(counts.bucket_s)
        query = Query(
            fields=("@timestamp", "@message", "@log"),
            filters=tuple(filters),
            stats=f"count(*) as n by bin({spec}), @log, @message",
            sort=None,
        )
        rows = self.insights().run(query, [g.name for g in members], window.start_s, window.end_s)
        cut = math.floor((window.start_s + window.end_s) / 2 / counts.bucket_s) * counts.bucket_s
        if len(rows) >= MAX_ROWS:
            if depth >= MAX_SPLITS or not window.start_s < cut < window.end_s:
                raise TelemetryError("CloudWatch Logs Insights: too many distinct lines to count")
            head, tail = TimeWindow.of(window.start_s, cut), TimeWindow.of(cut, window.end_s)
            self._count_insights(counts, members, filters, keep, head, depth=depth + 1, upto=cut)
            self._count_insights(counts, members, filters, keep, tail, depth=depth + 1, upto=upto)
            return
        by_name = {g.name: g for g in members}
        # Insights reads whole seconds: a bucket belongs to the part it starts in.
        first = math.floor(window.start_s / counts.bucket_s) * counts.bucket_s
        for row in rows:
            bucket_key = next((k for k in row if k.startswith("bin(")), None)
            group = by_name.get(_group_name(row.get("@log", "")))
            if bucket_key is None or group is None:
                continue
            bucket = parse_time(row[bucket_key])
            if not first <= bucket < upto:
                continue
            line = self.parser.parse(group, "", row.get("@message", ""), bucket)
            if line is not None and keep.keep(line):
                counts.add(bucket, line, int(float(row.get("n", "0"))))

    # -- query pieces ------------------------------------------------------------------
    def _queries(
        self, groups: list[LogGroup], keep: LineFilter
    ) -> Iterator[tuple[list[LogGroup], list[str]]]:
        """Groups split by how lines name their service, with server-side filters."""
        base = self._level_filters(keep)
        fixed = [g for g in groups if g.service]
        if fixed:
            yield fixed, base
        for name, members in _by_field([g for g in groups if not g.service]).items():
            filters = list(base)
            if keep.services:
                filters.append(f"{field(name)} in {string_list(sorted(keep.services))}")
            yield members, filters

    def _level_filters(self, keep: LineFilter) -> list[str]:
        if self.config.format != "json" or not keep.levels or "" in keep.levels:
            return []
        level = field(self.config.fields.level)
        return [f"toupper({level}) in {string_list(sorted(keep.levels))}"]

    def _text_filters(self, contains: str | None, pattern: str | None) -> list[str]:
        """Server-side text filters: a superset of what LineFilter then keeps."""
        message = field(self.config.fields.message) if self.config.format == "json" else None
        out = []
        for literal in (literal_regex(contains),) if contains else ():
            out.append(_either(message, literal))
        if pattern:
            out.append(_either(message, regex(pattern)))
        return out

    def _lines(
        self, rows: list[Row], members: list[LogGroup], keep: LineFilter, window: TimeWindow
    ) -> list[Line]:
        by_name = {g.name: g for g in members}
        out = []
        for row in rows:
            group = by_name.get(_group_name(row.get("@log", "")))
            if group is None or "@timestamp" not in row:
                continue
            ts_s = parse_time(row["@timestamp"])
            if not window.start_s <= ts_s <= window.end_s:
                continue
            line = self.parser.parse(
                group, row.get("@logStream", ""), row.get("@message", ""), ts_s
            )
            if line is not None and keep.keep(line):
                out.append(line)
        return out


def _either(message_field: str | None, literal: str) -> str:
    if message_field is None:
        return f"@message like {literal}"
    return f"({message_field} like {literal} or @message like {literal})"


def _by_field(groups: list[LogGroup]) -> dict[str, list[LogGroup]]:
    out: dict[str, list[LogGroup]] = {}
    for group in groups:
        if group.service_field:
            out.setdefault(group.service_field, []).append(group)
    return out


def _group(name: str, rule: LogGroupRule) -> LogGroup | None:
    if rule.service_field:
        return LogGroup(name, None, rule.service_field)
    service = rule.service or rule.naming.resolve(name)
    return LogGroup(name, service, None) if service else None


def _group_name(log: str) -> str:
    """`@log` is `account-id:group-name`."""
    return log.split(":", 1)[1] if ":" in log else log


def plain_term(contains: str | None) -> str | None:
    """A FilterLogEvents pattern for `contains`. Filter terms are case-sensitive, so
    the usual casings are OR-ed (`?"Timeout" ?"timeout" ?"TIMEOUT"`); lines are
    re-checked here case-insensitively, as the replay store matches them."""
    if not contains or '"' in contains:
        return None
    variants = dict.fromkeys((contains, contains.lower(), contains.upper(), contains.capitalize()))
    if len(variants) == 1:
        return f'"{contains}"'
    return " ".join(f'?"{v}"' for v in variants)


def _ms_window(window: TimeWindow) -> tuple[int, int]:
    return math.ceil(window.start_s * 1000), math.floor(window.end_s * 1000)
