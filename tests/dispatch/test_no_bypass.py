"""No code path sends without an approval for the draft's current content.

Every public way in is tried with a missing, stale or mismatched approval,
while the two places bytes can leave (the HTTP call and the outbox append)
are spied on. A positive control proves the spies see real sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.approval.models import Approval
from agent.approval.service import approval_for, approve, reject
from agent.dispatch import outbox as outbox_module
from agent.dispatch import transport
from agent.dispatch.config import DispatchConfig
from agent.dispatch.guard import SendPermit, UnapprovedSendError, authorize
from agent.dispatch.outbox import OutboxSender, append_once
from agent.dispatch.pagerduty import PagerDutySender
from agent.dispatch.sender import ApprovedSender
from agent.dispatch.service import dispatch, sender_for
from agent.dispatch.slack import SlackSender
from agent.dispatch.transport import RetryPolicy, post_json
from agent.draft.models import Draft
from agent.incident.models import Incident
from tests.approval.factories import EMAIL, LATER, PAGE, SLACK, STATUS, incident
from tests.support.receiver import Receiver

ALL = (PAGE, SLACK, STATUS, EMAIL)


@dataclass
class Watch:
    """Everywhere a message could leave: the spied send functions, both receivers, the outbox."""

    receivers: tuple[Receiver, ...]
    outbox: Path
    calls: list[str] = field(default_factory=list)

    def wrap(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def spied(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return real(*args, **kwargs)

        return spied

    def assert_nothing_left(self) -> None:
        assert self.calls == []
        assert all(r.requests == [] for r in self.receivers)
        assert not self.outbox.exists()


@pytest.fixture
def watch(
    monkeypatch: pytest.MonkeyPatch, pagerduty: Receiver, slack: Receiver, outbox: Path
) -> Iterator[Watch]:
    watch = Watch((pagerduty, slack), outbox)
    monkeypatch.setattr(transport, "send_once", watch.wrap("http", transport.send_once))
    monkeypatch.setattr(
        outbox_module, "append_once", watch.wrap("outbox", outbox_module.append_once)
    )
    yield watch


def _rewrite(inc: Incident, draft_id: str, **change: Any) -> Incident:
    drafts = [d.model_copy(update=change) if d.id == draft_id else d for d in inc.drafts]
    return inc.model_copy(update={"drafts": drafts})


def _unapproved_incidents() -> Iterator[tuple[str, Incident]]:
    """Every way a draft can lack an approval for its current content."""
    base = incident()
    yield "pending", base
    for draft_id in ALL:
        approved = approve(base, draft_id, "Aiko", LATER)
        yield f"{draft_id} rejected", reject(approved, draft_id, "Ben", LATER, reason="no")
        yield (
            f"{draft_id} edited after approval",
            _rewrite(approved, draft_id, body="rewritten", revision=2),
        )
        yield f"{draft_id} changed in place", _rewrite(approved, draft_id, body="rewritten")
        yield f"{draft_id} state forced", _rewrite(base, draft_id, state="approved")


@pytest.mark.parametrize(
    ("case", "inc"), [pytest.param(case, inc, id=case) for case, inc in _unapproved_incidents()]
)
@pytest.mark.parametrize("configured", [True, False], ids=["adapters", "outbox-only"])
def test_dispatch_never_sends_without_approval(
    case: str, inc: Incident, configured: bool, watch: Watch, config: DispatchConfig
) -> None:
    used = config if configured else DispatchConfig(outbox_path=watch.outbox)
    for draft_id in ALL:
        after = dispatch(inc, draft_id, used, now=LATER)
        assert after.dispatches[-1].status == "refused", (case, draft_id)
    watch.assert_nothing_left()


def _senders(config: DispatchConfig) -> list[ApprovedSender]:
    assert config.pagerduty is not None
    assert config.slack is not None
    policy = RetryPolicy.of(config)
    return [
        PagerDutySender(config.pagerduty, policy, team="payments"),
        SlackSender(config.slack, policy),
        OutboxSender(config.outbox_path),
    ]


def _mismatched(inc: Incident, draft: Draft) -> Iterator[Approval]:
    """Approvals that look plausible but do not cover `draft`."""
    approved = approve(inc, draft.id, "Aiko", LATER)
    good = approval_for(approved, _only(approved, draft.id))
    assert good is not None
    yield good.model_copy(update={"draft_id": "d-other"})
    yield good.model_copy(update={"incident_id": "inc-other"})
    yield good.model_copy(update={"revision": 7})
    yield good.model_copy(update={"decision": "reject"})
    yield good.model_copy(update={"content_sha256": None})
    yield good.model_copy(update={"content_sha256": "0" * 64})
    other = next(d for d in approved.drafts if d.id != draft.id)
    other_approved = approval_for(approve(inc, other.id, "Aiko", LATER), other)
    assert other_approved is not None
    yield other_approved


def _only(inc: Incident, draft_id: str) -> Draft:
    found = inc.draft(draft_id)
    assert found is not None
    return found


def test_senders_called_directly_refuse_a_mismatched_approval(
    watch: Watch, config: DispatchConfig
) -> None:
    inc = incident()
    tried = 0
    for sender in _senders(config):
        for draft in inc.drafts:
            sendable = draft.model_copy(update={"state": "approved"})
            for approval in _mismatched(inc, draft):
                with pytest.raises(UnapprovedSendError):
                    sender.send(sendable, approval)
                tried += 1
    assert tried == 3 * 4 * 7
    watch.assert_nothing_left()


def test_senders_refuse_a_good_approval_for_a_draft_not_in_an_approved_state(
    watch: Watch, config: DispatchConfig
) -> None:
    approved = approve(incident(), PAGE, "Aiko", LATER)
    page = _only(approved, PAGE)
    approval = approval_for(approved, page)
    assert approval is not None
    for sender in _senders(config):
        for state in ("pending", "rejected", "sent"):
            with pytest.raises(UnapprovedSendError, match=f"draft is {state}"):
                sender.send(page.model_copy(update={"state": state}), approval)
    watch.assert_nothing_left()


def test_the_low_level_paths_need_a_permit_only_authorize_issues(
    watch: Watch, config: DispatchConfig
) -> None:
    pagerduty, _ = watch.receivers
    with pytest.raises(UnapprovedSendError, match="only issued by authorize"):
        SendPermit("inc-42", PAGE, 1, "Aiko", datetime.now(UTC), "0" * 64)
    fake: Any = object()
    with pytest.raises(UnapprovedSendError):
        post_json(pagerduty.url(), {}, permit=fake, policy=RetryPolicy())
    with pytest.raises(UnapprovedSendError):
        append_once(watch.outbox, {}, fake)
    with pytest.raises(UnapprovedSendError):
        authorize(_only(incident(), PAGE), None)
    for sender in _senders(config):
        with pytest.raises(UnapprovedSendError):
            sender.deliver(_only(incident(), PAGE), fake)
    watch.assert_nothing_left()


def test_a_real_permit_does_not_stretch_to_another_draft_or_content(
    watch: Watch, config: DispatchConfig
) -> None:
    approved = approve(incident(), PAGE, "Aiko", LATER)
    page = _only(approved, PAGE)
    approval = approval_for(approved, page)
    assert approval is not None
    permit = authorize(page, approval)
    others = [
        page.model_copy(update={"body": "changed in place"}),
        page.model_copy(update={"revision": 2}),
        _only(approved, SLACK).model_copy(update={"state": "approved"}),
    ]
    for sender in _senders(config):
        for other in others:
            with pytest.raises(UnapprovedSendError, match="no permit"):
                sender.deliver(other, permit)
    watch.assert_nothing_left()


def test_sender_for_only_builds_senders_that_check(config: DispatchConfig) -> None:
    inc = incident()
    for draft in inc.drafts:
        sender = sender_for(draft, inc, config)
        assert isinstance(sender, ApprovedSender)
        with pytest.raises(UnapprovedSendError):
            sender.send(draft, None)  # type: ignore[arg-type]


def test_positive_control_the_spies_see_an_approved_send(
    watch: Watch, config: DispatchConfig
) -> None:
    inc = incident()
    for draft_id in ALL:
        inc = dispatch(approve(inc, draft_id, "Aiko", LATER), draft_id, config, now=LATER)
    assert sorted(watch.calls) == ["http", "http", "outbox", "outbox"]
    assert [len(r.requests) for r in watch.receivers] == [1, 1]
    assert [d.status for d in inc.dispatches] == ["sent"] * 4
