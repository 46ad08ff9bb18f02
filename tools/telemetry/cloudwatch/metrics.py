"""CloudWatch metrics as replay/1 series: ListMetrics to discover, GetMetricData to read.

Rules (tools/telemetry/config.py) say which metrics matter and how their
dimensions name services and instances. Discovery is cached; reads are batched
(at most 500 queries a GetMetricData call, every page followed), percentiles
are plain statistics (`p99`) and rates and ratios are metric math, computed by
CloudWatch rather than fetched twice.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tools.telemetry.backend import TelemetryError
from tools.telemetry.cloudwatch.clients import AwsClients
from tools.telemetry.cloudwatch.presets import expand
from tools.telemetry.config import CloudWatchMetricRule
from tools.telemetry.mapping import SeriesBuilder, keep_series, snake_case
from tools.telemetry.models import Series, SeriesKey, TimeWindow, from_epoch

MAX_QUERIES = 500
ANY = "*"


@dataclass(frozen=True, slots=True)
class Target:
    """One discovered CloudWatch series (or metric math over several) and its key."""

    key: SeriesKey
    rule: CloudWatchMetricRule
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]


def default_name(metric_name: str, stat: str) -> str:
    """replay/1 name of a metric no rule renames: snake_case, plus the statistic
    unless it is the average (`TargetResponseTime` p99 -> target_response_time_p99)."""
    base = snake_case(metric_name)
    return base if stat == "Average" else f"{base}_{snake_case(stat)}"


def target_of(rule: CloudWatchMetricRule, metric: dict[str, Any]) -> Target | None:
    """The target for one ListMetrics entry, or None if its dimensions are not the
    rule's exactly (a metric with extra dimensions is another aggregation)."""
    dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
    required = {*rule.dimensions, rule.service_dimension or ""}
    # The instance dimension may be the service one (`payment-7f9c` names both).
    optional = {rule.instance_dimension} - required if rule.instance_dimension else set()
    if set(dims) - optional != required:
        return None
    if any(v != ANY and dims.get(k) != v for k, v in rule.dimensions.items()):
        return None
    service = rule.naming.resolve(dims[rule.service_dimension or ""])
    if not service:
        return None
    name = rule.as_ or default_name(metric["MetricName"], rule.stat)
    instance = dims.get(rule.instance_dimension or "", "")
    return Target(
        key=SeriesKey(service, instance, name),
        rule=rule,
        metric_name=metric["MetricName"],
        dimensions=tuple(sorted(dims.items())),
    )


def queries_for(target: Target, qid: str) -> list[dict[str, Any]]:
    """GetMetricData queries for one target; the one returning data has id `qid`."""
    rule = target.rule
    dims = [{"Name": k, "Value": v} for k, v in target.dimensions]

    def stat(query_id: str, metric_name: str, statistic: str, returned: bool) -> dict[str, Any]:
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": rule.namespace,
                    "MetricName": metric_name,
                    "Dimensions": dims,
                },
                "Period": rule.period_s,
                "Stat": statistic,
            },
            "ReturnData": returned,
        }

    if rule.expression is not None:
        inputs = [
            stat(f"{qid}_{name}", spec.metric_name, spec.stat, False)
            for name, spec in rule.inputs.items()
        ]
        expression = re.sub(
            r"\b(" + "|".join(map(re.escape, rule.inputs)) + r")\b",
            lambda m: f"{qid}_{m.group(1)}",
            rule.expression,
        )
        if rule.per_second:
            expression = f"({expression}) / PERIOD({inputs[0]['Id']})"
        return [*inputs, {"Id": qid, "Expression": expression, "ReturnData": True}]
    if rule.per_second:
        raw = stat(f"{qid}_raw", target.metric_name, rule.stat, False)
        return [
            raw,
            {"Id": qid, "Expression": f"{qid}_raw / PERIOD({qid}_raw)", "ReturnData": True},
        ]
    return [stat(qid, target.metric_name, rule.stat, True)]


def batches(
    targets: Sequence[Target], limit: int = MAX_QUERIES
) -> Iterator[tuple[dict[str, Target], list[dict[str, Any]]]]:
    """Targets packed into GetMetricData calls of at most `limit` queries, never
    splitting one target's queries across calls."""
    by_id: dict[str, Target] = {}
    queries: list[dict[str, Any]] = []
    for i, target in enumerate(targets):
        mine = queries_for(target, f"q{i}")
        if queries and len(queries) + len(mine) > limit:
            yield by_id, queries
            by_id, queries = {}, []
        by_id[f"q{i}"] = target
        queries += mine
    if queries:
        yield by_id, queries


class CloudWatchMetrics:
    """The metric side of the CloudWatch store."""

    def __init__(
        self, clients: AwsClients, rules: Sequence[CloudWatchMetricRule], ttl_s: float = 300.0
    ) -> None:
        self.clients = clients
        self.rules = [r for rule in rules for r in expand(rule)]
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._targets: tuple[float, list[Target]] | None = None

    @property
    def client(self) -> Any:
        return self.clients.client("cloudwatch")

    def targets(self) -> list[Target]:
        """Every series the rules match (ListMetrics, cached for `ttl_s`)."""
        with self._lock:
            if self._targets and time.monotonic() < self._targets[0]:
                return self._targets[1]
            found: dict[SeriesKey, Target] = {}
            for rule in self.rules:
                for metric in self._list(rule):
                    target = target_of(rule, metric)
                    if target is not None:
                        found.setdefault(target.key, target)
            targets = sorted(
                found.values(), key=lambda t: (t.key.service, t.key.instance, t.key.metric)
            )
            self._targets = (time.monotonic() + self.ttl_s, targets)
            return targets

    def _list(self, rule: CloudWatchMetricRule) -> Iterator[dict[str, Any]]:
        name = rule.metric_name or (
            next(iter(rule.inputs.values())).metric_name if rule.inputs else None
        )
        dims = [{"Name": rule.service_dimension}] + [
            {"Name": k} if v == ANY else {"Name": k, "Value": v} for k, v in rule.dimensions.items()
        ]
        args: dict[str, Any] = {"Namespace": rule.namespace, "Dimensions": dims}
        if name:
            args["MetricName"] = name
        for page in self.client.get_paginator("list_metrics").paginate(**args):
            yield from page.get("Metrics", [])

    def series(
        self,
        window: TimeWindow,
        services: Sequence[str] | None = None,
        metrics: Sequence[str] | None = None,
        instances: Sequence[str] | None = None,
    ) -> list[Series]:
        chosen = [t for t in self.targets() if keep_series(t.key, services, metrics, instances)]
        built = SeriesBuilder()
        by_period: dict[int, list[Target]] = {}
        for target in chosen:
            by_period.setdefault(target.rule.period_s, []).append(target)
        for period, members in sorted(by_period.items()):
            start = math.floor(window.start_s / period) * period
            end = math.floor(window.end_s / period) * period + period
            for by_id, queries in batches(members):
                self._read(built, by_id, queries, from_epoch(start), from_epoch(end))
        return built.series(window.start_s, window.end_s)

    def _read(
        self,
        built: SeriesBuilder,
        by_id: dict[str, Target],
        queries: list[dict[str, Any]],
        start: datetime,
        end: datetime,
    ) -> None:
        args: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            page = self.client.get_metric_data(**args)
            for result in page.get("MetricDataResults", []):
                target = by_id.get(result["Id"])
                if target is None:
                    continue
                if result.get("StatusCode") in {"Forbidden", "InternalError"}:
                    raise TelemetryError(
                        f"CloudWatch GetMetricData {result['StatusCode']} for {target.key.label()}"
                    )
                scale = target.rule.scale
                built.add(
                    target.key,
                    (ts.timestamp() for ts in result.get("Timestamps", [])),
                    (float(v) * scale for v in result.get("Values", [])),
                )
            token = page.get("NextToken")
            if not token:
                return
            args["NextToken"] = token
