"""An incident with one draft per channel, for approval and dispatch tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agent.draft.models import Draft
from agent.incident.models import Incident
from agent.routing.models import Responder, Routing

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)
INCIDENT_ID = "inc-42"
PAGE, SLACK, STATUS, EMAIL = "d-page", "d-slack", "d-status", "d-email"
ONCALL_CONTACT = "+81-90-1234-5678"


# The page's payload as agent.draft writes it: an Events API v2 trigger without routing_key.
PAGE_EVENT: dict[str, object] = {
    "event_action": "trigger",
    "dedup_key": INCIDENT_ID,
    "client": "incident-triage",
    "payload": {
        "summary": "[SEV2] payment: suspected error burst (82%)",
        "source": "payment-7d9f",
        "severity": "error",
        "timestamp": T0.isoformat(),
        "component": "payment",
        "group": "payments",
        "class": "error_burst",
        "custom_details": {"evidence_ids": ["ev-1", "ev-2"], "error_rate": 0.12},
    },
    "links": [{"href": "https://chat.example/war-room", "text": "War room"}],
}


def draft(draft_id: str, **fields: Any) -> Draft:
    base: dict[str, Any] = {
        "id": draft_id,
        "incident_id": INCIDENT_ID,
        "kind": "page",
        "audience": "on-call",
        "channel": "pagerduty",
        "title": "payment: error rate 12% since deploy chg-0003",
        "body": "payment errors rose from 0.1% to 12% at 10:02 after deploy chg-0003.",
        "evidence_ids": ["ev-1", "ev-2"],
        "created_at": T0,
    }
    return Draft.model_validate({**base, **fields})


def incident(*drafts: Draft) -> Incident:
    """The shop's payment incident, with the four standard drafts unless others are given."""
    oncall = Responder(name="Aiko", team="payments", role="on-call", contact=ONCALL_CONTACT)
    return Incident(
        id=INCIDENT_ID,
        title="payment errors after deploy",
        opened_at=T0,
        updated_at=T0,
        services=["payment"],
        routing=Routing(page_team="payments", paged=[oncall], incident_commander=oncall),
        drafts=list(drafts) or standard_drafts(),
    )


def standard_drafts() -> list[Draft]:
    return [
        draft(
            PAGE,
            payload=PAGE_EVENT,
        ),
        draft(SLACK, kind="responder_update", audience="responders", channel="slack"),
        draft(
            STATUS,
            kind="status_update",
            audience="customers",
            channel="statuspage",
            title="Payments degraded",
            body="Some card payments are failing. We are working on a fix.",
        ),
        draft(
            EMAIL,
            kind="exec_summary",
            audience="executives",
            channel="email",
            title="SEV2: payments",
            body="Card payments partly failing since 10:02; cause identified.",
        ),
    ]


def state_of(inc: Incident, draft_id: str) -> str:
    found = inc.draft(draft_id)
    assert found is not None, draft_id
    return found.state
