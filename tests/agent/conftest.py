"""Fixtures for the triage graph: a fresh data directory, the synthetic case, a runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from agent.alert.models import Alert
from agent.alert.parse import parse_alert
from agent.config import TriageConfig, load_config
from agent.context import build_context
from agent.runner import TriageRunner
from tests.support.receiver import Receiver, Reply
from tests.support.synthetic import SyntheticDataset
from tools.telemetry.replay.format import CaseRecord

ROUTING_KEY_ENV = "TRIAGE_TEST_PD_KEY"


@pytest.fixture
def case(synthetic: SyntheticDataset) -> CaseRecord:
    return next(c for c in synthetic.open().cases() if c.id == synthetic.case_id)


@pytest.fixture
def alerts(case: CaseRecord) -> list[Alert]:
    return parse_alert(case.alert.payload, case.alert.source)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def runner(home: Path, synthetic: SyntheticDataset) -> TriageRunner:
    ctx = build_context(TriageConfig(language="en"), home=home, telemetry=synthetic.open().at)
    return TriageRunner(ctx)


@pytest.fixture
def pagerduty() -> Iterator[Receiver]:
    """A stand-in for PagerDuty's Events API on 127.0.0.1."""
    with Receiver(default=Reply.json(202, {"status": "success", "dedup_key": "x"})) as receiver:
        yield receiver


@pytest.fixture
def config_file(
    tmp_path: Path,
    synthetic: SyntheticDataset,
    pagerduty: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A triage.yaml that reads the synthetic dataset and pages the local receiver."""
    monkeypatch.setenv(ROUTING_KEY_ENV, "test-routing-key")
    path = tmp_path / "triage.yaml"
    settings = {
        "language": "en",
        "telemetry": {"backend": "replay", "path": str(synthetic.root)},
        "dispatch": {
            "pagerduty": {
                "events_url": pagerduty.url("/v2/enqueue"),
                "routing_key_env": ROUTING_KEY_ENV,
            },
            "max_attempts": 1,
        },
    }
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    load_config(path)  # the file is valid
    return path
