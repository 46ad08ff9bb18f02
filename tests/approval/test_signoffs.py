"""A security incident's external word needs legal and PR: each signs the same content."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.approval.service import ApprovalError, approval_for, approve, missing_signoffs, reject
from agent.dispatch.config import DispatchConfig
from agent.dispatch.service import dispatch
from agent.draft.models import Draft
from agent.incident.models import Incident
from tests.approval.factories import LATER, draft, incident

STATEMENT = "d-pr"


def _security_incident() -> Incident:
    statement = draft(
        STATEMENT,
        kind="pr_statement",
        audience="media",
        channel="email",
        title="Statement on a service disruption",
        body="We are investigating a security matter and will share more when we can.",
        payload={"approvals_required": ["legal", "pr"], "security": True},
    )
    return incident(statement)


def _statement(inc: Incident) -> Draft:
    found = inc.draft(STATEMENT)
    assert found is not None
    return found


def test_one_signoff_leaves_the_draft_pending_and_unsendable(tmp_path: Path) -> None:
    inc = approve(_security_incident(), STATEMENT, "Kenji", LATER, role="legal")

    statement = _statement(inc)
    assert statement.state == "pending"
    assert missing_signoffs(inc.approvals, statement) == ["pr"]
    assert approval_for(inc, statement) is None
    assert "still needs sign-off from pr" in inc.timeline[-1].text

    outbox = tmp_path / "outbox.jsonl"
    after = dispatch(inc, STATEMENT, DispatchConfig(outbox_path=outbox))
    assert after.dispatches[-1].status == "refused"
    assert not outbox.exists()


def test_both_signoffs_approve_it_and_it_can_be_sent(tmp_path: Path) -> None:
    inc = approve(_security_incident(), STATEMENT, "Kenji", LATER, role="legal")
    inc = approve(inc, STATEMENT, "Mai", LATER, role="PR")

    statement = _statement(inc)
    assert statement.state == "approved"
    covering = approval_for(inc, statement)
    assert covering is not None and covering.by == "Mai"
    assert [a.role for a in inc.approvals] == ["legal", "pr"]

    outbox = tmp_path / "outbox.jsonl"
    after = dispatch(inc, STATEMENT, DispatchConfig(outbox_path=outbox))
    assert after.dispatches[-1].status == "sent"
    assert outbox.read_text(encoding="utf-8").count(STATEMENT) >= 1


def test_an_edit_voids_the_earlier_signoff() -> None:
    inc = approve(_security_incident(), STATEMENT, "Kenji", LATER, role="legal")
    inc = approve(inc, STATEMENT, "Mai", LATER, "We are investigating.", role="pr")

    statement = _statement(inc)
    assert (statement.state, statement.revision) == ("pending", 2)
    assert missing_signoffs(inc.approvals, statement) == ["legal"]

    inc = approve(inc, STATEMENT, "Kenji", LATER, role="legal")
    assert _statement(inc).state == "edited"


def test_an_ordinary_approval_does_not_count_as_a_signoff() -> None:
    inc = approve(_security_incident(), STATEMENT, "Aiko", LATER)
    assert _statement(inc).state == "pending"
    assert missing_signoffs(inc.approvals, _statement(inc)) == ["legal", "pr"]


def test_a_rejection_clears_the_signoffs_so_far() -> None:
    inc = approve(_security_incident(), STATEMENT, "Kenji", LATER, role="legal")
    inc = reject(inc, STATEMENT, "Mai", LATER, "wrong tone")
    assert _statement(inc).state == "rejected"
    assert approval_for(inc, _statement(inc)) is None


def test_repeating_a_signoff_records_nothing_new() -> None:
    once = approve(_security_incident(), STATEMENT, "Kenji", LATER, role="legal")
    twice = approve(once, STATEMENT, "Kenji", LATER, role="legal")
    assert twice == once


def test_signing_in_a_role_the_draft_does_not_need_is_refused() -> None:
    with pytest.raises(
        ApprovalError, match="does not need sign-off as 'finance'; it needs legal, pr"
    ):
        approve(_security_incident(), STATEMENT, "Kenji", LATER, role="finance")
