"""Approving and rejecting drafts: what is recorded, and what is refused with which message."""

from __future__ import annotations

from datetime import datetime

import pytest

from agent.approval.content import content_digest, flagged
from agent.approval.service import ApprovalError, approval_for, approve, reject
from agent.draft.lint import check_external
from agent.draft.models import Draft
from agent.incident.models import Incident
from tests.approval.factories import (
    EMAIL,
    LATER,
    ONCALL_CONTACT,
    PAGE,
    SLACK,
    STATUS,
    T0,
    draft,
    incident,
)


def _draft(inc: Incident, draft_id: str) -> Draft:
    found = inc.draft(draft_id)
    assert found is not None
    return found


def test_approve_records_who_when_and_the_revision() -> None:
    before = incident()
    after = approve(before, PAGE, "Aiko", LATER)

    page = _draft(after, PAGE)
    assert page.state == "approved"
    assert page.revision == 1
    (approval,) = after.approvals
    assert (approval.by, approval.at, approval.decision) == ("Aiko", LATER, "approve")
    assert (approval.revision, approval.edited, approval.original_body) == (1, False, None)
    assert approval.content_sha256 == content_digest(page)
    entry = after.timeline[-1]
    assert (entry.kind, entry.actor, entry.at) == ("approval", "Aiko", LATER)
    assert entry.data["draft_id"] == PAGE
    assert after.updated_at == LATER
    assert approval_for(after, page) == approval


def test_approve_leaves_the_input_incident_untouched() -> None:
    before = incident()
    snapshot = before.model_dump()
    approve(before, PAGE, "Aiko", LATER, edited_body="new words")
    assert before.model_dump() == snapshot


def test_an_edit_bumps_the_revision_and_keeps_the_original() -> None:
    before = incident()
    original = _draft(before, SLACK).body
    after = approve(before, SLACK, "Ben", LATER, edited_body="Payment errors at 12%. Rollback now.")

    slack = _draft(after, SLACK)
    assert (slack.state, slack.revision, slack.body) == (
        "edited",
        2,
        "Payment errors at 12%. Rollback now.",
    )
    approval = after.approvals[-1]
    assert (approval.edited, approval.original_body, approval.revision) == (True, original, 2)
    diff = after.timeline[-1].data["diff"]
    assert f"-{original}" in diff
    assert "+Payment errors at 12%. Rollback now." in diff
    assert approval_for(after, slack) == approval


def test_an_edit_identical_to_the_body_is_a_plain_approval() -> None:
    before = incident()
    after = approve(before, PAGE, "Aiko", LATER, edited_body=_draft(before, PAGE).body)
    assert _draft(after, PAGE).state == "approved"
    assert after.approvals[-1].edited is False


def test_approving_an_approved_revision_again_changes_nothing() -> None:
    once = approve(incident(), PAGE, "Aiko", LATER)
    assert approve(once, PAGE, "Ben", LATER) is once


def test_an_edit_after_approval_voids_the_approval() -> None:
    approved = approve(incident(), SLACK, "Ben", LATER)
    slack = _draft(approved, SLACK)
    edited = slack.model_copy(update={"body": "changed by the agent", "revision": 2})
    assert approval_for(approved, edited) is None


def test_a_change_without_a_revision_bump_voids_the_approval_too() -> None:
    approved = approve(incident(), PAGE, "Aiko", LATER)
    page = _draft(approved, PAGE)
    for change in ({"body": "other"}, {"title": "other"}, {"payload": {"severity": "SEV1"}}):
        assert approval_for(approved, page.model_copy(update=change)) is None


def test_a_second_edit_after_approval_needs_and_gets_a_new_approval() -> None:
    once = approve(incident(), SLACK, "Ben", LATER, edited_body="first edit")
    twice = approve(once, SLACK, "Cho", LATER, edited_body="second edit")
    slack = _draft(twice, SLACK)
    assert (slack.revision, slack.body) == (3, "second edit")
    approval = approval_for(twice, slack)
    assert approval is not None
    assert (approval.by, approval.original_body) == ("Cho", "first edit")


def test_reject_records_the_reason_and_blocks_approval() -> None:
    after = reject(incident(), PAGE, "Aiko", LATER, reason="wrong service")

    page = _draft(after, PAGE)
    assert page.state == "rejected"
    decision = after.approvals[-1]
    assert (decision.decision, decision.reason, decision.by) == ("reject", "wrong service", "Aiko")
    entry = after.timeline[-1]
    assert (entry.kind, entry.actor) == ("rejection", "Aiko")
    assert "wrong service" in entry.text
    assert approval_for(after, page) is None


def test_rejecting_an_approved_draft_before_it_is_sent_withdraws_the_approval() -> None:
    approved = approve(incident(), PAGE, "Aiko", LATER)
    rejected = reject(approved, PAGE, "Ben", LATER, reason="already paged by hand")
    assert approval_for(rejected, _draft(rejected, PAGE)) is None


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_needs_a_reason(reason: str) -> None:
    with pytest.raises(ApprovalError, match="needs a reason"):
        reject(incident(), PAGE, "Aiko", LATER, reason=reason)


def test_unknown_draft_lists_the_known_ids() -> None:
    with pytest.raises(ApprovalError) as caught:
        approve(incident(), "d-nope", "Aiko", LATER)
    message = str(caught.value)
    assert "'d-nope'" in message
    for known in (PAGE, SLACK, STATUS, EMAIL):
        assert repr(known) in message


def test_a_sent_draft_cannot_be_decided_on() -> None:
    sent = incident(draft(PAGE, state="sent"))
    with pytest.raises(ApprovalError, match="already sent"):
        approve(sent, PAGE, "Aiko", LATER)
    with pytest.raises(ApprovalError, match="already sent"):
        reject(sent, PAGE, "Aiko", LATER, reason="too late")


def test_a_rejected_draft_cannot_be_approved_or_rejected_again() -> None:
    rejected = reject(incident(), PAGE, "Aiko", LATER, reason="wrong team")
    with pytest.raises(ApprovalError, match="rejected"):
        approve(rejected, PAGE, "Ben", LATER)
    with pytest.raises(ApprovalError, match="already rejected"):
        reject(rejected, PAGE, "Ben", LATER, reason="again")


@pytest.mark.parametrize("by", ["", "  "])
def test_the_reviewer_must_be_named(by: str) -> None:
    with pytest.raises(ApprovalError, match="reviewer's name is empty"):
        approve(incident(), PAGE, by, LATER)
    with pytest.raises(ApprovalError, match="reviewer's name is empty"):
        reject(incident(), PAGE, by, LATER, reason="no")


@pytest.mark.parametrize("body", ["", "\n  "])
def test_an_empty_edit_is_refused(body: str) -> None:
    with pytest.raises(ApprovalError, match=r"edited body .* is empty"):
        approve(incident(), PAGE, "Aiko", LATER, edited_body=body)


def test_decision_time_must_be_timezone_aware() -> None:
    with pytest.raises(ApprovalError, match="timezone-aware"):
        approve(incident(), PAGE, "Aiko", datetime(2024, 3, 1, 10, 5))


@pytest.mark.parametrize(
    ("edit", "flag"),
    [
        ("Contact jane.doe@gmail.example for refunds.", "email"),
        ("Retry with token=abcd1234efgh.", "secret_value"),
        ("Card 4111 1111 1111 1111 was declined.", "card_number"),
        (f"Call our on-call at {ONCALL_CONTACT}.", "responder_contact"),
    ],
)
def test_an_outside_audience_edit_with_flagged_content_is_refused(edit: str, flag: str) -> None:
    with pytest.raises(ApprovalError) as caught:
        approve(incident(), STATUS, "Ben", LATER, edited_body=edit)
    message = str(caught.value)
    assert "customers" in message
    assert flag in message
    assert edit not in message  # the flagged text itself is never echoed


def test_a_clean_outside_audience_edit_is_approved() -> None:
    after = approve(incident(), STATUS, "Ben", LATER, edited_body="Payments are recovering.")
    assert _draft(after, STATUS).state == "edited"


def test_flags_in_an_internal_draft_are_recorded_as_warnings() -> None:
    after = approve(
        incident(),
        SLACK,
        "Ben",
        LATER,
        edited_body="payment logs show password=hunter2 at 10.0.3.7",
    )
    assert after.approvals[-1].warnings == ["contains secret_value"]
    assert after.timeline[-1].data["warnings"] == ["contains secret_value"]


def test_reviewer_warnings_are_recorded_on_the_approval() -> None:
    after = approve(incident(), EMAIL, "Cho", LATER, warnings=["cause not yet confirmed"])
    assert after.approvals[-1].warnings == ["cause not yet confirmed"]


def test_contacts_only_count_for_outside_audiences_and_ips_never() -> None:
    text = f"db 10.0.3.7 down, ring {ONCALL_CONTACT}"
    assert flagged(text, outside=False, contacts=[ONCALL_CONTACT]) == []
    assert flagged(text, outside=True, contacts=[ONCALL_CONTACT]) == ["responder_contact"]


def test_executives_count_as_outside_the_response() -> None:
    with pytest.raises(ApprovalError, match="for executives but contains secret_value"):
        approve(incident(), EMAIL, "Cho", LATER, edited_body="db password=hunter2 leaked")


def test_a_flagged_title_is_refused_too() -> None:
    status = draft(STATUS, audience="customers", channel="statuspage", title="Mail ann@x.example")
    with pytest.raises(ApprovalError, match="email"):
        approve(incident(status), STATUS, "Ben", LATER)


def test_the_draft_linters_warnings_can_be_passed_through() -> None:
    status = draft(STATUS, audience="customers", channel="statuspage", body="db 10.0.3.7 is slow")
    inc = incident(status)
    warnings = check_external(status, ["payment"])
    after = approve(inc, STATUS, "Ben", LATER, warnings=warnings)
    assert after.approvals[-1].warnings == warnings
    assert any("IP address" in w for w in warnings)


def test_decisions_keep_their_order_in_the_timeline() -> None:
    after = approve(incident(), PAGE, "Aiko", LATER)
    after = reject(after, SLACK, "Ben", LATER, reason="duplicate")
    assert [e.kind for e in after.timeline] == ["approval", "rejection"]
    assert [a.decision for a in after.approvals] == ["approve", "reject"]
    assert all(a.at >= T0 for a in after.approvals)
