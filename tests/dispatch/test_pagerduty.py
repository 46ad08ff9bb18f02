"""PagerDuty Events API v2 on the wire, against a real local HTTP server."""

from __future__ import annotations

import pytest

from agent.approval.service import approve
from agent.dispatch.config import DispatchConfig
from agent.dispatch.pagerduty import PagerDutySender, pd_severity
from agent.dispatch.service import dispatch
from agent.dispatch.transport import RetryPolicy
from agent.incident.models import Incident
from tests.approval.factories import (
    INCIDENT_ID,
    LATER,
    PAGE,
    PAGE_EVENT,
    draft,
    incident,
    state_of,
)
from tests.dispatch.conftest import PD_DEFAULT_KEY, PD_KEY
from tests.support.receiver import Receiver, Reply

PD_INVALID = Reply.json(
    400,
    {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["'payload.summary' is missing or blank"],
    },
)


def _approved_page(inc: Incident | None = None) -> Incident:
    return approve(inc or incident(), PAGE, "Aiko", LATER)


def test_a_page_is_one_trigger_event_on_the_wire(
    pagerduty: Receiver, config: DispatchConfig
) -> None:
    after = dispatch(_approved_page(), PAGE, config, now=LATER)

    (request,) = pagerduty.requests
    assert request.method == "POST"
    assert request.path == "/v2/enqueue"
    assert request.content_type.startswith("application/json")
    event = request.json()
    assert event["routing_key"] == PD_KEY  # the payments team's key, from its env var
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == INCIDENT_ID  # the draft's: one PagerDuty alert per incident
    assert event["client"] == "incident-triage"
    assert event["links"] == [{"href": "https://chat.example/war-room", "text": "War room"}]
    payload = event["payload"]
    inner = PAGE_EVENT["payload"]
    assert isinstance(inner, dict)
    for field in ("summary", "source", "severity", "timestamp", "component", "group", "class"):
        assert payload[field] == inner[field], field
    details = payload["custom_details"]
    assert details["evidence_ids"] == ["ev-1", "ev-2"]
    assert details["error_rate"] == 0.12
    assert details["approved_by"] == "Aiko"
    assert details["approved_at"] == LATER.isoformat()
    assert (details["draft_id"], details["revision"]) == (PAGE, 1)
    assert details["body"].startswith("payment errors rose")
    assert set(event) == {"routing_key", "event_action", "dedup_key", "client", "links", "payload"}

    (result,) = after.dispatches
    assert (result.status, result.response_code, result.approval_by) == ("sent", 202, "Aiko")
    assert state_of(after, PAGE) == "sent"
    assert after.timeline[-1].kind == "dispatch"


def test_the_routing_key_is_never_stored(pagerduty: Receiver, config: DispatchConfig) -> None:
    after = dispatch(_approved_page(), PAGE, config, now=LATER)
    assert pagerduty.requests
    assert PD_KEY not in after.model_dump_json()
    assert "PD_KEY_PAYMENTS" in after.dispatches[0].destination  # the env var's name is


def test_teams_without_their_own_key_use_the_default(
    pagerduty: Receiver, config: DispatchConfig
) -> None:
    inc = _approved_page()
    assert inc.routing is not None
    other_team = inc.model_copy(
        update={"routing": inc.routing.model_copy(update={"page_team": "search"})}
    )
    dispatch(other_team, PAGE, config, now=LATER)
    assert pagerduty.requests[0].json()["routing_key"] == PD_DEFAULT_KEY


def test_a_500_is_retried_with_the_same_dedup_key(
    pagerduty: Receiver, config: DispatchConfig
) -> None:
    pagerduty.script(Reply(500, "oops"))
    after = dispatch(_approved_page(), PAGE, config, now=LATER)

    first, second = pagerduty.requests
    assert first.json() == second.json()
    assert after.dispatches[-1].status == "sent"


def test_retries_back_off_and_honour_retry_after(
    pagerduty: Receiver, config: DispatchConfig
) -> None:
    pagerduty.script(Reply(503), Reply(429, headers={"Retry-After": "7"}))
    waits: list[float] = []
    assert config.pagerduty is not None
    policy = RetryPolicy(timeout_s=2, max_attempts=4, backoff_s=0.5, max_backoff_s=30)
    sender = PagerDutySender(config.pagerduty, policy, team="payments", sleep=waits.append)

    after = dispatch(_approved_page(), PAGE, config, senders={"pagerduty": sender}, now=LATER)

    assert waits == [0.5, 7.0]
    assert len(pagerduty.requests) == 3
    assert after.dispatches[-1].status == "sent"


def test_attempts_are_bounded(pagerduty: Receiver, config: DispatchConfig) -> None:
    pagerduty.script(*[Reply(503, "unavailable")] * 5)
    after = dispatch(_approved_page(), PAGE, config, now=LATER)

    assert len(pagerduty.requests) == config.max_attempts == 3
    result = after.dispatches[-1]
    assert (result.status, result.response_code) == ("failed", 503)
    assert "HTTP 503 after 3 attempt(s): unavailable" in result.detail
    assert state_of(after, PAGE) == "approved"


def test_a_400_fails_at_once_with_pagerdutys_message(
    pagerduty: Receiver, config: DispatchConfig
) -> None:
    pagerduty.script(PD_INVALID)
    after = dispatch(_approved_page(), PAGE, config, now=LATER)

    assert len(pagerduty.requests) == 1
    result = after.dispatches[-1]
    assert (result.status, result.response_code) == ("failed", 400)
    assert "Event object is invalid" in result.detail
    assert "'payload.summary' is missing or blank" in result.detail
    assert "Event object is invalid" in after.timeline[-1].text
    assert state_of(after, PAGE) == "approved"


def test_a_failed_page_can_be_dispatched_again(pagerduty: Receiver, config: DispatchConfig) -> None:
    pagerduty.script(PD_INVALID)
    failed = dispatch(_approved_page(), PAGE, config, now=LATER)
    sent = dispatch(failed, PAGE, config, now=LATER)
    assert [d.status for d in sent.dispatches] == ["failed", "sent"]
    assert len(pagerduty.requests) == 2


def test_a_missing_routing_key_fails_without_a_request(
    pagerduty: Receiver, config: DispatchConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PD_KEY_PAYMENTS")
    after = dispatch(_approved_page(), PAGE, config, now=LATER)
    assert pagerduty.requests == []
    result = after.dispatches[-1]
    assert result.status == "failed"
    assert "$PD_KEY_PAYMENTS is not set" in result.detail


def test_no_answer_is_retried_then_reported(config: DispatchConfig) -> None:
    with Receiver() as gone:
        dead_url = gone.url("/v2/enqueue")
    assert config.pagerduty is not None
    dead = config.model_copy(
        update={"pagerduty": config.pagerduty.model_copy(update={"events_url": dead_url})}
    )
    after = dispatch(_approved_page(), PAGE, dead, now=LATER)
    result = after.dispatches[-1]
    assert result.status == "failed"
    assert result.response_code is None
    assert "no answer after 3 attempt(s)" in result.detail


def test_a_slow_server_times_out(pagerduty: Receiver, config: DispatchConfig) -> None:
    pagerduty.script(*[Reply(202, delay_s=1.0)] * 2)
    slow = config.model_copy(update={"timeout_s": 0.2, "max_attempts": 2})
    after = dispatch(_approved_page(), PAGE, slow, now=LATER)
    assert after.dispatches[-1].status == "failed"
    assert "no answer after 2 attempt(s)" in after.dispatches[-1].detail


def test_an_edited_body_reaches_the_on_call(pagerduty: Receiver, config: DispatchConfig) -> None:
    inc = approve(incident(), PAGE, "Aiko", LATER, edited_body="Roll back chg-0003 now.")
    dispatch(inc, PAGE, config, now=LATER)
    details = pagerduty.requests[0].json()["payload"]["custom_details"]
    assert (details["body"], details["revision"]) == ("Roll back chg-0003 now.", 2)


def test_a_bare_draft_gets_a_complete_event(pagerduty: Receiver, config: DispatchConfig) -> None:
    bare = draft(PAGE, payload={"routing_key": "from-a-draft", "event_action": "resolve"})
    dispatch(_approved_page(incident(bare)), PAGE, config, now=LATER)
    event = pagerduty.requests[0].json()
    assert event["routing_key"] == PD_KEY  # never a key from the draft
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == f"{INCIDENT_ID}/{PAGE}"
    payload = event["payload"]
    assert payload["summary"] == "payment: error rate 12% since deploy chg-0003"  # the title
    assert (payload["source"], payload["severity"]) == ("incident-triage", "critical")
    assert "component" not in payload
    assert "links" not in event


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("SEV1", "critical"),
        ("sev3", "warning"),
        ("Info", "info"),
        (None, "critical"),
        ("P1", "critical"),
    ],
)
def test_severity_mapping(given: object, expected: str) -> None:
    assert pd_severity(given) == expected
