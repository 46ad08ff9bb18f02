"""Metric tools: what series exist, what they did, and how far they moved.

`list_metrics` finds names, `query_metrics` shows shapes (downsampled so a
day of samples fits a prompt) and `summarize_metric` says how unusual the
range is against the baseline just before it, scored like the engine scores
(median and IQR from tools.analysis.robust, per-family noise floors), so the
LLM and the engine agree on what "a big move" is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.analysis.metric_families import family_of
from tools.analysis.robust import Baseline, Direction
from tools.bounds import (
    Bounded,
    TimeRange,
    match_names,
    name_matcher,
    parse_duration,
    pattern_help,
    sig,
    take,
)
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.models import Series, SeriesKey, TimeWindow, from_epoch
from tools.toolset import Tool, Toolset

MAX_INSTANCES = 20
MAX_NAMES = 200
LEVEL_FLOOR = 0.01

# -- inputs ---------------------------------------------------------------------


class SeriesFilter(TimeRange):
    """Which metric series to read: patterns on service, metric and instance, in a range."""

    service: str | None = Field(None, description=pattern_help("Service"))
    metric: str | None = Field(
        None,
        description=pattern_help("Metric") + " Names carry their unit: 'cpu_usage_pct',"
        " 'latency_p99_s', '*latency*'. Call list_metrics to see what exists.",
    )
    instance: str | None = Field(
        None,
        description=pattern_help("Instance (pod, host)") + " '' selects service-level series.",
    )


class QueryMetricsInput(SeriesFilter):
    """Read metric series over a time range, downsampled to a few points each.

    Use it to see the shape of a series (when it moved, spikes, steps). To
    rank series by how unusual they are, call summarize_metric instead.
    """

    max_series: int = Field(10, ge=1, le=50, description="At most this many series.")
    max_points: int = Field(
        20,
        ge=2,
        le=500,
        description="At most this many points per series; longer series are averaged into"
        " equal time buckets (each point gives the bucket's mean, min and max).",
    )


class SummarizeMetricInput(SeriesFilter):
    """Per-series statistics over a range and how far it moved from the baseline before it.

    `z` is a robust z-score: (range median - baseline median) / baseline spread,
    where spread comes from the IQR with a floor for flat series. |z| above ~3
    is unusual, above ~10 is a clear shift; ~100 means the level rose from
    (near) zero, the most the floor allows. Follow up with query_metrics to see
    when it moved, or search_logs/recent_changes for the service.
    """

    last: str = Field(
        "15m",
        description="Length of the range ending at `end` when `start` is omitted, like '5m'"
        " or '1h'.",
    )
    baseline: str = Field(
        "60m",
        description="Length of the baseline window that ends where the range starts, like"
        " '60m'. The range is compared against it.",
    )
    max_series: int = Field(20, ge=1, le=100, description="At most this many series.")
    sort: Literal["deviation", "name"] = Field(
        "deviation",
        description="'deviation': most unusual first (largest |z|; on equal z, CPU, memory,"
        " errors and latency rank above traffic and client-side metrics); 'name': by"
        " service, instance, metric.",
    )


class ListMetricsInput(TimeRange):
    """List which services report which metrics in a range (names only, no values).

    Call it first to learn metric names and instances, then query_metrics or
    summarize_metric with them.
    """

    service: str | None = Field(None, description=pattern_help("Service"))
    metric: str | None = Field(None, description=pattern_help("Metric"))
    max_services: int = Field(30, ge=1, le=200, description="At most this many services.")


# -- outputs --------------------------------------------------------------------


class MetricPoint(BaseModel):
    """One point: a raw sample (n=1) or a bucket of samples starting at `t`."""

    t: datetime = Field(description="UTC time of the sample or of the bucket's start.")
    mean: float | None
    min: float | None
    max: float | None
    n: int = Field(description="Samples in the bucket (gaps excluded).")


class SeriesPoints(BaseModel):
    service: str
    instance: str = Field(description="Pod/host; empty for a service-level series.")
    metric: str
    samples: int = Field(description="Raw samples in the range before downsampling.")
    bucket_s: float = Field(description="Bucket width in seconds; 0 when points are raw.")
    points: list[MetricPoint]


class QueryMetricsOutput(Bounded):
    """Series in the range; `omitted` counts matching series beyond max_series."""

    window: TimeWindow
    series_total: int = Field(description="Series that matched before the cap.")
    series: list[SeriesPoints]


class MetricSummary(BaseModel):
    """One series over the range, and its move against the baseline."""

    service: str
    instance: str
    metric: str
    samples: int
    last: float | None
    mean: float | None
    median: float | None
    p95: float | None
    min: float | None
    max: float | None
    baseline_median: float | None = Field(description="Median of the baseline window.")
    baseline_scale: float | None = Field(
        description="Robust spread of the baseline (IQR/1.349), at least 1% of the level."
    )
    delta: float | None = Field(description="median - baseline_median, in the metric's unit.")
    z: float | None = Field(description="Robust z of the range median against the baseline.")
    last_z: float | None = Field(description="Robust z of the last sample.")
    harmful: Direction = Field(
        description="Which direction hurts for this kind of metric: up, down or both."
    )


class SummarizeMetricOutput(Bounded):
    """Summaries, most unusual first unless sorted by name."""

    window: TimeWindow
    baseline: TimeWindow
    series_total: int
    summaries: list[MetricSummary]


class ServiceMetrics(BaseModel):
    service: str
    metrics: list[str]
    instances: list[str] = Field(description="Up to 20 instances; '' is the service level.")
    instances_total: int


class ListMetricsOutput(Bounded):
    """Services with their metric names; `omitted` counts services beyond the cap."""

    window: TimeWindow
    metric_names: list[str] = Field(description=f"Distinct metric names (at most {MAX_NAMES}).")
    metric_names_total: int
    services: list[ServiceMetrics]


# -- series selection (shared by the tools) ---------------------------------------


def select_keys(
    backend: TelemetryBackend,
    window: TimeWindow,
    service: str | None,
    metric: str | None,
    instance: str | None = None,
) -> list[SeriesKey]:
    """Series with samples in `window` matching the patterns, sorted by name.

    A service pattern matching no known service is an input error naming it.
    """
    match_names(service, backend.services(), "service")
    keys = backend.metric_keys(window)
    for pattern, attr in ((service, "service"), (metric, "metric"), (instance, "instance")):
        if pattern is not None:
            keys = [k for k in keys if name_matcher(pattern)(getattr(k, attr))]
    return sorted(keys, key=lambda k: (k.service, k.instance, k.metric))


def fetch_series(
    backend: TelemetryBackend, window: TimeWindow, keys: Iterable[SeriesKey]
) -> list[Series]:
    """The samples of exactly `keys` in `window`, in the order of `keys`."""
    wanted = list(keys)
    if not wanted:
        return []
    found = backend.metric_series(
        window,
        services=sorted({k.service for k in wanted}),
        metrics=sorted({k.metric for k in wanted}),
    )
    by_key = {s.key: s for s in found}
    return [by_key[k] for k in wanted if k in by_key]


# -- query_metrics ----------------------------------------------------------------


def downsample(
    ts: np.ndarray, values: np.ndarray, window: TimeWindow, max_points: int
) -> tuple[list[MetricPoint], float]:
    """At most `max_points` points: raw samples when few, else equal-width time buckets
    with mean/min/max over non-gap samples. Returns the points and the bucket width."""
    if len(ts) <= max_points:
        return [
            MetricPoint(t=from_epoch(t), mean=sig(v), min=sig(v), max=sig(v), n=int(np.isfinite(v)))
            for t, v in zip(ts.tolist(), values.tolist(), strict=True)
        ], 0.0
    width = max(window.seconds / max_points, 1e-9)
    index = np.minimum(((ts - window.start_s) // width).astype(np.int64), max_points - 1)
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    finite = np.isfinite(values)
    counts = np.add.reduceat(finite.astype(np.int64), starts)
    sums = np.add.reduceat(np.where(finite, values, 0.0), starts)
    lows = np.minimum.reduceat(np.where(finite, values, np.inf), starts)
    highs = np.maximum.reduceat(np.where(finite, values, -np.inf), starts)
    points = [
        MetricPoint(
            t=from_epoch(window.start_s + int(index[a]) * width),
            mean=sig(s / n) if n else None,
            min=sig(lo) if n else None,
            max=sig(hi) if n else None,
            n=int(n),
        )
        for a, n, s, lo, hi in zip(starts, counts, sums, lows, highs, strict=True)
    ]
    return points, sig(width) or 0.0


def query_metrics(backend: TelemetryBackend, params: QueryMetricsInput) -> QueryMetricsOutput:
    """Metric series (values over time) for services/metrics/instances matching patterns.

    Each series is downsampled to at most `max_points` points (bucket mean, min, max).
    Use list_metrics to discover names and summarize_metric to rank series by how
    much they moved; follow a shift with search_logs or recent_changes.
    """
    window = params.window(backend)
    keys = select_keys(backend, window, params.service, params.metric, params.instance)
    chosen, omitted = take(keys, params.max_series)
    series = []
    for s in fetch_series(backend, window, chosen):
        points, width = downsample(s.ts, s.values, window, params.max_points)
        series.append(
            SeriesPoints(
                service=s.key.service,
                instance=s.key.instance,
                metric=s.key.metric,
                samples=len(s.ts),
                bucket_s=width,
                points=points,
            )
        )
    return QueryMetricsOutput(
        window=window,
        series_total=len(keys),
        series=series,
        truncated=omitted > 0,
        omitted=omitted,
    )


# -- summarize_metric ---------------------------------------------------------------


def _robust_z(value: float, baseline: Baseline, scale: float) -> float | None:
    if baseline.count == 0 or not np.isfinite(value):
        return None
    return sig((value - baseline.median) / scale, 4)


def _scale(baseline: Baseline, stats: dict[str, float]) -> float:
    """The baseline's robust spread, never below 1 % of the levels compared: a series
    flat at zero would otherwise score millions for a single request."""
    level = max(abs(baseline.median), abs(stats["median"]), abs(stats["last"]))
    return max(baseline.scale, LEVEL_FLOOR * level)


def summarize_series(series: Series, range_start_s: float) -> MetricSummary:
    """Stats of the samples at or after `range_start_s`, scored against those before it."""
    family = family_of(series.key.metric)
    in_range = series.ts >= range_start_s
    current = series.values[in_range]
    clean = current[np.isfinite(current)]
    baseline = Baseline.of(series.values[~in_range], family.abs_floor, family.rel_floor)
    stats = _stats(clean)
    has_base = baseline.count > 0 and clean.size > 0
    scale = _scale(baseline, stats) if has_base else float("nan")
    return MetricSummary(
        service=series.key.service,
        instance=series.key.instance,
        metric=series.key.metric,
        samples=int(clean.size),
        **{k: sig(v) for k, v in stats.items()},
        baseline_median=sig(baseline.median) if baseline.count else None,
        baseline_scale=sig(scale) if has_base else None,
        delta=sig(stats["median"] - baseline.median) if has_base else None,
        z=_robust_z(stats["median"], baseline, scale),
        last_z=_robust_z(stats["last"], baseline, scale),
        harmful=family.direction,
    )


def _stats(clean: np.ndarray) -> dict[str, float]:
    if clean.size == 0:
        return dict.fromkeys(("last", "mean", "median", "p95", "min", "max"), float("nan"))
    return {
        "last": float(clean[-1]),
        "mean": float(clean.mean()),
        "median": float(np.median(clean)),
        "p95": float(np.percentile(clean, 95)),
        "min": float(clean.min()),
        "max": float(clean.max()),
    }


def _telling(summary: MetricSummary) -> tuple[float, float]:
    """How much a summary says about its own service: |z| times its family's weight (a
    pod's CPU outranks its client-side latency on equal z), then the last sample's |z|."""
    weight = family_of(summary.metric).weight
    return abs(summary.z or 0.0) * weight, abs(summary.last_z or 0.0) * weight


def summarize_metric(
    backend: TelemetryBackend, params: SummarizeMetricInput
) -> SummarizeMetricOutput:
    """Summarize matching series over a range (last, mean, median, p95, min, max) and
    score each against the baseline window just before the range (delta, robust z).

    Most unusual series first. Use it to find which services/metrics shifted and
    by how much; then query_metrics to see when, search_logs to see why.
    """
    window = params.window(backend)
    baseline = TimeWindow.of(window.start_s - parse_duration(params.baseline), window.start_s)
    keys = select_keys(backend, window, params.service, params.metric, params.instance)
    both = TimeWindow.of(baseline.start_s, window.end_s)
    summaries = [summarize_series(s, window.start_s) for s in fetch_series(backend, both, keys)]
    if params.sort == "deviation":
        summaries.sort(key=_telling, reverse=True)
    chosen, omitted = take(summaries, params.max_series)
    return SummarizeMetricOutput(
        window=window,
        baseline=baseline,
        series_total=len(summaries),
        summaries=chosen,
        truncated=omitted > 0,
        omitted=omitted,
    )


# -- list_metrics -------------------------------------------------------------------


def list_metrics(backend: TelemetryBackend, params: ListMetricsInput) -> ListMetricsOutput:
    """List the services that report metrics in a range, with their metric names and
    instances. Call it before query_metrics or summarize_metric to learn the names."""
    window = params.window(backend)
    keys = select_keys(backend, window, params.service, params.metric)
    by_service: dict[str, list[SeriesKey]] = {}
    for key in keys:
        by_service.setdefault(key.service, []).append(key)
    services = [_service_metrics(name, mine) for name, mine in sorted(by_service.items())]
    names = sorted({k.metric for k in keys})
    chosen, omitted = take(services, params.max_services)
    return ListMetricsOutput(
        window=window,
        metric_names=names[:MAX_NAMES],
        metric_names_total=len(names),
        services=chosen,
        truncated=omitted > 0,
        omitted=omitted,
    )


def _service_metrics(service: str, keys: list[SeriesKey]) -> ServiceMetrics:
    instances = sorted({k.instance for k in keys})
    return ServiceMetrics(
        service=service,
        metrics=sorted({k.metric for k in keys}),
        instances=instances[:MAX_INSTANCES],
        instances_total=len(instances),
    )


TOOLSET = Toolset(
    name="metrics",
    description="Metric series: discover names, read values over time, score shifts.",
    tools=(
        Tool.from_function(list_metrics),
        Tool.from_function(query_metrics),
        Tool.from_function(summarize_metric),
    ),
    requires=frozenset({"metrics"}),
)
