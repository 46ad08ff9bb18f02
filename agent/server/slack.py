"""Slack: `/triage status|approve|reject|ack|ask ...` and Approve/Reject buttons.

Requests are verified with Slack's v0 signature (HMAC-SHA256 of
`v0:{timestamp}:{body}` with the app's signing secret) inside a replay window.
Decisions go through the desk like any other, with the Slack user recorded as
the approver. A button carries the draft's revision, so it can only approve
the words it was posted with.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from pydantic import ValidationError

from agent.approval.models import Decision
from agent.approval.service import ApprovalError, StaleDraft
from agent.chat.service import ChatReply
from agent.incident.lifecycle import LifecycleError
from agent.incident.models import Incident, RootCause
from agent.incident.store import IncidentNotFound
from agent.runner import TriageInProgress
from agent.server.auth import Unauthorized, check_fresh
from agent.service.desk import Desk

Reply = dict[str, Any]
USAGE = (
    "Usage: `/triage status [INCIDENT]`, `/triage approve INCIDENT DRAFT`,"
    " `/triage reject INCIDENT DRAFT REASON`, `/triage ack INCIDENT`,"
    " `/triage mitigate INCIDENT [NOTE]`, `/triage resolve INCIDENT SERVICE [FAULT_TYPE]`,"
    " `/triage ask INCIDENT QUESTION`"
)
BODY_CHARS = 2_500
REFUSALS = (
    ApprovalError,
    IncidentNotFound,
    LifecycleError,
    TriageInProgress,
    LookupError,
    ValidationError,
)


def slack_signature(secret: bytes, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()


def verify_slack(
    headers: Mapping[str, str],
    body: bytes,
    secret: bytes,
    max_skew_s: int,
    now: float | None = None,
) -> None:
    """Raise Unauthorized unless Slack signed this body within the replay window."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    given = headers.get("x-slack-signature", "")
    if not timestamp or not given:
        raise Unauthorized("missing X-Slack-Signature or X-Slack-Request-Timestamp")
    check_fresh(timestamp, max_skew_s, now)
    if not hmac.compare_digest(given.encode(), slack_signature(secret, timestamp, body).encode()):
        raise Unauthorized("X-Slack-Signature does not match")


def form(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body, one value per field."""
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}


def slack_user(user_id: str, name: str) -> str:
    """How a Slack user is recorded as approver: their name and their stable id."""
    return f"{name or user_id} (Slack {user_id})"


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: alert and log text must not become links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackDesk:
    """Answers slash commands and button clicks through the incident desk."""

    def __init__(self, desk: Desk, ask: Callable[[str, str, str], ChatReply]) -> None:
        self.desk = desk
        self.ask = ask

    def command(self, fields: Mapping[str, str]) -> Reply:
        words = fields.get("text", "").split()
        verb, args = (words[0].lower(), words[1:]) if words else ("help", [])
        by = slack_user(fields.get("user_id", ""), fields.get("user_name", ""))
        try:
            return self._command(verb, args, by)
        except REFUSALS as error:
            return ephemeral(f"Refused: {escape(str(error))}")

    def _command(self, verb: str, args: list[str], by: str) -> Reply:
        if verb == "status":
            return self._status(args[0]) if args else self._open_incidents()
        if verb == "approve" and len(args) == 2:
            return self._decided(args[0], Decision(draft_id=args[1], action="approve", by=by))
        if verb == "reject" and len(args) >= 3:
            decision = Decision(draft_id=args[1], action="reject", by=by, reason=" ".join(args[2:]))
            return self._decided(args[0], decision)
        if moved := self._moved(verb, args, by):
            return ephemeral(f"{moved.id} is {moved.status}.", in_channel=True)
        if verb == "ask" and len(args) >= 2:
            reply = self.ask(args[0], " ".join(args[1:]), by)
            cited = ", ".join(reply.citations[:8])
            return ephemeral(f"{escape(reply.answer)}\n_cites: {escape(cited) or 'nothing'}_")
        return ephemeral(USAGE)

    def action(self, payload: Mapping[str, Any]) -> Reply:
        """A block_actions payload: Approve or Reject pressed on a posted draft."""
        user = payload.get("user") or {}
        by = slack_user(
            str(user.get("id", "")), str(user.get("username") or user.get("name") or "")
        )
        replies = [self._press(action, by) for action in payload.get("actions") or []]
        return ephemeral("\n".join(replies) or "Nothing to do.")

    def _press(self, action: Mapping[str, Any], by: str) -> str:
        incident_id, _, rest = str(action.get("value", "")).partition("|")
        draft_id, _, revision = rest.partition("|")
        kind = str(action.get("action_id", ""))
        read = int(revision) if revision.isdigit() else None
        try:
            if kind == "approve":
                decision = Decision(draft_id=draft_id, action="approve", by=by, revision=read)
            elif kind == "reject":
                reason = f"rejected in Slack by {by}"
                decision = Decision(
                    draft_id=draft_id, action="reject", by=by, reason=reason, revision=read
                )
            else:
                return f"Unknown action {escape(kind)!r}."
            return self._decided(incident_id, decision)["text"]
        except StaleDraft as stale:
            return (
                f"Refused: {escape(draft_id)} changed since this button was posted (now revision"
                f" {stale.now}); run `/triage status {escape(incident_id)}` again"
            )
        except REFUSALS as error:
            return f"Refused: {escape(str(error))}"

    def _moved(self, verb: str, args: list[str], by: str) -> Incident | None:
        """The incident after `ack`, `mitigate` or `resolve`; None for any other verb."""
        if verb in {"ack", "acknowledge"} and len(args) == 1:
            return self.desk.acknowledge(args[0], by)
        if verb == "mitigate" and args:
            return self.desk.mitigate(args[0], by, " ".join(args[1:]))
        if verb == "resolve" and len(args) in {2, 3}:
            fields = dict(zip(("service", "fault_type"), args[1:], strict=False))
            return self.desk.resolve(args[0], by, RootCause.model_validate(fields))
        return None

    def _decided(self, incident_id: str, decision: Decision) -> Reply:
        outcome = self.desk.decide(incident_id, decision)
        draft = outcome.incident.draft(decision.draft_id)
        state = draft.state if draft else "?"
        return ephemeral(f"{decision.draft_id}: {state} by {escape(decision.by)}.", in_channel=True)

    def _open_incidents(self) -> Reply:
        found = self.desk.store.recent(status="open", limit=10)
        lines = [f"*{i.id}* {escape(i.title)}" for i in found] or ["No open incidents."]
        return ephemeral("\n".join(lines))

    def _status(self, incident_id: str) -> Reply:
        incident = self.desk.store.get(incident_id)
        return {"response_type": "ephemeral", "text": summary(incident), "blocks": blocks(incident)}


def ephemeral(text: str, in_channel: bool = False) -> Reply:
    return {"response_type": "in_channel" if in_channel else "ephemeral", "text": text}


def summary(incident: Incident) -> str:
    top = incident.isolation.top() if incident.isolation else None
    level = incident.severity.level if incident.severity else "?"
    suspect = f"{top.service} ({top.fault_type}, {top.confidence:.0%})" if top else "no suspect"
    ic = incident.routing.incident_commander.name if incident.routing else "?"
    return escape(f"{incident.id} [{incident.status}] {level} {incident.title}: {suspect}; IC {ic}")


def blocks(incident: Incident) -> list[dict[str, Any]]:
    """The incident line, then each pending draft with Approve and Reject buttons."""
    out: list[dict[str, Any]] = [_section(f"*{summary(incident)}*")]
    for draft in incident.drafts:
        if draft.state != "pending":
            continue
        body = escape(draft.body[:BODY_CHARS])
        out.append(_section(f"*{escape(draft.title)}* ({draft.kind} → {draft.audience})\n{body}"))
        value = f"{incident.id}|{draft.id}|{draft.revision}"
        out.append(
            {
                "type": "actions",
                "block_id": f"decide-{draft.id}"[:255],
                "elements": [
                    _button("approve", "Approve", value, "primary"),
                    _button("reject", "Reject", value, "danger"),
                ],
            }
        )
    return out


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _button(action: str, label: str, value: str, style: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action,
        "text": {"type": "plain_text", "text": label},
        "style": style,
        "value": value,
    }


def action_payload(fields: Mapping[str, str]) -> dict[str, Any]:
    """The JSON in an interaction's `payload` field."""
    try:
        payload = json.loads(fields.get("payload", ""))
    except json.JSONDecodeError:
        raise ValueError("the interaction has no JSON `payload` field") from None
    if not isinstance(payload, dict):
        raise ValueError("the interaction payload is not an object")
    return payload
