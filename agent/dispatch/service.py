"""Sending an approved draft, and recording what happened in the incident.

`dispatch` is the only entry point the graph uses to send. It refuses, without
touching the network, anything that lacks an approval for the draft's current
content; every attempt (sent, failed or refused) is kept in `incident.dispatches`
and the timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from agent.approval.service import approval_for, missing_signoffs
from agent.dispatch.config import DispatchConfig
from agent.dispatch.guard import UnapprovedSendError, refusal
from agent.dispatch.models import DispatchResult, DispatchStatus
from agent.dispatch.outbox import FileOutbox, Outbox, OutboxSender, send_key
from agent.dispatch.pagerduty import PagerDutySender
from agent.dispatch.sender import Sender, utc_now
from agent.dispatch.slack import SlackSender
from agent.dispatch.transport import RetryPolicy
from agent.draft.models import Draft
from agent.incident.models import Incident, TimelineEntry

log = logging.getLogger(__name__)


class DispatchError(ValueError):
    """The dispatch request itself is wrong (an unknown draft id)."""


def dispatch(
    incident: Incident,
    draft_id: str,
    config: DispatchConfig,
    senders: Mapping[str, Sender] | None = None,
    now: datetime | None = None,
    *,
    outbox: Outbox | None = None,
) -> Incident:
    """`incident` after trying to send the draft: sent, failed (retryable) or refused.

    An already-sent draft returns `incident` unchanged, and a revision the outbox's
    ledger says went out (before a crash kept it from the incident) is recorded,
    not sent again. `senders` overrides the adapter per channel name (tests,
    custom channels); otherwise the channel's configured adapter or the outbox is used.
    """
    draft = incident.draft(draft_id)
    if draft is None:
        known = ", ".join(repr(d.id) for d in incident.drafts) or "none"
        raise DispatchError(f"incident {incident.id!r} has no draft {draft_id!r}; known: {known}")
    if draft.state == "sent":
        return incident
    if now is not None and now.tzinfo is None:
        raise DispatchError("`now` must be timezone-aware (use UTC)")
    clock = (lambda: now) if now is not None else utc_now
    approval = approval_for(incident, draft)
    problem = refusal(draft, approval)
    if problem or approval is None:
        return _record(incident, draft, _refused(incident, draft, problem, clock()))
    outbox = outbox or FileOutbox(config.outbox_path)
    key = send_key(draft)
    try:
        earlier = outbox.reserve(key)
    except Exception as err:  # no ledger, no send: it could not be told apart from a repeat
        detail = f"could not write the outbox: {type(err).__name__}: {err}"
        return _record(incident, draft, _result(draft, "failed", clock(), detail, approval.by))
    if earlier is not None:
        return _record(incident, draft, DispatchResult.model_validate(earlier))
    chosen = (senders or {}).get(draft.channel)
    sender = chosen or sender_for(draft, incident, config, now, outbox)
    try:
        result = sender.send(draft, approval)
        if result.approval_by is None:  # a custom sender's result still names the approver
            result = result.model_copy(update={"approval_by": approval.by})
    except UnapprovedSendError as err:
        result = _refused(incident, draft, str(err), clock())
    except Exception as err:  # a broken adapter must show up in the timeline, not kill the graph
        result = _result(draft, "failed", clock(), f"{type(err).__name__}: {err}", approval.by)
    try:
        outbox.settle(key, result.model_dump(mode="json"))
    except Exception:  # it went out: the incident records it; a retry would resend, deduped
        log.warning("could not settle %s in the outbox ledger", key, exc_info=True)
    return _record(incident, draft, result)


def sender_for(
    draft: Draft,
    incident: Incident,
    config: DispatchConfig,
    now: datetime | None = None,
    outbox: Outbox | None = None,
) -> Sender:
    """The adapter for the draft's channel: its API when configured, else the outbox.

    Status page and e-mail always go to the outbox, for a person or PR tool to publish.
    """
    policy = RetryPolicy.of(config)
    clock = (lambda: now) if now is not None else utc_now
    if draft.channel == "pagerduty" and config.pagerduty is not None:
        team = incident.routing.page_team if incident.routing else None
        return PagerDutySender(config.pagerduty, policy, team=team, clock=clock)
    if draft.channel == "slack" and config.slack is not None:
        return SlackSender(config.slack, policy, clock=clock)
    return OutboxSender(outbox or FileOutbox(config.outbox_path), clock=clock)


CHANNEL_NAMES = {"pagerduty": "PagerDuty", "slack": "Slack"}


@dataclass(frozen=True, slots=True)
class RouteWords:
    """Where a draft goes and what became of it, in one language (the war room's)."""

    goes_to: str
    goes_outbox_only: str
    goes_outbox: str
    queued: str
    queued_unsent: str
    delivered: str
    not_sent: str
    status: Mapping[str, str]


ROUTE_EN = RouteWords(
    goes_to="goes to {name}",
    goes_outbox_only="goes to the outbox file only: {name} is not configured, nobody is notified",
    goes_outbox="goes to the outbox file, for a person to publish",
    queued="queued to the outbox",
    queued_unsent="queued to the outbox ({name} not configured: nobody was notified)",
    delivered="delivered to {name}",
    not_sent="{status}: {detail}",
    status={},
)
ROUTE_JA = RouteWords(
    goes_to="承認すると{name}に送信されます",
    goes_outbox_only="承認しても出力ファイル（outbox）に書き出すだけです。"
    "{name}が未設定のため、誰にも通知されません",
    goes_outbox="承認すると出力ファイル（outbox）に書き出されます。公開は担当者が行います",
    queued="出力ファイル（outbox）に書き出しました",
    queued_unsent="出力ファイル（outbox）に書き出しました（{name}が未設定のため、誰にも通知されていません）",
    delivered="{name}に送信しました",
    not_sent="{status}：{detail}",
    status={"failed": "送信失敗", "refused": "送信拒否"},
)


def route_text(draft: Draft, config: DispatchConfig, words: RouteWords = ROUTE_EN) -> str:
    """Where this draft goes once approved, in words: a page to the outbox is not a page."""
    configured = {"pagerduty": config.pagerduty, "slack": config.slack}
    name = CHANNEL_NAMES.get(draft.channel)
    if name is not None and configured[draft.channel] is not None:
        return words.goes_to.format(name=name)
    if name is not None:
        return words.goes_outbox_only.format(name=name)
    return words.goes_outbox


def outcome_text(result: DispatchResult, words: RouteWords = ROUTE_EN) -> str:
    """What became of one attempt: queued to the outbox, delivered to PagerDuty, or
    failed or refused with the reason."""
    if result.status != "sent":
        status = words.status.get(result.status, result.status)
        return words.not_sent.format(status=status, detail=result.detail)
    if result.destination.startswith("outbox"):
        unsent = CHANNEL_NAMES.get(result.channel)
        return words.queued_unsent.format(name=unsent) if unsent else words.queued
    kind = result.destination.split(" ", 1)[0]
    return words.delivered.format(name=CHANNEL_NAMES.get(kind, kind))


def _refused(incident: Incident, draft: Draft, problem: str, at: datetime) -> DispatchResult:
    """A refusal that also says what became of the draft's last decision."""
    last = next((a for a in reversed(incident.approvals) if a.draft_id == draft.id), None)
    missing = missing_signoffs(incident.approvals, draft)
    if missing and last is not None and last.decision == "approve":
        problem += f" (still needs sign-off from {', '.join(missing)})"
    elif last is not None and last.decision == "reject":
        problem += f" (rejected by {last.by}: {last.reason})"
    elif last is not None and last.revision != draft.revision:
        problem += f" ({last.by} approved revision {last.revision}; it was edited since)"
    elif last is not None:
        problem += f" (the draft changed after {last.by} approved it)"
    return _result(draft, "refused", at, problem)


def _result(
    draft: Draft, status: DispatchStatus, at: datetime, detail: str, by: str | None = None
) -> DispatchResult:
    return DispatchResult(
        draft_id=draft.id,
        incident_id=draft.incident_id,
        channel=draft.channel,
        status=status,
        at=at,
        approval_by=by,
        detail=detail,
    )


def _record(incident: Incident, draft: Draft, result: DispatchResult) -> Incident:
    """A copy of `incident` with the attempt logged; a sent draft becomes "sent"."""
    drafts = incident.drafts
    if result.status == "sent":
        sent = draft.model_copy(update={"state": "sent"})
        drafts = [sent if d.id == draft.id else d for d in incident.drafts]
    return incident.model_copy(
        update={
            "drafts": drafts,
            "dispatches": [*incident.dispatches, result],
            "timeline": [*incident.timeline, _entry(draft, result)],
            "updated_at": max(incident.updated_at, result.at),
        }
    )


def _entry(draft: Draft, result: DispatchResult) -> TimelineEntry:
    what = f"{draft.kind} {draft.title!r}"
    text = {
        "sent": f"{what}: {outcome_text(result)} ({result.destination}),"
        f" approved by {result.approval_by}",
        "failed": f"Failed to send {what} for {draft.channel}: {result.detail}",
        "refused": f"Refused to send {what} for {draft.channel}: {result.detail}",
    }[result.status]
    return TimelineEntry(
        at=result.at,
        kind="dispatch",
        actor="system",
        text=text,
        data={
            "draft_id": draft.id,
            "revision": draft.revision,
            "status": result.status,
            "destination": result.destination,
            "response_code": result.response_code,
            "approval_by": result.approval_by,
        },
    )
