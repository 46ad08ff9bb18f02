"""Webhook intake: auth per source, limits, validation errors, durable and idempotent."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.config.server import ServerConfig
from agent.server.app import Server
from agent.server.auth import sign
from tests.server.support import BEARER, DD_TOKEN, GENERIC_SECRET, case_body
from tests.support.synthetic import SyntheticDataset

FIXTURES = Path(__file__).parents[1] / "fixtures" / "alerts"


def generic(name: str = "DiskFull", service: str = "billing-report", **extra: object) -> bytes:
    alert = {"name": name, "starts_at": "2024-03-01T12:01:00Z", "service": service, **extra}
    return json.dumps(alert).encode()


def signed(body: bytes, secret: str = GENERIC_SECRET, at: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if at is None else at)
    return {"X-Triage-Timestamp": stamp, "X-Triage-Signature": sign(secret.encode(), stamp, body)}


def test_an_alertmanager_alert_is_triaged_to_an_incident_with_drafts(
    client: TestClient, incident_id: str
) -> None:
    incident = client.get(f"/v1/incidents/{incident_id}").json()
    assert incident["isolation"]["hypotheses"][0]["service"] == "payment"
    assert {"page", "responder_update", "status_update"} <= {d["kind"] for d in incident["drafts"]}
    assert all(d["state"] == "pending" for d in incident["drafts"])


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_alertmanager_without_its_token_is_refused_and_nothing_stored(
    client: TestClient, synthetic: SyntheticDataset, server: Server, headers: dict[str, str]
) -> None:
    reply = client.post("/v1/alerts/alertmanager", content=case_body(synthetic), headers=headers)
    assert reply.status_code == 401
    assert reply.json()["error"] == "unauthorized"
    assert server.inbox.alerts_stored() == 0


def test_a_malformed_alert_is_a_400_naming_the_field(client: TestClient) -> None:
    body = {"version": "4", "status": "firing", "receiver": "x", "alerts": [{"status": "firing"}]}
    reply = client.post("/v1/alerts/alertmanager", json=body, headers=BEARER)
    assert reply.status_code == 400
    problem = reply.json()
    assert problem["error"] == "invalid_alert"
    assert problem["field"] == "alerts[0].labels.alertname"
    assert "alerts[0].labels.alertname" in problem["detail"]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"not json", 400, "invalid_alert"),
        (b"[" * 40 + b"]" * 40, 400, "too_deep"),
        (b"[" * 5000 + b"]" * 5000, 400, "too_deep"),
        (b'{"x": "' + b"a" * 1_100_000 + b'"}', 413, "too_large"),
    ],
    ids=["not-json", "deep", "very-deep", "too-large"],
)
def test_bodies_over_the_limits_are_refused(
    client: TestClient, body: bytes, status: int, error: str
) -> None:
    reply = client.post("/v1/alerts/alertmanager", content=body, headers=BEARER)
    assert reply.status_code == status
    assert reply.json()["error"] == error


def test_an_unknown_source_is_a_404(client: TestClient) -> None:
    reply = client.post("/v1/alerts/nagios", content=b"{}", headers=BEARER)
    assert reply.status_code == 404 and "alertmanager" in reply.json()["detail"]


def test_a_redelivery_is_idempotent(
    client: TestClient, synthetic: SyntheticDataset, server: Server, incident_id: str
) -> None:
    again = client.post("/v1/alerts/alertmanager", content=case_body(synthetic), headers=BEARER)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert server.inbox.alerts_stored() == 1
    assert len(server.inbox.items()) == 1
    investigations = [
        e for e in server.ctx.store.get(incident_id).timeline if e.kind == "investigation"
    ]
    assert len(investigations) == 1


def test_generic_alerts_need_a_fresh_hmac_signature(client: TestClient, server: Server) -> None:
    body = generic()
    assert client.post("/v1/alerts/generic", content=body).status_code == 401
    wrong = signed(body, secret="not-the-secret")
    assert client.post("/v1/alerts/generic", content=body, headers=wrong).status_code == 401
    stale = signed(body, at=int(time.time()) - 3600)
    reply = client.post("/v1/alerts/generic", content=body, headers=stale)
    assert reply.status_code == 401 and "timestamp" in reply.json()["detail"]
    tampered = signed(body)
    other = generic(name="Other")
    assert client.post("/v1/alerts/generic", content=other, headers=tampered).status_code == 401
    assert server.inbox.alerts_stored() == 0
    reply = client.post("/v1/alerts/generic", content=body, headers=signed(body))
    assert reply.status_code == 202 and reply.json()["alerts"] == 1


def test_datadog_uses_its_own_bearer_token(client: TestClient) -> None:
    body = (FIXTURES / "datadog_triggered.json").read_bytes()
    refused = client.post("/v1/alerts/datadog", content=body, headers=BEARER)
    assert refused.status_code == 401, "the Alertmanager token is not Datadog's"
    token = {"Authorization": f"Bearer {DD_TOKEN}"}
    reply = client.post("/v1/alerts/datadog", content=body, headers=token)
    assert reply.status_code == 202, reply.text


def test_a_source_whose_secret_is_unset_refuses_everything(
    client: TestClient, server: Server
) -> None:
    server.intake.env = {}.get
    reply = client.post("/v1/alerts/alertmanager", content=b"{}", headers=BEARER)
    assert reply.status_code == 401
    assert "no credential configured" in reply.json()["detail"]


def test_server_config_names_mistakes() -> None:
    with pytest.raises(ValueError, match="unknown source 'nagios'"):
        ServerConfig.model_validate({"sources": {"nagios": {"auth": "none"}}})
    with pytest.raises(ValueError, match="token_env"):
        ServerConfig.model_validate({"sources": {"datadog": {"auth": "bearer"}}})
    with pytest.raises(ValueError, match="environment variable name"):
        ServerConfig.model_validate(
            {"sources": {"generic": {"auth": "hmac", "secret_env": "s3cr3t-value"}}}
        )
    merged = ServerConfig.model_validate({"sources": {"generic": {"auth": "none"}}})
    assert merged.sources["generic"].auth == "none"
    assert merged.sources["alertmanager"].auth == "bearer", "other sources keep their defaults"
