"""Metric tools on the synthetic shop: the planted payment fault must stand out."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from tests.support.synthetic import GAP, SyntheticDataset
from tools.bounds import ToolInputError
from tools.metrics import (
    ListMetricsInput,
    QueryMetricsInput,
    SummarizeMetricInput,
    downsample,
    list_metrics,
    query_metrics,
    summarize_metric,
    summarize_series,
)
from tools.telemetry.models import Series, SeriesKey, TimeWindow
from tools.telemetry.replay.backend import ReplayBackend


def test_summarize_ranks_the_planted_fault_first(
    synthetic: SyntheticDataset, backend: ReplayBackend
) -> None:
    out = summarize_metric(backend, SummarizeMetricInput(last="5m"))
    top = out.summaries[0]
    assert top.service == synthetic.spec.fault_service
    assert top.metric == "latency_p99_s"
    assert top.z is not None and top.z > 50
    assert top.delta is not None and top.delta > 0.5
    assert top.harmful == "up"
    assert out.baseline.end == out.window.start
    assert out.baseline.seconds == 3600


def test_summarize_scores_the_planted_cpu_jump_and_not_the_bystanders(
    backend: ReplayBackend,
) -> None:
    out = summarize_metric(backend, SummarizeMetricInput(metric="cpu_usage_pct", last="5m"))
    by_service = {(s.service, s.instance): s for s in out.summaries}
    payment = by_service["payment", "payment-0"]
    assert payment.z is not None and payment.z > 10
    assert payment.baseline_median == pytest.approx(22, rel=0.1)
    assert payment.median == pytest.approx(22 * 3.8, rel=0.1)
    redis = by_service["redis", "redis-0"]
    assert redis.z is not None and abs(redis.z) < 4


def test_summarize_stats_are_consistent(backend: ReplayBackend) -> None:
    out = summarize_metric(backend, SummarizeMetricInput(service="payment", last="10m"))
    for s in out.summaries:
        assert s.samples == 11  # one a minute, both ends included
        assert s.min is not None and s.max is not None and s.median is not None
        assert s.min <= s.median <= s.max
        assert s.p95 is not None and s.p95 <= s.max
        assert s.last_z is not None


def test_summarize_caps_series_and_sorts_by_name(backend: ReplayBackend) -> None:
    out = summarize_metric(backend, SummarizeMetricInput(max_series=3, sort="name"))
    assert len(out.summaries) == 3
    assert out.truncated and out.omitted == out.series_total - 3
    names = [(s.service, s.instance, s.metric) for s in out.summaries]
    assert names == sorted(names)


def test_query_downsamples_within_the_cap(backend: ReplayBackend) -> None:
    params = QueryMetricsInput(service="payment", metric="cpu*", last="3h", max_points=12)
    out = query_metrics(backend, params)
    assert {s.instance for s in out.series} == {"payment-0", "payment-1"}
    for series in out.series:
        assert len(series.points) <= 12
        assert sum(p.n for p in series.points) == series.samples
        assert series.bucket_s == pytest.approx(out.window.seconds / 12)
        for p in series.points:
            assert p.min is not None and p.mean is not None and p.max is not None
            assert p.min <= p.mean <= p.max
        # The fault shows in the last bucket's max, not in the first bucket's.
        assert series.points[-1].max is not None and series.points[-1].max > 60
        assert series.points[0].max is not None and series.points[0].max < 30


def test_query_returns_raw_points_when_few(
    synthetic: SyntheticDataset, backend: ReplayBackend
) -> None:
    params = QueryMetricsInput(service="frontend", instance="", metric="latency_p99_s", last="5m")
    out = query_metrics(backend, params)
    (series,) = out.series
    assert series.instance == ""
    assert series.bucket_s == 0
    assert [p.n for p in series.points] == [1] * 6
    assert series.points[-1].t == synthetic.spec.now


def test_query_never_returns_samples_after_now(
    synthetic: SyntheticDataset, backend: ReplayBackend
) -> None:
    later = synthetic.spec.end.isoformat()
    out = query_metrics(backend, QueryMetricsInput(start="-30m", end=later, max_series=50))
    assert out.window.end == synthetic.spec.now
    assert out.series
    for series in out.series:
        assert all(p.t <= synthetic.spec.now for p in series.points)
    # The dataset does hold later samples: an unclamped backend would see them.
    later_backend = synthetic.backend(synthetic.spec.end)
    assert query_metrics(later_backend, QueryMetricsInput(last="5m")).window.end > out.window.end


def test_query_caps_series(backend: ReplayBackend) -> None:
    out = query_metrics(backend, QueryMetricsInput(metric="memory*", max_series=4))
    assert len(out.series) == 4
    assert out.series_total == 14
    assert out.truncated and out.omitted == 10


def test_query_keeps_gaps_as_missing_values(backend: ReplayBackend) -> None:
    service, metric, at = GAP
    start = at.isoformat()
    end = (at + timedelta(minutes=2)).isoformat()
    params = QueryMetricsInput(service=service, metric=metric, instance="*-0", start=start, end=end)
    (series,) = query_metrics(backend, params).series
    gap = series.points[0]
    assert gap.t == at
    assert gap.mean is None and gap.n == 0
    assert series.points[1].mean is not None


def test_query_with_no_matching_metric_is_empty_not_an_error(backend: ReplayBackend) -> None:
    out = query_metrics(backend, QueryMetricsInput(metric="no_such_metric"))
    assert out.series == [] and out.series_total == 0 and not out.truncated


def test_unknown_service_is_an_input_error(backend: ReplayBackend) -> None:
    with pytest.raises(ToolInputError, match="did you mean payment"):
        query_metrics(backend, QueryMetricsInput(service="paymnt"))


def test_list_metrics_names_services_metrics_and_instances(backend: ReplayBackend) -> None:
    out = list_metrics(backend, ListMetricsInput())
    assert out.metric_names == [
        "cpu_usage_pct",
        "error_rate_pct",
        "latency_p99_s",
        "memory_usage_mib",
        "requests_per_s",
    ]
    frontend = next(s for s in out.services if s.service == "frontend")
    assert frontend.instances == ["", "frontend-0", "frontend-1"]
    assert len(out.services) == 7 and not out.truncated
    capped = list_metrics(backend, ListMetricsInput(max_services=2))
    assert [s.service for s in capped.services] == ["cart", "catalog"]
    assert capped.truncated and capped.omitted == 5


def test_downsample_buckets_by_time() -> None:
    window = TimeWindow.of(0.0, 100.0)
    ts = np.arange(0.0, 100.0, 1.0)
    values = ts.copy()
    values[:10] = np.nan
    points, width = downsample(ts, values, window, 4)
    assert width == 25
    assert [p.n for p in points] == [15, 25, 25, 25]
    assert points[0].min == 10 and points[0].max == 24
    assert points[3].mean == pytest.approx(87.0)


def test_a_series_flat_at_zero_gets_a_bounded_z() -> None:
    ts = np.arange(0.0, 20.0)
    values = np.zeros(20)
    values[15:] = 0.07  # one request now and then, after an hour of none
    summary = summarize_series(Series(SeriesKey("a", "a-0", "requests_per_s"), ts, values), 15.0)
    assert summary.baseline_median == 0
    # judged against one request a minute, the smallest step a rate per second can take
    assert summary.baseline_scale == pytest.approx(1 / 60, rel=1e-4)
    assert summary.z == pytest.approx(0.07 * 60, rel=1e-3)
