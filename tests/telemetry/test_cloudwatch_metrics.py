"""CloudWatch metrics: ListMetrics + GetMetricData (MetricStat) against moto; percentiles,
metric math, batching and pages with Stubber and AWS's documented response shapes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from botocore.stub import ANY, Stubber

from tests.telemetry.conftest import REGION, Shifted, cloudwatch_config
from tools.telemetry.backend import TelemetryError
from tools.telemetry.cloudwatch.backend import CloudWatchStore
from tools.telemetry.cloudwatch.clients import AwsClients
from tools.telemetry.cloudwatch.metrics import (
    MAX_QUERIES,
    CloudWatchMetrics,
    Target,
    batches,
    default_name,
    queries_for,
    target_of,
)
from tools.telemetry.config import AwsConfig, CloudWatchMetricRule
from tools.telemetry.models import SeriesKey, TimeWindow

# -- against moto ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(loaded_moto: str, shifted: Shifted) -> tuple[Any, Any]:
    store = CloudWatchStore(cloudwatch_config(loaded_moto))
    return store.at(shifted.case.now), shifted.dataset.at(shifted.case.now)


def test_series_equal_the_replay_store_s(live: tuple[Any, Any]) -> None:
    cloudwatch, replay = live
    window = TimeWindow.of(cloudwatch.now_s - 1800, cloudwatch.now_s + 600)
    ours = {s.key: s for s in cloudwatch.metric_series(window)}
    theirs = {s.key: s for s in replay.metric_series(window)}
    assert ours.keys() == theirs.keys() and len(ours) == 71
    for key, series in ours.items():
        assert series.ts.max() <= cloudwatch.now_s
        np.testing.assert_array_equal(series.ts, theirs[key].ts)
        np.testing.assert_array_equal(series.values, theirs[key].values)


def test_filters_and_keys(live: tuple[Any, Any]) -> None:
    cloudwatch, replay = live
    window = TimeWindow.of(cloudwatch.now_s - 600, cloudwatch.now_s)
    args = {"services": ["frontend"], "metrics": ["latency_p99_s"], "instances": [""]}
    ours = cloudwatch.metric_series(window, **args)
    assert [s.key for s in ours] == [SeriesKey("frontend", "", "latency_p99_s")]
    assert [s.key for s in replay.metric_series(window, **args)] == [ours[0].key]
    assert set(cloudwatch.metric_keys(window)) == set(replay.metric_keys(window))


def test_metric_services(live: tuple[Any, Any]) -> None:
    cloudwatch, replay = live
    assert cloudwatch.services() == replay.services()


# -- discovery, queries, batches (pure) -----------------------------------------------

ALB = CloudWatchMetricRule.model_validate(
    {"namespace": "AWS/ApplicationELB", "metric_name": "TargetResponseTime", "stat": "p99",
     "as": "latency_p99_s", "service_dimension": "TargetGroup",
     "dimensions": {"LoadBalancer": "*"},
     "naming": {"pattern": r"^targetgroup/(?P<service>[^/]+)/", "strict": True}}
)  # fmt: skip
ERRORS = CloudWatchMetricRule.model_validate(
    {"namespace": "AWS/ApplicationELB", "as": "error_rate_pct", "service_dimension": "TargetGroup",
     "dimensions": {"LoadBalancer": "*"}, "expression": "100 * errors / requests",
     "inputs": {"errors": {"metric_name": "HTTPCode_Target_5XX_Count"},
                "requests": {"metric_name": "RequestCount"}},
     "naming": {"pattern": r"^targetgroup/(?P<service>[^/]+)/"}}
)  # fmt: skip
RATE = CloudWatchMetricRule.model_validate(
    {"namespace": "AWS/Lambda", "metric_name": "Invocations", "stat": "Sum", "per_second": True,
     "as": "requests_per_s", "service_dimension": "FunctionName"}
)  # fmt: skip
TG = "targetgroup/payment/73e2d6bc24d8a067"
LB = "app/shop/50dc6c495c0c9188"


def listed(name: str, **dims: str) -> dict[str, Any]:
    return {
        "Namespace": "AWS/ApplicationELB",
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
    }


def test_a_metric_matches_a_rule_only_with_exactly_its_dimensions() -> None:
    target = target_of(ALB, listed("TargetResponseTime", TargetGroup=TG, LoadBalancer=LB))
    assert target is not None
    assert target.key == SeriesKey("payment", "", "latency_p99_s")
    assert target_of(ALB, listed("TargetResponseTime", TargetGroup=TG)) is None
    extra = listed("TargetResponseTime", TargetGroup=TG, LoadBalancer=LB, AvailabilityZone="a")
    assert target_of(ALB, extra) is None
    assert target_of(ALB, listed("TargetResponseTime", TargetGroup="x", LoadBalancer=LB)) is None


def test_unnamed_metrics_keep_their_name_and_statistic() -> None:
    assert default_name("TargetResponseTime", "p99") == "target_response_time_p99"
    assert default_name("cpu_usage_pct", "Average") == "cpu_usage_pct"


def test_a_percentile_is_a_plain_statistic() -> None:
    target = target_of(ALB, listed("TargetResponseTime", TargetGroup=TG, LoadBalancer=LB))
    assert target is not None
    (query,) = queries_for(target, "q0")
    assert query["MetricStat"]["Stat"] == "p99"
    assert query["MetricStat"]["Period"] == 60
    assert query["ReturnData"] is True
    assert {d["Name"] for d in query["MetricStat"]["Metric"]["Dimensions"]} == {
        "TargetGroup", "LoadBalancer"
    }  # fmt: skip


def test_a_ratio_is_metric_math_over_hidden_inputs() -> None:
    target = target_of(ERRORS, listed("HTTPCode_Target_5XX_Count", TargetGroup=TG, LoadBalancer=LB))
    assert target is not None
    errors, requests, ratio = queries_for(target, "q3")
    assert (errors["Id"], errors["ReturnData"]) == ("q3_errors", False)
    assert requests["MetricStat"]["Metric"]["MetricName"] == "RequestCount"
    assert ratio == {"Id": "q3", "Expression": "100 * q3_errors / q3_requests", "ReturnData": True}


def test_a_rate_divides_by_the_period_in_cloudwatch() -> None:
    target = Target(SeriesKey("checkout", "", "requests_per_s"), RATE, "Invocations", (
        ("FunctionName", "checkout"),
    ))  # fmt: skip
    raw, rate = queries_for(target, "q1")
    assert raw["Id"] == "q1_raw" and raw["ReturnData"] is False
    assert rate["Expression"] == "q1_raw / PERIOD(q1_raw)"


def test_batches_hold_at_most_500_queries_and_never_split_a_target() -> None:
    targets = [
        Target(SeriesKey(f"fn{i}", "", "requests_per_s"), RATE, "Invocations",
               (("FunctionName", f"fn{i}"),))
        for i in range(300)
    ]  # fmt: skip
    packed = list(batches(targets))
    assert [len(queries) for _, queries in packed] == [500, 100]
    for by_id, queries in packed:
        ids = {q["Id"] for q in queries}
        assert all(qid in ids and f"{qid}_raw" in ids for qid in by_id)
    assert MAX_QUERIES == 500


# -- reads with Stubber ---------------------------------------------------------------

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def stubbed(aws_env: None) -> Iterator[tuple[CloudWatchMetrics, Stubber]]:
    clients = AwsClients(AwsConfig(region=REGION, max_attempts=1))
    metrics = CloudWatchMetrics(clients, [ALB, ERRORS])
    with Stubber(clients.client("cloudwatch")) as stub:
        yield metrics, stub


def list_response(stub: Stubber, rule: CloudWatchMetricRule, name: str) -> None:
    stub.add_response(
        "list_metrics",
        {"Metrics": [listed(name, TargetGroup=TG, LoadBalancer=LB)]},
        {"Namespace": rule.namespace, "MetricName": name,
         "Dimensions": [{"Name": "TargetGroup"}, {"Name": "LoadBalancer"}]},
    )  # fmt: skip


def test_series_from_pages_of_results(stubbed: tuple[CloudWatchMetrics, Stubber]) -> None:
    metrics, stub = stubbed
    list_response(stub, ALB, "TargetResponseTime")
    list_response(stub, ERRORS, "HTTPCode_Target_5XX_Count")
    minutes = [NOW - timedelta(minutes=m) for m in (3, 2, 1)]
    expected = {
        "MetricDataQueries": ANY,
        "StartTime": NOW - timedelta(minutes=5),
        "EndTime": NOW + timedelta(minutes=1),
        "ScanBy": "TimestampAscending",
    }
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [
            {"Id": "q0", "Label": "q0", "Timestamps": minutes[:2], "Values": [0.2, 0.25],
             "StatusCode": "PartialData"},
            {"Id": "q1", "Label": "q1", "Timestamps": minutes, "Values": [0.0, 1.5, 40.0],
             "StatusCode": "Complete"},
        ], "NextToken": "page-2", "Messages": []},
        expected,
    )  # fmt: skip
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [
            {"Id": "q0", "Label": "q0", "Timestamps": minutes[2:], "Values": [2.8],
             "StatusCode": "Complete"},
        ]},
        expected | {"NextToken": "page-2"},
    )  # fmt: skip
    window = TimeWindow.of(NOW.timestamp() - 300, NOW.timestamp())
    found = {s.key.metric: s for s in metrics.series(window)}
    stub.assert_no_pending_responses()
    # Targets go in key order: q0 is error_rate_pct, q1 latency_p99_s.
    assert found["error_rate_pct"].values.tolist() == [0.2, 0.25, 2.8]
    assert found["latency_p99_s"].values.tolist() == [0.0, 1.5, 40.0]
    assert found["error_rate_pct"].ts.tolist() == [m.timestamp() for m in minutes]


def test_a_forbidden_result_is_an_error(stubbed: tuple[CloudWatchMetrics, Stubber]) -> None:
    metrics, stub = stubbed
    list_response(stub, ALB, "TargetResponseTime")
    list_response(stub, ERRORS, "HTTPCode_Target_5XX_Count")
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [{"Id": "q0", "StatusCode": "Forbidden"}]},
        None,
    )
    with pytest.raises(TelemetryError, match="Forbidden"):
        metrics.series(TimeWindow.of(NOW.timestamp() - 300, NOW.timestamp()))


def test_discovery_is_cached(stubbed: tuple[CloudWatchMetrics, Stubber]) -> None:
    metrics, stub = stubbed
    list_response(stub, ALB, "TargetResponseTime")
    list_response(stub, ERRORS, "HTTPCode_Target_5XX_Count")
    first = metrics.targets()
    assert metrics.targets() is first
    assert metrics.clients.counter.usage().calls == {"cloudwatch.ListMetrics": 2}
