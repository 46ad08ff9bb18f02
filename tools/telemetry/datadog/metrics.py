"""Datadog metrics as replay/1 series: one timeseries request per batch of queries.

Each rule becomes a formula over one or more metric queries, grouped by the
service, instance and version tags (`by {service,host,version}`) and scoped to
the configured env. Queries go in batches of `queries_per_request` to
/api/v2/query/timeseries, and the roll-up is chosen from the window: the
finest interval (at least `min_interval_s`) that keeps a series under
`max_points`. A series' `version` tag becomes its key's version, and a version
first seen inside a window is a deploy (`version_changes`).
"""

from __future__ import annotations

import fnmatch
import itertools
import math
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from datadog_api_client.model_utils import ModelSimple
from datadog_api_client.v1.api.metrics_api import MetricsApi as MetricsApiV1
from datadog_api_client.v2.api.metrics_api import MetricsApi
from datadog_api_client.v2.model.metrics_data_source import MetricsDataSource
from datadog_api_client.v2.model.metrics_timeseries_query import MetricsTimeseriesQuery
from datadog_api_client.v2.model.query_formula import QueryFormula
from datadog_api_client.v2.model.timeseries_formula_query_request import (
    TimeseriesFormulaQueryRequest,
)
from datadog_api_client.v2.model.timeseries_formula_request import TimeseriesFormulaRequest
from datadog_api_client.v2.model.timeseries_formula_request_attributes import (
    TimeseriesFormulaRequestAttributes,
)
from datadog_api_client.v2.model.timeseries_formula_request_queries import (
    TimeseriesFormulaRequestQueries,
)
from datadog_api_client.v2.model.timeseries_formula_request_type import TimeseriesFormulaRequestType

from tools.telemetry.config import DatadogConfig, DatadogMetricRule
from tools.telemetry.datadog.client import DatadogClients
from tools.telemetry.datadog.presets import expand
from tools.telemetry.mapping import SeriesBuilder, keep_series, snake_case
from tools.telemetry.models import Change, Series, SeriesKey, TimeWindow, from_epoch

# Roll-ups Datadog answers with, finest first (seconds).
ROLLUPS = (1, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400)
DISCOVERY_TTL_S = 300.0
# Datadog names a group whose series lacks the tag N/A.
MISSING = "N/A"
_SCOPE = re.compile(r"^(?P<head>[^{]+)\{(?P<scope>[^{}]*)\}(?P<tail>.*)$")


@dataclass(frozen=True, slots=True)
class Target:
    """One replay/1 metric: a formula over named metric queries."""

    name: str
    formula: str
    queries: tuple[tuple[str, str], ...]
    scale: float = 1.0


def rollup(window_s: float, config: DatadogConfig) -> int:
    """The finest roll-up (s) keeping `window_s` under `max_points` per series."""
    for step in ROLLUPS:
        if step >= config.min_interval_s and window_s / step <= config.max_points:
            return step
    return ROLLUPS[-1]


def scoped(query: str, config: DatadogConfig, by: Sequence[str]) -> str:
    """`query` narrowed to the configured env and grouped by `by`:
    `avg:m{*}.as_rate()` -> `avg:m{env:prod} by {service,host}.as_rate()`."""
    found = _SCOPE.match(query)
    if found is None:
        raise ValueError(f"not a metrics query: {query}")
    scope = [t for t in found["scope"].split(",") if t.strip() and t.strip() != "*"]
    if config.env:
        scope.append(f"{config.tags.env}:{config.env}")
    grouped = f" by {{{','.join(by)}}}" if by else ""
    return f"{found['head']}{{{','.join(scope) or '*'}}}{grouped}{found['tail']}"


def default_name(metric: str, pattern: str) -> str:
    """replay/1 name of a discovered metric: the glob's fixed prefix dropped, the rest in
    snake_case (`shop.*` matching `shop.cpu_usage_pct` -> cpu_usage_pct)."""
    prefix = re.split(r"[*?\[]", pattern, maxsplit=1)[0] if pattern != metric else ""
    rest = metric[len(prefix) :] if prefix.endswith(".") else metric
    return snake_case(rest.replace(".", "_"))


def group_tags(tags: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for tag in tags:
        name, _, value = tag.partition(":")
        out[name] = "" if value == MISSING else value
    return out


class DatadogMetrics:
    """The metric side of the Datadog store."""

    def __init__(self, clients: DatadogClients, config: DatadogConfig) -> None:
        self.clients = clients
        self.config = config
        self.rules = [r for rule in config.metrics for r in expand(rule)]
        self._lock = threading.Lock()
        self._discovered: dict[str, tuple[float, list[str]]] = {}

    @property
    def by(self) -> list[str]:
        tags = self.config.tags
        return [t for t in (tags.service, tags.instance, tags.version) if t]

    # -- targets ------------------------------------------------------------------------
    def targets(self, now_s: float) -> list[Target]:
        out: list[Target] = []
        for rule in self.rules:
            out += self._targets_of(rule, now_s)
        return out

    def _targets_of(self, rule: DatadogMetricRule, now_s: float) -> list[Target]:
        if rule.query is not None:
            return [Target(rule.as_ or "", "q", (("q", rule.query),), rule.scale)]
        if rule.formula is not None:
            return [Target(rule.as_ or "", rule.formula, tuple(rule.inputs.items()), rule.scale)]
        pattern = rule.metric or ""
        names = self._active(pattern, now_s) if _is_glob(pattern) else [pattern]
        return [
            Target(
                rule.rename.get(name) or default_name(name, pattern),
                "q",
                (("q", f"{rule.aggregator}:{name}{{*}}"),),
                rule.scale,
            )
            for name in names
        ]

    def _active(self, pattern: str, now_s: float) -> list[str]:
        """Active metrics matching a glob (ListActiveMetrics over the lookback, cached)."""
        with self._lock:
            cached = self._discovered.get(pattern)
            if cached and time.monotonic() < cached[0]:
                return cached[1]
            since = int(now_s - self.config.services_lookback_s)
            args: dict[str, Any] = {}
            if self.config.env:
                args["tag_filter"] = f"{self.config.tags.env}:{self.config.env}"
            found = self.clients.api(MetricsApiV1).list_active_metrics(_from=since, **args)
            names = sorted(n for n in found.get("metrics", []) if fnmatch.fnmatchcase(n, pattern))
            self._discovered[pattern] = (time.monotonic() + DISCOVERY_TTL_S, names)
            return names

    # -- reads -------------------------------------------------------------------------
    def series(
        self,
        window: TimeWindow,
        services: Sequence[str] | None = None,
        metrics: Sequence[str] | None = None,
        instances: Sequence[str] | None = None,
    ) -> list[Series]:
        """Every target's series in `window`, at the window's roll-up."""
        targets = [t for t in self.targets(window.end_s) if not metrics or t.name in metrics]
        step = rollup(window.seconds, self.config)
        built = SeriesBuilder()
        for target, tags, ts, values in self._read(targets, window, step, self.by):
            key = self.key(target, tags)
            if key is not None and keep_series(key, services, metrics, instances):
                built.add(key, ts, values)
        return built.series(window.start_s, window.end_s)

    def key(self, target: Target, tags: dict[str, str]) -> SeriesKey | None:
        names = self.config.tags
        service = self.config.naming.resolve(tags.get(names.service, ""))
        if not service:
            return None
        instance = tags.get(names.instance, "") if names.instance else ""
        version = tags.get(names.version, "") if names.version else ""
        return SeriesKey(service, instance, target.name, version)

    def services(self, now_s: float) -> set[str]:
        """Services with any configured metric over the lookback: one point a series."""
        lookback = self.config.services_lookback_s
        window = TimeWindow.of(now_s - lookback, now_s)
        firsts = [_first_input(t) for t in self.targets(now_s)]
        step = next((r for r in ROLLUPS if r >= lookback), ROLLUPS[-1])
        found = set()
        for _, tags, _, _ in self._read(firsts, window, step, [self.config.tags.service]):
            service = self.config.naming.resolve(tags.get(self.config.tags.service, ""))
            if service:
                found.add(service)
        return found

    def version_changes(self, window: TimeWindow) -> list[Change]:
        """A deploy wherever a service's metrics first carry a new `version` tag inside
        `window` (Datadog's own deployment tracking does the same)."""
        names = self.config.tags
        targets = self.targets(window.end_s)[:1]
        if not names.version or not targets:
            return []
        step = rollup(window.seconds, self.config)
        first_seen: dict[str, dict[str, float]] = {}
        for _, tags, ts, _ in self._read(targets, window, step, [names.service, names.version]):
            service = self.config.naming.resolve(tags.get(names.service, ""))
            version = tags.get(names.version, "")
            if service and version and ts:
                seen = first_seen.setdefault(service, {})
                seen[version] = min(seen.get(version, math.inf), *ts)
        return [
            change
            for service, versions in sorted(first_seen.items())
            for change in _transitions(service, versions, window.start_s + step)
        ]

    def _read(
        self, targets: Sequence[Target], window: TimeWindow, step: int, by: Sequence[str]
    ) -> Iterator[tuple[Target, dict[str, str], list[float], list[float]]]:
        """(target, group tags, timestamps, values) of every series, batch by batch;
        points with no value (null) are left out."""
        start_ms = math.floor(window.start_s / step) * step * 1000
        end_ms = math.floor(window.end_s * 1000)
        if end_ms <= start_ms:
            return
        api = self.clients.api(MetricsApi)
        for batch in _batches(targets, self.config.queries_per_request):
            queries, formulas = self._request(batch, by)
            attributes = TimeseriesFormulaRequestAttributes(
                _from=start_ms,
                to=end_ms,
                interval=step * 1000,
                queries=TimeseriesFormulaRequestQueries(queries),
                formulas=formulas,
            )
            body = TimeseriesFormulaQueryRequest(
                data=TimeseriesFormulaRequest(
                    attributes=attributes, type=TimeseriesFormulaRequestType.TIMESERIES_REQUEST
                )
            )
            answer = api.query_timeseries_data(body).data.attributes
            times = [t / 1000.0 for t in _plain(answer.get("times"))]
            values = [_plain(row) for row in _plain(answer.get("values"))]
            for i, series in enumerate(_plain(answer.get("series"))):
                target = batch[series.get("query_index", i)]
                row = values[i] if i < len(values) else []
                points = [(t, float(v) * target.scale) for t, v in zip(times, row, strict=False)
                          if v is not None]  # fmt: skip
                yield (
                    target,
                    group_tags(_plain(series.get("group_tags"))),
                    [p[0] for p in points],
                    [p[1] for p in points],
                )

    def _request(
        self, batch: Sequence[Target], by: Sequence[str]
    ) -> tuple[list[MetricsTimeseriesQuery], list[QueryFormula]]:
        queries, formulas = [], []
        for i, target in enumerate(batch):
            names = {name: f"t{i}_{name}" for name, _ in target.queries}
            for name, query in target.queries:
                queries.append(
                    MetricsTimeseriesQuery(
                        data_source=MetricsDataSource.METRICS,
                        name=names[name],
                        query=scoped(query, self.config, by),
                    )
                )
            formula = _renamed(target.formula, names)
            formulas.append(QueryFormula(formula=formula))
        return queries, formulas


def _renamed(formula: str, names: dict[str, str]) -> str:
    return re.sub(r"\b([a-z][a-z0-9_]*)\b", lambda m: names.get(m[1], m[1]), formula)


def _plain(value: Any) -> list[Any]:
    """A list the client wraps in a ModelSimple (`times`, `values`, `series`) as a list."""
    if value is None:
        return []
    return list(value.value if isinstance(value, ModelSimple) else value)


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _first_input(target: Target) -> Target:
    return Target(target.name, "q", (("q", target.queries[0][1]),))


def _batches(targets: Sequence[Target], limit: int) -> Iterator[list[Target]]:
    """Targets packed into requests of at most `limit` queries, never split."""
    batch: list[Target] = []
    size = 0
    for target in targets:
        if batch and size + len(target.queries) > limit:
            yield batch
            batch, size = [], 0
        batch.append(target)
        size += len(target.queries)
    if batch:
        yield batch


def _transitions(service: str, versions: dict[str, float], settled_s: float) -> list[Change]:
    order = sorted(versions.items(), key=lambda kv: kv[1])
    out = []
    for (old, _), (new, since) in itertools.pairwise(order):
        if since >= settled_s:
            out.append(
                Change(
                    id=f"dd-version-{service}-{new}",
                    ts=from_epoch(since),
                    service=service,
                    kind="deploy",
                    summary=f"{service} {old} -> {new} (first seen in metrics tagged version)",
                    from_version=old,
                    to_version=new,
                )
            )
    return out
