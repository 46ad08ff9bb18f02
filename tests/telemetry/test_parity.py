"""The engine gives the same answer whichever store holds the data.

One dataset (the synthetic shop with its planted payment fault, moved to a few
days ago) is served three ways: from its replay files, from CloudWatch (moto:
metrics through ListMetrics/GetMetricData, logs through FilterLogEvents) and
from Prometheus (metrics) plus CloudWatch (logs). Each side reads the same
kinds: metrics, logs and the declared topology. Traces and changes are left
out on every side, because CloudWatch holds neither here (X-Ray and CloudTrail
cannot be written to moto the way the replay files hold them), so the
comparison stays apples to apples.
"""

from __future__ import annotations

import pytest

from tests.telemetry.conftest import Shifted, cloudwatch_config, prometheus_config
from tests.telemetry.support.parity import Run, assert_same, ranking, triage
from tests.telemetry.support.servers import NO_PROMETHEUS, PROMETHEUS, PROMTOOL
from tools.telemetry.config import TelemetryConfig


def replay_config(shifted: Shifted) -> TelemetryConfig:
    """Only the kinds the live side holds: metrics, logs, topology."""
    return TelemetryConfig(path=shifted.root, traces="none", changes="none")


@pytest.fixture(scope="module")
def replayed(shifted: Shifted) -> Run:
    run = triage(replay_config(shifted), shifted.case)
    assert ranking(run.isolation)[0] == "payment"
    print(f"\nreplay files: triage {run.seconds:.2f} s")
    return run


def test_cloudwatch_ranks_as_the_replay_files(
    loaded_moto: str, shifted: Shifted, replayed: Run
) -> None:
    config = TelemetryConfig(
        backend="cloudwatch",
        cloudwatch=cloudwatch_config(loaded_moto),
        topology_file=shifted.root / "topology.json",
    )
    run = triage(config, shifted.case)
    assert_same(run, replayed, "cloudwatch metrics+logs")
    calls = run.usage["cloudwatch"].calls
    assert calls["cloudwatch.GetMetricData"] == 1  # 71 series fit in one call
    assert not any(op.startswith("logs.StartQuery") for op in calls)  # the filter fallback


@pytest.mark.skipif(PROMETHEUS is None or PROMTOOL is None, reason=NO_PROMETHEUS)
def test_prometheus_metrics_with_cloudwatch_logs_rank_as_the_replay_files(
    loaded_moto: str, prometheus: str, shifted: Shifted, replayed: Run
) -> None:
    config = TelemetryConfig(
        backend="cloudwatch",
        metrics="prometheus",
        cloudwatch=cloudwatch_config(loaded_moto),
        prometheus=prometheus_config(prometheus),
        topology_file=shifted.root / "topology.json",
    )
    run = triage(config, shifted.case)
    assert_same(run, replayed, "prometheus metrics + cloudwatch logs")
    assert run.usage["prometheus"].calls["prometheus.query_range"] == 1
    assert "cloudwatch.GetMetricData" not in run.usage["cloudwatch"].calls


@pytest.mark.skipif(PROMETHEUS is None or PROMTOOL is None, reason=NO_PROMETHEUS)
def test_prometheus_metrics_alone_rank_as_the_replay_metrics(
    prometheus: str, shifted: Shifted
) -> None:
    only_metrics = TelemetryConfig(path=shifted.root, logs="none", traces="none", changes="none")
    replay = triage(only_metrics, shifted.case)
    config = TelemetryConfig(
        backend="prometheus",
        prometheus=prometheus_config(prometheus),
        topology_file=shifted.root / "topology.json",
    )
    assert_same(triage(config, shifted.case), replay, "prometheus metrics")
