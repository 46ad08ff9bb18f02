"""Fixtures shared by tests/server, tests/chat and tests/web (imported by their conftests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.config import TriageConfig
from agent.server.app import Server, build_server, create_app
from tests.server.support import BEARER, ENV, PD_KEY_ENV, case_body, server_config, wait_until
from tests.support.receiver import Receiver, Reply
from tests.support.synthetic import SyntheticDataset


@pytest.fixture
def pagerduty() -> Iterator[Receiver]:
    """A stand-in for PagerDuty's Events API on 127.0.0.1."""
    with Receiver(default=Reply.json(202, {"status": "success", "dedup_key": "x"})) as receiver:
        yield receiver


@pytest.fixture
def config(
    synthetic: SyntheticDataset, pagerduty: Receiver, monkeypatch: pytest.MonkeyPatch
) -> TriageConfig:
    """Pages go to the local receiver; dispatch reads the routing key from the environment."""
    monkeypatch.setenv(PD_KEY_ENV, ENV[PD_KEY_ENV])
    return server_config(synthetic.root, pagerduty.url("/v2/enqueue"))


@pytest.fixture
def server(tmp_path: Path, config: TriageConfig) -> Server:
    return build_server(config, tmp_path / "home", env=ENV.get)


@pytest.fixture
def client(server: Server) -> Iterator[TestClient]:
    """The app in-process, with its worker running."""
    with TestClient(create_app(server)) as test_client:
        yield test_client


@pytest.fixture
def incident_id(client: TestClient, synthetic: SyntheticDataset) -> str:
    """The synthetic case posted as Alertmanager would, and triaged to the approval step."""
    return triaged(client, case_body(synthetic))


def triaged(client: TestClient, body: bytes) -> str:
    """The id of the incident an Alertmanager webhook `body` became, once triaged."""
    reply = client.post("/v1/alerts/alertmanager", content=body, headers=BEARER)
    assert reply.status_code == 202, reply.text
    row = reply.json()["inbox_id"]
    done = wait_until(lambda: _done(client, row))
    return str(done["incident_id"])


def _done(client: TestClient, row: int) -> dict[str, object] | None:
    item = client.get(f"/v1/inbox/{row}").json()
    assert item["state"] != "failed", item["error"]
    return item if item["state"] == "done" else None
