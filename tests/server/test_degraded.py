"""Degrade, never drop: without telemetry an alert still becomes an incident with a page to
the owning team, the server says it is degraded, and a failed triage is kept, shown in the
war room and retried from there."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import pytest
from fastapi.testclient import TestClient

from agent.server.app import Server, build_server, create_app
from tests.server.support import BEARER, ENV, case_body, server_config, wait_until
from tests.support.synthetic import SyntheticDataset
from tools.telemetry.backend import TelemetryError
from tools.telemetry.config import KINDS
from tools.telemetry.replay.backend import ReplayBackend


def _triaged(client: TestClient, body: bytes) -> dict[str, Any]:
    row = client.post("/v1/alerts/alertmanager", content=body, headers=BEARER).json()
    return wait_until(
        lambda: (
            (i := client.get(f"/v1/inbox/{row['inbox_id']}").json())["state"] in {"done", "failed"}
            and i
        )
    )


def test_without_telemetry_the_alert_becomes_an_inconclusive_incident_paging_its_owners(
    tmp_path: Path, synthetic: SyntheticDataset
) -> None:
    server = build_server(server_config(None), tmp_path / "home", env=ENV.get)
    with TestClient(create_app(server)) as client:
        item = _triaged(client, case_body(synthetic))
        assert item["state"] == "done", item["error"]
        incident = client.get(f"/v1/incidents/{item['incident_id']}").json()
        assert set(incident["telemetry_gaps"]) == set(KINDS)
        isolation = incident["isolation"]
        assert isolation["verdict"] == "inconclusive"
        top = isolation["hypotheses"][0]
        assert top["service"] == "frontend" and top["confidence"] <= 0.15, "what the alert names"
        assert incident["routing"]["page_team"] == "web", "frontend's owners, by the policy"
        kinds = [d["kind"] for d in incident["drafts"]]
        assert kinds == ["page", "responder_update"], "nothing for outside readers on no evidence"
        page = incident["drafts"][0]
        assert page["state"] == "pending"
        assert "Telemetry unavailable: metrics, logs, traces" in page["body"]
        assert "no telemetry configured" in page["body"] and "inconclusive" in page["body"]

        health = wait_until(lambda: (h := client.get("/v1/health").json())["reasons"] and h)
        assert health["status"] == "degraded"
        assert "no telemetry configured" in health["reasons"][0]
        html = client.get(f"/incidents/{incident['id']}").text
        assert "Telemetry unavailable" in html and "Not investigated yet" not in html
        assert "The verdict stays inconclusive until it answers" in html


def test_a_store_down_at_a_later_look_keeps_the_shown_findings(
    tmp_path: Path, synthetic: SyntheticDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The war room keeps showing the cause found while metrics could be read, and says
    where those findings come from while the store is down."""
    server = build_server(server_config(synthetic.root), tmp_path / "home", env=ENV.get)
    with TestClient(create_app(server)) as client:
        first = _triaged(client, case_body(synthetic))
        incident_id = first["incident_id"]
        monkeypatch.setattr(ReplayBackend, "_metric_series", _unreachable)
        body = json.loads(case_body(synthetic))
        later = datetime.fromisoformat(body["alerts"][0]["startsAt"]) + timedelta(minutes=2)
        body["alerts"][0] |= {"startsAt": later.isoformat(), "fingerprint": "fp-later"}
        body["alerts"][0]["labels"] |= {"alertname": "HighErrorRate"}
        assert _triaged(client, json.dumps(body).encode())["incident_id"] == incident_id
        incident = client.get(f"/v1/incidents/{incident_id}").json()
        assert list(incident["telemetry_gaps"]) == ["metrics"]
        assert incident["isolation"]["verdict"] == "conclusive"
        assert incident["isolation"]["hypotheses"][0]["service"] == synthetic.spec.fault_service
        html = client.get(f"/incidents/{incident_id}").text
        assert "The findings shown come from an earlier look that could read it" in html


def _unreachable(*_: object, **__: object) -> NoReturn:
    raise TelemetryError("metrics store unreachable")


def test_a_failed_triage_is_kept_shown_with_a_retry_button_and_retried(
    server: Server,
    client: TestClient,
    synthetic: SyntheticDataset,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = server.desk.runner.triage
    calls: list[str] = []

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        calls.append("triage")
        if len(calls) == 1:
            raise RuntimeError("the policy store is unreachable")
        return real(*args, **kwargs)

    monkeypatch.setattr(server.desk.runner, "triage", fails_once)
    with caplog.at_level(logging.ERROR, logger="agent.service.worker"):
        item = _triaged(client, case_body(synthetic))
    assert item["state"] == "failed" and "policy store is unreachable" in item["error"]
    logged = [r for r in caplog.records if r.name == "agent.service.worker"]
    assert logged and all(r.exc_info is None for r in logged), "one line, no traceback"

    health = client.get("/v1/health").json()
    assert health["status"] == "degraded"
    assert any("failed triage" in r for r in health["reasons"])
    listing = client.get("/").text
    assert f'data-url="/v1/inbox/{item["id"]}/retry"' in listing
    assert "policy store is unreachable" in listing

    assert client.post(f"/v1/inbox/{item['id']}/retry").json()["state"] in {"queued", "running"}
    done = wait_until(
        lambda: (i := client.get(f"/v1/inbox/{item['id']}").json())["state"] == "done" and i
    )
    assert done["incident_id"]
    assert client.get("/v1/health").json() == {
        "status": "ok",
        "reasons": [],
        "inbox": {"done": 1},
    }
