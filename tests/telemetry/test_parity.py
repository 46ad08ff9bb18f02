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

import time
from dataclasses import dataclass

import pytest

from agent.alert.parse import parse_alert
from agent.isolation.engine import isolate
from agent.isolation.models import Isolation
from tests.telemetry.conftest import Shifted, cloudwatch_config, prometheus_config
from tests.telemetry.support.servers import NO_PROMETHEUS, PROMETHEUS, PROMTOOL
from tools.telemetry.composite import Telemetry, open_telemetry
from tools.telemetry.config import TelemetryConfig
from tools.telemetry.metering import Usage

# Queries one triage may send to a live store (a regression guard on cost). Without
# Logs Insights (moto), the security scan's regex reads the window with
# FilterLogEvents in up to six slices per log group: about 30 calls here.
MAX_QUERIES = 40


@dataclass(frozen=True)
class Run:
    isolation: Isolation
    seconds: float
    usage: dict[str, Usage]


def triage(config: TelemetryConfig, shifted: Shifted) -> Run:
    opened = open_telemetry(config)
    assert opened is not None
    before = opened.usage() if isinstance(opened, Telemetry) else {}
    alerts = parse_alert(shifted.case.alert.payload, shifted.case.alert.source)
    started = time.perf_counter()
    isolation = isolate(opened(shifted.case.now), alerts)
    seconds = time.perf_counter() - started
    after = opened.usage() if isinstance(opened, Telemetry) else {}
    usage = {
        name: Usage(
            {k: v - before[name].calls.get(k, 0) for k, v in used.calls.items()},
            used.seconds - before[name].seconds,
            used.bytes_scanned - before[name].bytes_scanned,
        )
        for name, used in after.items()
    }
    return Run(isolation, seconds, usage)


def replay_config(shifted: Shifted) -> TelemetryConfig:
    """Only the kinds the live side holds: metrics, logs, topology."""
    return TelemetryConfig(path=shifted.root, traces="none", changes="none")


def ranking(isolation: Isolation) -> list[str]:
    return [h.service for h in isolation.hypotheses]


def assert_same(live: Run, replay: Run, label: str) -> None:
    assert ranking(live.isolation) == ranking(replay.isolation)
    for ours, theirs in zip(live.isolation.hypotheses, replay.isolation.hypotheses, strict=True):
        assert ours.confidence == pytest.approx(theirs.confidence, abs=1e-6)
        assert ours.fault_type == theirs.fault_type
    assert {e.id for e in live.isolation.evidence} == {e.id for e in replay.isolation.evidence}
    assert live.isolation.verdict == replay.isolation.verdict
    for store, used in live.usage.items():
        assert used.total <= MAX_QUERIES, f"{store}: {used}"
        print(f"\n{label}: {store}: {used}; triage {live.seconds:.2f} s")


@pytest.fixture(scope="module")
def replayed(shifted: Shifted) -> Run:
    run = triage(replay_config(shifted), shifted)
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
    run = triage(config, shifted)
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
    run = triage(config, shifted)
    assert_same(run, replayed, "prometheus metrics + cloudwatch logs")
    assert run.usage["prometheus"].calls["prometheus.query_range"] == 1
    assert "cloudwatch.GetMetricData" not in run.usage["cloudwatch"].calls


@pytest.mark.skipif(PROMETHEUS is None or PROMTOOL is None, reason=NO_PROMETHEUS)
def test_prometheus_metrics_alone_rank_as_the_replay_metrics(
    prometheus: str, shifted: Shifted
) -> None:
    only_metrics = TelemetryConfig(path=shifted.root, logs="none", traces="none", changes="none")
    replay = triage(only_metrics, shifted)
    config = TelemetryConfig(
        backend="prometheus",
        prometheus=prometheus_config(prometheus),
        topology_file=shifted.root / "topology.json",
    )
    assert_same(triage(config, shifted), replay, "prometheus metrics")
