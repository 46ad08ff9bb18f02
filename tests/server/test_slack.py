"""Slack slash commands and buttons, signed as Slack signs them (v0 HMAC-SHA256)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from agent.server.app import Server
from agent.server.slack import slack_signature
from tests.server.support import SLACK_SECRET
from tests.support.receiver import Receiver


def slack_headers(body: bytes, at: int | None = None, secret: str = SLACK_SECRET) -> dict[str, str]:
    stamp = str(int(time.time()) if at is None else at)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(secret.encode(), stamp, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command(text: str) -> bytes:
    """A slash command as Slack posts it (fields from Slack's documentation)."""
    return urlencode(
        {
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "team_id": "T0001",
            "team_domain": "example",
            "channel_id": "C2147483705",
            "channel_name": "incident",
            "user_id": "U2147483697",
            "user_name": "riko",
            "command": "/triage",
            "text": text,
            "api_app_id": "A123456",
            "response_url": "https://hooks.slack.com/commands/1234/5678",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    ).encode()


def button(action: str, value: str) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "U2147483697", "username": "riko", "name": "riko", "team_id": "T0001"},
        "api_app_id": "A123456",
        "team": {"id": "T0001", "domain": "example"},
        "channel": {"id": "C2147483705", "name": "incident"},
        "response_url": "https://hooks.slack.com/actions/T0001/1234/abcd",
        "trigger_id": "12466734323.1395872398",
        "actions": [
            {
                "type": "button",
                "action_id": action,
                "block_id": "decide",
                "value": value,
                "action_ts": "1548426417.840180",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def post(client: TestClient, path: str, body: bytes, **kwargs: object) -> dict[str, object]:
    reply = client.post(path, content=body, headers=slack_headers(body, **kwargs))  # type: ignore[arg-type]
    assert reply.status_code == 200, reply.text
    result: dict[str, object] = reply.json()
    return result


def test_bad_or_stale_signatures_are_refused(client: TestClient) -> None:
    body = command("status")
    wrong = slack_headers(body, secret="not-the-secret")
    assert client.post("/v1/slack/commands", content=body, headers=wrong).status_code == 401
    stale = slack_headers(body, at=int(time.time()) - 600)
    reply = client.post("/v1/slack/commands", content=body, headers=stale)
    assert reply.status_code == 401 and "timestamp" in reply.json()["detail"]
    assert client.post("/v1/slack/commands", content=body).status_code == 401


def test_status_shows_pending_drafts_with_buttons(client: TestClient, incident_id: str) -> None:
    reply = post(client, "/v1/slack/commands", command(f"status {incident_id}"))
    buttons = [
        element
        for block in reply["blocks"]  # type: ignore[attr-defined]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert {b["action_id"] for b in buttons} == {"approve", "reject"}
    assert f"{incident_id}|{incident_id}-page|1" in {b["value"] for b in buttons}
    listing = post(client, "/v1/slack/commands", command("status"))
    assert incident_id in str(listing["text"])


def test_the_approve_button_pages_with_the_slack_user_as_approver(
    client: TestClient, incident_id: str, server: Server, pagerduty: Receiver
) -> None:
    value = f"{incident_id}|{incident_id}-page|1"
    reply = post(client, "/v1/slack/interactions", button("approve", value))
    assert "sent" in str(reply["text"])
    (request,) = pagerduty.wait_for(1)
    approver = request.json()["payload"]["custom_details"]["approved_by"]
    assert approver == "riko (Slack U2147483697)"
    assert server.ctx.store.get(incident_id).approvals[-1].by == approver


def test_a_button_for_an_old_revision_is_refused(
    client: TestClient, incident_id: str, server: Server
) -> None:
    value = f"{incident_id}|{incident_id}-status_update|1"
    client.post(
        f"/v1/incidents/{incident_id}/chat", json={"author": "a", "text": "write a customer update"}
    )
    reply = post(client, "/v1/slack/interactions", button("approve", value))
    assert "changed since this button was posted" in str(reply["text"])
    draft = server.ctx.store.get(incident_id).draft(f"{incident_id}-status_update")
    assert draft is not None and draft.state == "pending"


def test_commands_approve_reject_ack_and_ask(
    client: TestClient, incident_id: str, server: Server
) -> None:
    rejected = post(
        client,
        "/v1/slack/commands",
        command(f"reject {incident_id} {incident_id}-pr_statement too early"),
    )
    assert "rejected" in str(rejected["text"])
    approved = post(
        client,
        "/v1/slack/commands",
        command(f"approve {incident_id} {incident_id}-responder_update"),
    )
    assert "sent" in str(approved["text"])
    asked = post(client, "/v1/slack/commands", command(f"ask {incident_id} why payment?"))
    assert "ev-" in str(asked["text"])
    acked = post(client, "/v1/slack/commands", command(f"ack {incident_id}"))
    assert "acknowledged" in str(acked["text"])
    unknown = post(client, "/v1/slack/commands", command("approve INC-19990101-0001 x"))
    assert "Refused" in str(unknown["text"])
    assert "Usage" in str(post(client, "/v1/slack/commands", command("dance"))["text"])


def test_mitigate_and_resolve_from_slack(client: TestClient, incident_id: str) -> None:
    reply = post(client, "/v1/slack/commands", command(f"mitigate {incident_id} rolled back"))
    assert reply["text"] == f"{incident_id} is mitigated."
    wrong = post(client, "/v1/slack/commands", command(f"resolve {incident_id} payment bogus"))
    assert str(wrong["text"]).startswith("Refused:")
    done = post(client, "/v1/slack/commands", command(f"resolve {incident_id} payment bad-deploy"))
    assert done["text"] == f"{incident_id} is resolved."
    again = post(client, "/v1/slack/commands", command(f"mitigate {incident_id}"))
    assert "cannot be mitigated" in str(again["text"])
    incident = client.get(f"/v1/incidents/{incident_id}").json()
    assert incident["root_cause"]["by"].endswith("(Slack U2147483697)")
