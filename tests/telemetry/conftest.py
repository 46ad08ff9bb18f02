"""Fixtures for the live-store tests: the synthetic dataset moved to a few days ago,
a moto server holding its metrics and logs, and a Prometheus holding its metrics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.synthetic import SyntheticDataset
from tests.telemetry.support.datadog import (
    API_KEY,
    APP_KEY,
    ENV,
    PREFIX,
    FakeDatadog,
    estate_from,
    fake_datadog,
)
from tests.telemetry.support.load import LOG_PREFIX, NAMESPACE, load_cloudwatch, prometheus_blocks
from tests.telemetry.support.servers import (
    PROMETHEUS,
    PROMTOOL,
    Witness,
    counting_proxy,
    moto_server,
    prometheus_server,
)
from tests.telemetry.support.shift import days_to_recent, shift_dataset
from tools.telemetry.config import CloudWatchConfig, DatadogConfig, PrometheusConfig
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import CaseRecord

REGION = "us-east-1"  # holds the shifted synthetic dataset; other tests use other regions


@dataclass(frozen=True)
class Shifted:
    """The synthetic dataset, moved to a few days ago, and its one case."""

    root: Path
    dataset: ReplayDataset
    case: CaseRecord


@pytest.fixture(scope="session")
def aws_env() -> Iterator[None]:
    """Fake credentials: the tests only ever talk to moto on 127.0.0.1."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        yield


@pytest.fixture(scope="session")
def shifted(synthetic: SyntheticDataset, tmp_path_factory: pytest.TempPathFactory) -> Shifted:
    by = days_to_recent(synthetic.spec.now)
    root = shift_dataset(synthetic.root, tmp_path_factory.mktemp("shifted") / "synthetic", by)
    dataset = ReplayDataset.open(root)
    return Shifted(root=root, dataset=dataset, case=dataset.cases()[0])


@pytest.fixture(scope="session")
def moto(aws_env: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as url:
        yield url


@pytest.fixture(scope="session")
def loaded_moto(moto: str, shifted: Shifted) -> str:
    """The moto server with the shifted dataset's metrics and logs in REGION."""
    load_cloudwatch(shifted.dataset, moto, REGION)
    return moto


@pytest.fixture
def witness(moto: str) -> Iterator[Witness]:
    """A counting proxy in front of moto: what the backends really sent."""
    with counting_proxy(moto) as seen:
        yield seen


@pytest.fixture(scope="session")
def prometheus(shifted: Shifted, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus serving the shifted dataset's metrics."""
    assert PROMTOOL is not None and PROMETHEUS is not None
    folder = tmp_path_factory.mktemp("prometheus")
    data = prometheus_blocks(shifted.dataset, PROMTOOL, folder)
    with prometheus_server(data, folder / "prometheus.log") as url:
        yield url


def cloudwatch_config(
    endpoint: str, *, query: str = "filter", region: str = REGION
) -> CloudWatchConfig:
    """Metrics and logs as load_cloudwatch wrote them."""
    return CloudWatchConfig.model_validate(
        {
            "region": region,
            "endpoint_url": endpoint,
            "max_attempts": 1,
            "logs": {
                "groups": [{"prefix": LOG_PREFIX}],
                "query": query,
                "fields": {"instance": "instance"},
            },
            "metrics": [
                {
                    "namespace": NAMESPACE,
                    "service_dimension": "Instance",
                    "instance_dimension": "Instance",
                    "naming": {"pattern": r"^(?P<service>.+)-\d+$", "strict": True},
                },
                {"namespace": NAMESPACE, "service_dimension": "Service"},
            ],
        }
    )


def prometheus_config(url: str) -> PrometheusConfig:
    return PrometheusConfig.model_validate(
        {"url": url, "metrics": [{"match": '{service!=""}'}], "step_s": 60}
    )


@pytest.fixture(scope="session")
def datadog_keys() -> Iterator[None]:
    """The fake's keys in DD_API_KEY / DD_APP_KEY, as a deployment would set them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DD_API_KEY", API_KEY)
        patch.setenv("DD_APP_KEY", APP_KEY)
        patch.delenv("DD_SITE", raising=False)
        yield


@pytest.fixture(scope="session")
def datadog(synthetic: SyntheticDataset, datadog_keys: None) -> Iterator[FakeDatadog]:
    """A fake Datadog on 127.0.0.1 holding the synthetic dataset."""
    with fake_datadog(estate_from(synthetic.open())) as fake:
        yield fake


def datadog_config(url: str, **overrides: object) -> DatadogConfig:
    """Every kind, as estate_from wrote them."""
    raw = {
        "url": url,
        "env": ENV,
        "max_retries": 1,
        "max_wait_s": 2,
        "metrics": [{"metric": f"{PREFIX}*"}],
        "logs": {},
        "apm": {},
        "changes": {},
        "siem": {},
    }
    return DatadogConfig.model_validate(raw | overrides)
