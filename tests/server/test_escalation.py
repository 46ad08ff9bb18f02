"""Unacknowledged pages escalate as new pending page drafts, never by sending."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from agent.server.app import Server
from tests.support.receiver import Receiver


def page_sent(client: TestClient, incident_id: str) -> None:
    url = f"/v1/incidents/{incident_id}/drafts/{incident_id}-page/approve"
    assert client.post(url, json={"by": "aki"}).json()["draft"]["state"] == "sent"


def test_an_unacknowledged_page_drafts_the_next_page_and_sends_nothing(
    client: TestClient, incident_id: str, server: Server, pagerduty: Receiver
) -> None:
    assert server.desk.escalate() == [], "nothing escalates before the page went out"
    page_sent(client, incident_id)
    sent_at = server.ctx.clock()
    assert server.desk.escalate(sent_at + timedelta(minutes=1)) == []
    drafted = server.desk.escalate(sent_at + timedelta(minutes=11))
    assert drafted, "the 10-minute step is due"
    first = drafted[0]
    assert first.kind == "page" and first.state == "pending"
    assert first.payload["dedup_key"] != incident_id, "its own PagerDuty incident"
    incident = server.ctx.store.get(incident_id)
    steps = [e for e in incident.timeline if e.kind == "escalation"]
    assert len(steps) == len(drafted) and first.id in steps[0].text + steps[0].data["draft_id"]
    assert len(pagerduty.requests) == 1, "escalation drafts; it does not send"
    assert server.desk.escalate(sent_at + timedelta(minutes=11)) == [], "each step once"
    reply = client.post(f"/v1/incidents/{incident_id}/drafts/{first.id}/approve", json={"by": "ic"})
    assert reply.json()["draft"]["state"] == "sent"
    second = pagerduty.wait_for(2)[1].json()
    assert second["dedup_key"] == first.payload["dedup_key"]


def test_acknowledging_stops_escalation(
    client: TestClient, incident_id: str, server: Server
) -> None:
    page_sent(client, incident_id)
    client.post(f"/v1/incidents/{incident_id}/acknowledge", json={"by": "riko"})
    later = server.ctx.clock() + timedelta(hours=2)
    assert server.desk.escalate(later) == []
    assert client.post("/v1/escalations/check").json() == []
