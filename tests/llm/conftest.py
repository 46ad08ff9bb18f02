"""Fixtures for the LLM path: offline AWS settings and one incident on the synthetic shop."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from agent.alert.models import Alert
from agent.isolation.engine import isolate
from agent.isolation.models import Isolation
from evals.alert_intake import case_alerts
from tests.support.synthetic import SyntheticDataset
from tools.telemetry.replay.backend import ReplayBackend


@pytest.fixture(autouse=True)
def _offline_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fake credentials, no profiles, no instance metadata: nothing can reach AWS."""
    empty = tmp_path_factory.mktemp("aws") / "none"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIDTESTTESTTEST",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_BEARER_TOKEN_BEDROCK", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)


@dataclass
class Incident:
    backend: ReplayBackend
    alerts: list[Alert]
    deterministic: Isolation

    @property
    def suspects(self) -> list[str]:
        """The evidence-backed suspects, best first (payment, then the services it drags)."""
        return [h.service for h in self.deterministic.hypotheses if h.evidence_ids]

    def evidence_of(self, service: str) -> list[str]:
        """The ids the deterministic engine cites for `service`."""
        return next(h.evidence_ids for h in self.deterministic.hypotheses if h.service == service)


@pytest.fixture(scope="session")
def _incident(synthetic: SyntheticDataset) -> Iterator[Incident]:
    dataset = synthetic.open()
    case = dataset.cases()[0]
    backend = dataset.at(case.now)
    alerts = case_alerts(case)
    yield Incident(backend=backend, alerts=alerts, deterministic=isolate(backend, alerts))


@pytest.fixture
def incident(_incident: Incident) -> Incident:
    """The synthetic shop's payment incident and the deterministic engine's answer."""
    return Incident(
        backend=_incident.backend,
        alerts=[a.model_copy() for a in _incident.alerts],
        deterministic=_incident.deterministic.model_copy(deep=True),
    )
