"""Prometheus: a real server (Debian's `prometheus`) loaded with the shifted synthetic
dataset through `promtool tsdb create-blocks-from openmetrics`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.telemetry.conftest import Shifted, prometheus_config
from tests.telemetry.support.servers import NO_PROMETHEUS, PROMETHEUS, PROMTOOL
from tools.telemetry.backend import TelemetryError
from tools.telemetry.config import PrometheusConfig
from tools.telemetry.models import SeriesKey, TimeWindow
from tools.telemetry.prometheus import client as prom_client
from tools.telemetry.prometheus.backend import PrometheusStore

pytestmark = pytest.mark.skipif(PROMETHEUS is None or PROMTOOL is None, reason=NO_PROMETHEUS)


@pytest.fixture(scope="module")
def live(prometheus: str, shifted: Shifted) -> tuple[Any, Any]:
    store = PrometheusStore(prometheus_config(prometheus))
    return store.at(shifted.case.now), shifted.dataset.at(shifted.case.now)


def test_series_equal_the_replay_store_s_gaps_included(live: tuple[Any, Any]) -> None:
    prometheus, replay = live
    # From the first sample on: before it, Prometheus has nothing to look back to.
    window = TimeWindow.of(replay.dataset.info.time_range[0].timestamp(), prometheus.now_s + 900)
    ours = {s.key: s for s in prometheus.metric_series(window)}
    theirs = {s.key: s for s in replay.metric_series(window)}
    assert ours.keys() == theirs.keys() and len(ours) == 71
    gaps = 0
    for key, series in ours.items():
        assert series.ts.max() <= prometheus.now_s
        np.testing.assert_array_equal(series.ts, theirs[key].ts)
        np.testing.assert_array_equal(series.values, theirs[key].values)
        gaps += int(np.isnan(series.values).sum())
    assert gaps == 2  # the empty value of both catalog instances, stored and returned as NaN


def test_filters_keys_and_services(live: tuple[Any, Any]) -> None:
    prometheus, replay = live
    window = TimeWindow.of(prometheus.now_s - 600, prometheus.now_s)
    args = {"services": ["payment"], "metrics": ["cpu_usage_pct"], "instances": ["payment-1"]}
    assert [s.key for s in prometheus.metric_series(window, **args)] == [
        SeriesKey("payment", "payment-1", "cpu_usage_pct")
    ]
    assert prometheus.metric_keys(window) == replay.metric_keys(window)
    assert prometheus.services() == replay.services()
    assert prometheus.kinds() == {"metrics"}


def test_a_promql_rule_names_its_metric(prometheus: str, shifted: Shifted) -> None:
    config = PrometheusConfig.model_validate(
        {"url": prometheus, "instance_label": "pod", "naming": {"map": {"payment": "pay"}},
         "metrics": [{"promql": "max by (service) (cpu_usage_pct)", "as": "cpu_max_pct"}]}
    )  # fmt: skip
    backend = PrometheusStore(config).at(shifted.case.now)
    window = TimeWindow.of(backend.now_s - 600, backend.now_s)
    series = {s.key: s for s in backend.metric_series(window)}
    assert SeriesKey("pay", "", "cpu_max_pct") in series
    replay = shifted.dataset.at(shifted.case.now).metric_series(
        window, services=["payment"], metrics=["cpu_usage_pct"]
    )
    expected = np.max([s.values for s in replay], axis=0)
    np.testing.assert_array_equal(series[SeriesKey("pay", "", "cpu_max_pct")].values, expected)
    assert backend.metric_series(window, metrics=["other"]) == []


def test_long_windows_are_cut_into_requests_of_11000_points(
    live: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    prometheus, replay = live
    monkeypatch.setattr(prom_client, "MAX_POINTS", 7)
    before = prometheus.store.counter.usage()
    window = TimeWindow.of(prometheus.now_s - 1800, prometheus.now_s)
    ours = prometheus.metric_series(window, metrics=["latency_p99_s"])
    used = prometheus.store.counter.since(before)
    assert used.calls["prometheus.query_range"] == 5  # 31 steps, 7 a request
    theirs = {s.key: s for s in replay.metric_series(window, metrics=["latency_p99_s"])}
    for series in ours:
        np.testing.assert_array_equal(series.values, theirs[series.key].values)


def test_a_bad_query_says_what_prometheus_said(prometheus: str, shifted: Shifted) -> None:
    config = PrometheusConfig.model_validate(
        {"url": prometheus, "metrics": [{"promql": "rate(cpu_usage_pct)", "as": "x"}]}
    )
    backend = PrometheusStore(config).at(shifted.case.now)
    with pytest.raises(TelemetryError, match="bad_data"):
        backend.metric_series(TimeWindow.of(backend.now_s - 600, backend.now_s))


def test_prometheus_holds_no_logs_traces_or_changes(live: tuple[Any, Any]) -> None:
    prometheus, _ = live
    window = TimeWindow.of(prometheus.now_s - 600, prometheus.now_s)
    assert prometheus.logs(window) == []
    assert len(prometheus.log_template_counts(window, 60.0).count) == 0
    assert len(prometheus.spans(window)) == 0
    assert prometheus.changes(window) == []
    assert prometheus.topology().services == []
