"""A fake Datadog API on 127.0.0.1, loaded from a replay dataset.

It answers the requests the backend sends with the documented response shapes
(the official client's own models parse every answer, so a shape error fails
a test), keeps every request it received (so a test can prove a refused write
never arrived), checks the API key and each application key's scopes the way
Datadog does (403), and can answer 429 with the rate-limit headers or answer
slowly. It knows the subset of Datadog's query languages the backend speaks:
metrics queries `agg:metric{scope} by {tags}` with formulas, and searches of
`key:value`, `key:(a OR b)`, `-key:value`, quoted phrases, `(...)` and `OR`.

The estate is written the way the services being triaged would write it:
metrics as points tagged service/host/env (a `replay.` prefix on the names),
logs with a status (Datadog's default, info, where the line had none), spans
with parent links, changes as deploy events or change-tracking events.
"""

from __future__ import annotations

import csv
import json
import math
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.telemetry.support.servers import http_server
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import open_text, partitions

API_KEY = "fake-api-key"
APP_KEY = "fake-app-key"
ENV = "prod"
PREFIX = "replay."
ALL_SCOPES = frozenset(
    {"metrics_read", "timeseries_query", "logs_read_data", "apm_read", "events_read",
     "security_monitoring_signals_read"}
)  # fmt: skip
# route -> the scope Datadog requires for it (None: the API key alone)
ROUTES: dict[tuple[str, str], str | None] = {
    ("GET", "/api/v1/validate"): None,
    ("GET", "/api/v1/metrics"): "metrics_read",
    ("POST", "/api/v2/query/timeseries"): "timeseries_query",
    ("POST", "/api/v2/logs/events/search"): "logs_read_data",
    ("POST", "/api/v2/logs/analytics/aggregate"): "logs_read_data",
    ("POST", "/api/v2/spans/events/search"): "apm_read",
    ("POST", "/api/v2/spans/analytics/aggregate"): "apm_read",
    ("GET", "/api/v1/service_dependencies"): "apm_read",
    ("POST", "/api/v2/events/search"): "events_read",
    ("POST", "/api/v2/security_monitoring/signals/search"): "security_monitoring_signals_read",
}
LEVEL_STATUS = {"FATAL": "critical", "ERROR": "error", "WARN": "warn", "INFO": "info",
                "DEBUG": "debug", "TRACE": "trace", "": "info"}  # fmt: skip


# -- the estate -----------------------------------------------------------------------


@dataclass
class Estate:
    """What the fake Datadog holds."""

    points: list[tuple[str, dict[str, str], float, float]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    spans: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    signals: list[dict[str, Any]] = field(default_factory=list)


def iso(seconds: float) -> str:
    text = datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def epoch(text: str) -> float:
    if re.fullmatch(r"\d+", text):
        return int(text) / 1000.0
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def estate_from(dataset: ReplayDataset) -> Estate:
    """The replay dataset as Datadog would hold it."""
    estate = Estate()
    cursor = dataset.store.cursor()
    rows = cursor.execute("SELECT t, service, instance, metric, value FROM metrics").fetchall()
    for t, service, instance, metric, value in rows:
        if value is None or math.isnan(value):
            continue  # Datadog stores no NaN
        tags = {"service": service, "env": ENV} | ({"host": instance} if instance else {})
        estate.points.append((PREFIX + metric, tags, float(t), float(value)))
    logs = cursor.execute(
        "SELECT t, service, instance, level, message, trace_id FROM logs ORDER BY t"
    ).fetchall()
    for i, (t, service, instance, level, message, trace_id) in enumerate(logs):
        estate.logs.append(
            {"id": f"log-{i:08d}", "ts": t, "service": service, "host": instance,
             "status": LEVEL_STATUS.get(level, level.lower()), "message": message,
             "tags": [f"env:{ENV}", f"service:{service}"],
             "attributes": {"dd": {"trace_id": trace_id}} if trace_id else {}}
        )  # fmt: skip
    estate.spans = list(_spans(dataset))
    for change in dataset.changes:
        estate.events.append(_event(change))
    return estate


def _spans(dataset: ReplayDataset) -> Iterator[dict[str, Any]]:
    for path in partitions(dataset.root / "traces", ".csv"):
        for row in csv.DictReader(open_text(path)):
            yield {
                "trace_id": row["trace_id"], "span_id": row["span_id"],
                "parent_id": row.get("parent_span_id") or "0", "service": row["service"],
                "host": row.get("instance") or "", "resource_name": row.get("operation") or "",
                "start_s": epoch(row["ts"]), "duration_ms": float(row.get("duration_ms") or 0),
                "error": (row.get("status") or "").lower() == "error", "env": ENV,
            }  # fmt: skip


def _event(change: Any) -> dict[str, Any]:
    """A deploy as an event tagged `deployment`; config and flags as change events."""
    ts = change.ts.timestamp()
    if change.kind == "deploy":
        tags = ["deployment", f"service:{change.service}", f"env:{ENV}"]
        tags += [f"version:{change.to_version}"] if change.to_version else []
        tags += [f"previous_version:{change.from_version}"] if change.from_version else []
        inner = {"title": change.summary, "timestamp": int(ts * 1000), "service": change.service}
    elif change.kind in {"config", "feature_flag"}:
        tags = [f"env:{ENV}"]
        kind = "feature_flag" if change.kind == "feature_flag" else "configuration"
        inner = {
            "title": change.summary, "timestamp": int(ts * 1000),
            "evt": {"category": "change", "id": change.id},
            "changed_resource": {"name": change.summary[:40], "type": kind},
            "impacted_resources": [{"name": change.service, "type": "service"}],
            "author": {"name": change.actor or "someone", "type": "user"},
        }  # fmt: skip
    else:
        raise ValueError(f"the fake holds no {change.kind} change")
    return {"id": change.id, "ts": ts, "tags": tags, "message": change.summary, "attributes": inner}


# -- search syntax --------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(\(|\)|"(?:[^"\\]|\\.)*"|-?[^\s()"]+:\((?:[^()]*)\)|[^\s()]+)')
Matcher = Callable[[dict[str, Any]], bool]


def search(query: str) -> Matcher:
    """A record predicate for a Datadog search (the subset the backend speaks)."""
    tokens = [t for t in _TOKEN.findall(query or "*") if t.strip()]
    matcher, rest = _or(tokens)
    assert not rest, f"unparsed search: {rest}"
    return matcher


def _or(tokens: list[str]) -> tuple[Matcher, list[str]]:
    parts = []
    left, tokens = _and(tokens)
    parts.append(left)
    while tokens and tokens[0] == "OR":
        right, tokens = _and(tokens[1:])
        parts.append(right)
    return (lambda r: any(p(r) for p in parts)), tokens


def _and(tokens: list[str]) -> tuple[Matcher, list[str]]:
    parts = []
    while tokens and tokens[0] not in {")", "OR"}:
        token = tokens[0]
        if token == "(":
            inner, rest = _or(tokens[1:])
            assert rest and rest[0] == ")", f"unbalanced search near {tokens}"
            parts.append(inner)
            tokens = rest[1:]
        else:
            parts.append(_term(token))
            tokens = tokens[1:]
    return (lambda r: all(p(r) for p in parts)), tokens


def _term(token: str) -> Matcher:
    negate = token.startswith("-")
    token = token.lstrip("-")
    if token == "*":
        base: Matcher = lambda r: True  # noqa: E731
    elif token.startswith('"'):
        phrase = json.loads(token).lower()
        base = lambda r: phrase in str(r.get("message", "")).lower()  # noqa: E731
    elif ":" in token:
        key, _, value = token.partition(":")
        values = [v.strip().strip('"') for v in value.strip("()").split(" OR ")]
        base = lambda r: any(_has(r, key, v) for v in values)  # noqa: E731
    else:
        base = lambda r: token.lower() in str(r.get("message", "")).lower()  # noqa: E731
    return (lambda r: not base(r)) if negate else base


def _has(record: dict[str, Any], key: str, value: str) -> bool:
    key = key.lstrip("@")
    if str(record.get(key, "")) == value:
        return True
    tags = record.get("tags", [])
    return f"{key}:{value}" in tags or (key == "tags" and value in tags)


# -- metrics queries ------------------------------------------------------------------

_METRIC = re.compile(
    r"^(?P<agg>\w+):(?P<metric>[\w.\-]+)\{(?P<scope>[^}]*)\}(?: by \{(?P<by>[^}]*)\})?"
    r"(?P<rate>\.as_rate\(\))?$"
)
_AGG: dict[str, Callable[[list[float]], float]] = {
    "avg": lambda v: sum(v) / len(v), "sum": sum, "min": min, "max": max,
}  # fmt: skip


def _query_groups(
    estate: Estate, query: str, start_s: float, end_s: float, step_s: float
) -> dict[tuple[str, ...], dict[float, float]]:
    """group tags -> bucket start -> value, as Datadog computes one metrics query."""
    found = _METRIC.match(query)
    assert found, f"not a metrics query the fake knows: {query}"
    scope = [t for t in found["scope"].split(",") if t and t != "*"]
    by = [t for t in (found["by"] or "").split(",") if t]
    cells: dict[tuple[str, ...], dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for metric, tags, ts, value in estate.points:
        if metric != found["metric"] or not start_s <= ts <= end_s:
            continue
        if not all(tags.get(k) == v for k, v in (t.split(":", 1) for t in scope)):
            continue
        group = tuple(f"{k}:{tags.get(k, 'N/A')}" for k in by)
        cells[group][math.floor(ts / step_s) * step_s].append(value)
    aggregate = _AGG[found["agg"]]
    rate = step_s if found["rate"] else 1.0
    return {
        group: {bucket: aggregate(values) / rate for bucket, values in buckets.items()}
        for group, buckets in cells.items()
    }


def _timeseries(estate: Estate, body: dict[str, Any]) -> dict[str, Any]:
    attrs = body["data"]["attributes"]
    step_s = attrs["interval"] / 1000.0
    start_s, end_s = attrs["from"] / 1000.0, attrs["to"] / 1000.0
    by_name = {q["name"]: _query_groups(estate, q["query"], start_s, end_s, step_s)
               for q in attrs["queries"]}  # fmt: skip
    times = []
    bucket = math.floor(start_s / step_s) * step_s
    while bucket <= end_s:
        times.append(bucket)
        bucket += step_s
    series, values = [], []
    for index, formula in enumerate(attrs.get("formulas") or []):
        names = sorted(set(re.findall(r"[a-z][a-z0-9_]*", formula["formula"])) & set(by_name))
        groups = set.intersection(*(set(by_name[n]) for n in names)) if names else set()
        for group in sorted(groups):
            row = []
            for t in times:
                bound = {n: by_name[n][group].get(t) for n in names}
                row.append(None if None in bound.values() else _eval(formula["formula"], bound))
            series.append({"group_tags": list(group), "query_index": index, "unit": None})
            values.append(row)
    return {"data": {"type": "timeseries_response", "attributes": {
        "series": series, "times": [int(t * 1000) for t in times], "values": values}}}  # fmt: skip


def _eval(formula: str, bound: dict[str, Any]) -> float | None:
    assert re.fullmatch(r"[\w\s.+\-*/()]+", formula), formula
    try:
        return float(eval(formula, {"__builtins__": {}}, bound))  # only names and arithmetic
    except ZeroDivisionError:
        return None


# -- the server -----------------------------------------------------------------------


@dataclass
class FakeDatadog:
    """The fake's state: what it holds, who may read what, what it was sent."""

    estate: Estate
    url: str = ""
    scopes: dict[str, frozenset[str]] = field(default_factory=lambda: {APP_KEY: ALL_SCOPES})
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    throttled: int = 0  # answer this many requests with 429
    reset_s: int = 1
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _records: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    def records(self, kind: str) -> list[dict[str, Any]]:
        """One kind's searchable records, built on first use (`forget` after a change)."""
        with self.lock:
            if kind not in self._records:
                build = {"logs": self._logs, "spans": self._spans, "events": self._events,
                         "security_monitoring": self._signals}[kind]  # fmt: skip
                self._records[kind] = build()
            return self._records[kind]

    def forget(self) -> None:
        with self.lock:
            self._records.clear()

    def count(self, path: str) -> int:
        return sum(1 for _, p, _ in self.requests if p == path)

    def answer(self, method: str, path: str, query: dict[str, list[str]],
               body: Any, headers: Any) -> tuple[int, dict[str, str], Any]:  # fmt: skip
        with self.lock:
            self.requests.append((method, path, body))
            throttled = self.throttled > 0
            self.throttled -= 1 if throttled else 0
        if self.delay_s:
            time.sleep(self.delay_s)
        if throttled:
            return 429, _rate_headers(self.reset_s), {"errors": ["Rate limit exceeded"]}
        if (method, path) not in ROUTES:
            return 404, {}, {"errors": ["Not found"]}
        if headers.get("DD-API-KEY") != API_KEY:
            return 403, {}, {"errors": ["Forbidden"]}
        scope = ROUTES[(method, path)]
        granted = self.scopes.get(headers.get("DD-APPLICATION-KEY"), frozenset())
        if scope is not None and scope not in granted:
            return 403, {}, {"errors": ["Forbidden"]}
        return 200, _rate_headers(0), self._route(method, path, query, body)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        first = {k: v[0] for k, v in query.items()}
        if path == "/api/v1/validate":
            return {"valid": True}
        if path == "/api/v1/metrics":
            return self._active(first)
        if path == "/api/v2/query/timeseries":
            return _timeseries(self.estate, body)
        if path == "/api/v1/service_dependencies":
            return self._dependencies(first)
        kind = path.split("/")[3]
        records = self.records(kind)
        if path.endswith("/aggregate"):
            return _aggregate(kind, records, body)
        return _list(kind, records, body)

    def _active(self, query: dict[str, str]) -> dict[str, Any]:
        since = int(query["from"])
        wanted = query.get("tag_filter")
        names = {
            m for m, tags, ts, _ in self.estate.points
            if ts >= since and (not wanted or wanted in {f"{k}:{v}" for k, v in tags.items()})
        }  # fmt: skip
        return {"from": str(since), "metrics": sorted(names)}

    def _dependencies(self, query: dict[str, str]) -> dict[str, Any]:
        start, end = float(query.get("start", 0)), float(query.get("end", 1e12))
        spans = [s for s in self.estate.spans if s["env"] == query["env"]
                 and start <= s["start_s"] <= end]  # fmt: skip
        by_id = {(s["trace_id"], s["span_id"]): s["service"] for s in spans}
        calls: dict[str, set[str]] = defaultdict(set)
        for s in spans:
            calls[s["service"]]
            caller = by_id.get((s["trace_id"], s["parent_id"]))
            if caller and caller != s["service"]:
                calls[caller].add(s["service"])
        return {name: {"calls": sorted(callees)} for name, callees in calls.items()}

    # Each kind as searchable records: ts, the searchable fields, and the answer item.
    def _logs(self) -> list[dict[str, Any]]:
        return [log | {"item": {"id": log["id"], "type": "log", "attributes": {
            "service": log["service"], "host": log["host"], "status": log["status"],
            "message": log["message"], "tags": log["tags"], "timestamp": iso(log["ts"]),
            "attributes": log["attributes"]}}} for log in self.estate.logs]  # fmt: skip

    def _spans(self) -> list[dict[str, Any]]:
        out = []
        for s in self.estate.spans:
            end = s["start_s"] + s["duration_ms"] / 1000
            attributes = {
                "service": s["service"], "resource_name": s["resource_name"], "env": s["env"],
                "host": s["host"], "span_id": s["span_id"], "parent_id": s["parent_id"],
                "trace_id": s["trace_id"], "type": "web", "start_timestamp": iso(s["start_s"]),
                "end_timestamp": iso(end), "tags": [f"env:{s['env']}", f"service:{s['service']}"],
                "custom": {"duration": round(s["duration_ms"] * 1e6),
                           "error": int(s["error"])},
                "attributes": {"status": "error" if s["error"] else "ok"},
            }  # fmt: skip
            out.append({"ts": s["start_s"], "service": s["service"], "env": s["env"],
                        "status": "error" if s["error"] else "ok",
                        "resource_name": s["resource_name"], "duration": s["duration_ms"] * 1e6,
                        "tags": attributes["tags"],
                        "item": {"id": f"{s['trace_id']}-{s['span_id']}", "type": "spans",
                                 "attributes": attributes}})  # fmt: skip
        return out

    def _events(self) -> list[dict[str, Any]]:
        out = []
        for e in self.estate.events:
            attributes = {"timestamp": iso(e["ts"]), "tags": e["tags"], "message": e["message"],
                          "attributes": e["attributes"] | {"tags": e["tags"]}}  # fmt: skip
            out.append(e | {"item": {"id": e["id"], "type": "event", "attributes": attributes}})
        return out

    def _signals(self) -> list[dict[str, Any]]:
        return [s | {"item": {"id": s["id"], "type": "signal", "attributes": {
            "timestamp": iso(s["ts"]), "tags": s["tags"], "message": s["message"],
            "attributes": s["attributes"]}}} for s in self.estate.signals]  # fmt: skip


def _rate_headers(reset_s: int) -> dict[str, str]:
    return {"X-RateLimit-Limit": "300", "X-RateLimit-Period": "3600",
            "X-RateLimit-Remaining": "0" if reset_s else "299",
            "X-RateLimit-Reset": str(reset_s), "X-RateLimit-Name": "fake"}  # fmt: skip


def _request_attributes(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Spans requests wrap their attributes in `data`; the others do not."""
    return body["data"]["attributes"] if kind == "spans" else body


def _selected(kind: str, records: list[dict[str, Any]], body: dict[str, Any]) -> list[Any]:
    attrs = _request_attributes(kind, body)
    window = attrs.get("filter", {})
    start = epoch(window["from"]) if "from" in window else -math.inf
    end = epoch(window["to"]) if "to" in window else math.inf
    keep = search(window.get("query", "*"))
    # Datadog ranges are [from, to); the backend asks for one millisecond past its window.
    return [r for r in records if start <= r["ts"] < end and keep(r)]


def _list(kind: str, records: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    attrs = _request_attributes(kind, body)
    found = sorted(_selected(kind, records, body), key=lambda r: r["ts"],
                   reverse=attrs.get("sort", "-timestamp").startswith("-"))  # fmt: skip
    page = attrs.get("page", {})
    offset = int(page.get("cursor") or 0)
    limit = int(page.get("limit") or 10)
    items = [r["item"] for r in found[offset : offset + limit]]
    more = offset + limit < len(found)
    meta: dict[str, Any] = {"elapsed": 1, "request_id": "fake", "status": "done"}
    if more:
        meta["page"] = {"after": str(offset + limit)}
    answer: dict[str, Any] = {"data": items, "meta": meta}
    if more:
        answer["links"] = {"next": f"https://fake/next?cursor={offset + limit}"}
    return answer


def _aggregate(kind: str, records: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    attrs = _request_attributes(kind, body)
    found = _selected(kind, records, body)
    facets = [g["facet"] for g in attrs.get("group_by", [])]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in found:
        groups[tuple(_facet(r, f) for f in facets)].append(r)
    buckets = []
    for key, members in sorted(groups.items(), key=lambda kv: str(kv[0])):
        computes = {f"c{i}": _compute(c, members) for i, c in enumerate(attrs["compute"])}
        by = dict(zip(facets, key, strict=True))
        buckets.append({"by": by, "computes": computes})
    meta = {"elapsed": 1, "request_id": "fake", "status": "done"}
    if kind == "spans":
        return {"data": [{"id": str(i), "type": "bucket", "attributes": b}
                         for i, b in enumerate(buckets)], "meta": meta}  # fmt: skip
    return {"data": {"buckets": buckets}, "meta": meta}


def _facet(record: dict[str, Any], facet: str) -> Any:
    return record.get(facet.lstrip("@"), "")


def _compute(compute: dict[str, Any], members: list[dict[str, Any]]) -> Any:
    def value(rows: list[dict[str, Any]]) -> float:
        if compute["aggregation"] == "count":
            return float(len(rows))
        return float(sum(r.get(compute["metric"].lstrip("@"), 0) for r in rows))

    if compute.get("type") != "timeseries":
        return value(members)
    step = float(compute["interval"].rstrip("s"))
    cells: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for r in members:
        cells[math.floor(r["ts"] / step) * step].append(r)
    return [{"time": iso(t), "value": value(rows)} for t, rows in sorted(cells.items())]


@contextmanager
def fake_datadog(estate: Estate) -> Iterator[FakeDatadog]:
    """The fake serving `estate` on a free port of 127.0.0.1."""
    fake = FakeDatadog(estate)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            status, headers, answer = fake.answer(
                self.command, parts.path, parse_qs(parts.query), body, self.headers
            )
            data = json.dumps(answer).encode()
            self.send_response(status)
            for key, value in {**headers, "Content-Type": "application/json"}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            return

    with http_server(Handler) as url:
        fake.url = url
        yield fake
