"""Prometheus as users run it: its own ALERTS series sit beside the services' metrics, and
series often carry more labels than service and instance. Neither may leak into the engine
or flood the log."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.telemetry.support.servers import NO_PROMETHEUS, PROMETHEUS, PROMTOOL, prometheus_server
from tools.telemetry.config import PrometheusConfig
from tools.telemetry.models import TimeWindow
from tools.telemetry.prometheus.backend import PrometheusStore

pytestmark = pytest.mark.skipif(PROMETHEUS is None or PROMTOOL is None, reason=NO_PROMETHEUS)
NOW = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=1)
POINTS = 30


def _openmetrics() -> str:
    """cpu of two payment pods reported twice each (a `pod` label the mapping ignores), a
    latency series, and Prometheus' ALERTS series for a firing rule on payment."""
    lines = ["# TYPE cpu_usage_pct gauge"]
    times = [NOW - timedelta(minutes=POINTS - i) for i in range(POINTS + 1)]
    for instance in ("payment-0", "payment-1"):
        for pod in ("a", "b"):
            for at in times:
                labels = f'service="payment",instance="{instance}",pod="{pod}"'
                lines.append(f"cpu_usage_pct{{{labels}}} 20 {at.timestamp():.0f}")
    lines.append("# TYPE latency_p99_s gauge")
    lines += [f'latency_p99_s{{service="checkout"}} 0.1 {at.timestamp():.0f}' for at in times]
    lines.append("# TYPE ALERTS gauge")
    labels = 'alertname="HighCPU",alertstate="firing",service="payment",severity="page"'
    lines += [f"ALERTS{{{labels}}} 1 {at.timestamp():.0f}" for at in times]
    return "\n".join([*lines, "# EOF", ""])


@pytest.fixture(scope="module")
def busy_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert PROMTOOL is not None
    folder = tmp_path_factory.mktemp("busy-prometheus")
    text = folder / "metrics.om"
    text.write_text(_openmetrics(), encoding="utf-8")
    data = folder / "data"
    command = [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(text), str(data)]
    subprocess.run(command, check=True, capture_output=True)
    with prometheus_server(data, folder / "prometheus.log") as url:
        yield url


def test_alerts_series_are_not_metrics_and_duplicates_warn_once(
    busy_prometheus: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = {"url": busy_prometheus, "metrics": [{"match": '{service!=""}'}], "step_s": 60}
    store = PrometheusStore(PrometheusConfig.model_validate(config))
    window = TimeWindow.of(NOW.timestamp() - 1200, NOW.timestamp())
    with caplog.at_level(logging.WARNING, logger="tools.telemetry.prometheus.backend"):
        for _ in range(3):  # three triages
            backend = store.at(NOW)
            series = backend.metric_series(window)
            keys = backend.metric_keys(window)
    names = {s.key.metric for s in series} | {k.metric for k in keys}
    assert names == {"cpu_usage_pct", "latency_p99_s"}, "ALERTS is not a service metric"
    assert {s.key.label() for s in series if s.key.metric == "cpu_usage_pct"} == {
        "payment/payment-0:cpu_usage_pct",
        "payment/payment-1:cpu_usage_pct",
    }
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, warnings
    assert '2 series from {service!=""}' in warnings[0]
