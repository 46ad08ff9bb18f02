"""Recording a human's decision on a draft: pure functions from incident to incident.

Nothing leaves without an approval that covers the draft's current content
(agent/dispatch checks it again before every send). These functions do no I/O:
the graph calls them after its interrupt and persists what they return.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import datetime

from agent.approval.content import content_digest, flagged
from agent.approval.models import Approval, Decision
from agent.draft.lint import is_outside, unfilled
from agent.draft.models import Draft
from agent.incident.models import Incident, TimelineEntry

DIFF_MAX_LINES = 200


class ApprovalError(ValueError):
    """A decision that cannot be recorded; the message says why and what to do."""


class StaleDraft(ApprovalError):
    """A decision on a revision the draft has moved past (redrafted since it was read)."""

    def __init__(self, draft_id: str, read: int, now: int) -> None:
        super().__init__(
            f"draft {draft_id!r} changed since you read revision {read} (now revision {now});"
            " read it again before deciding"
        )
        self.draft_id, self.read, self.now = draft_id, read, now


def decide(
    incident: Incident, decision: Decision, at: datetime, *, warnings: Sequence[str] = ()
) -> Incident:
    """`incident` with a reviewer's `decision` recorded (approve, edit or reject)."""
    if decision.action == "reject":
        return reject(incident, decision.draft_id, decision.by, at, decision.reason or "")
    return approve(
        incident,
        decision.draft_id,
        decision.by,
        at,
        decision.edited_body,
        warnings=warnings,
        role=decision.role,
    )


def approve(
    incident: Incident,
    draft_id: str,
    by: str,
    at: datetime,
    edited_body: str | None = None,
    *,
    warnings: Sequence[str] = (),
    role: str | None = None,
) -> Incident:
    """`incident` with `by`'s approval of the draft, edited first when `edited_body` differs.

    An edit bumps the revision and keeps the original body on the approval, so
    the timeline shows what the human changed. `warnings` are flags the reviewer
    was shown and approved over; they are recorded, never acted on. A draft that
    needs sign-off from several roles (a security incident's external word needs
    legal and PR) stays pending until each `role` has approved the same content;
    an edit voids the earlier sign-offs. Repeating an approval already on record
    returns `incident` unchanged, so a resumed graph can repeat the call safely.
    """
    draft = _decidable(incident, draft_id, by, at)
    if draft.state == "rejected":
        raise ApprovalError(f"draft {draft_id!r} was rejected; draft a new message instead")
    if edited_body is not None and not edited_body.strip():
        raise ApprovalError(
            f"edited body for draft {draft_id!r} is empty; reject the draft instead"
        )
    role = _signing_role(draft, role)
    if holes := unfilled(draft, edited_body):
        raise ApprovalError(
            f"draft {draft_id!r} has unfilled placeholders ({', '.join(holes)}); fill them in"
            " with an edit before approving"
        )
    edited = edited_body is not None and edited_body != draft.body
    if not edited and _already_approved(incident, draft, role):
        return incident
    body = edited_body if edited_body is not None and edited else draft.body
    found = _check_flags(incident, draft, body)
    revision = draft.revision + 1 if edited else draft.revision
    approval = Approval(
        draft_id=draft.id,
        incident_id=incident.id,
        decision="approve",
        by=by.strip(),
        at=at,
        revision=revision,
        edited=edited,
        original_body=draft.body if edited else None,
        content_sha256=content_digest(draft, body),
        warnings=[*warnings, *found],
        role=role,
    )
    revised = draft.model_copy(update={"body": body, "revision": revision})
    missing = missing_signoffs([*incident.approvals, approval], revised)
    state = "pending" if missing else ("edited" if revision > 1 else "approved")
    entry = _approval_entry(draft, approval, body, missing)
    return _record(incident, revised.model_copy(update={"state": state}), approval, entry)


def reject(incident: Incident, draft_id: str, by: str, at: datetime, reason: str) -> Incident:
    """`incident` with the draft rejected by `by`; the reason is required so the agent can learn."""
    draft = _decidable(incident, draft_id, by, at)
    if draft.state == "rejected":
        raise ApprovalError(f"draft {draft_id!r} is already rejected")
    if not reason or not reason.strip():
        raise ApprovalError(f"rejecting draft {draft_id!r} needs a reason")
    rejection = Approval(
        draft_id=draft.id,
        incident_id=incident.id,
        decision="reject",
        by=by.strip(),
        at=at,
        revision=draft.revision,
        reason=reason.strip(),
        content_sha256=content_digest(draft),
    )
    entry = TimelineEntry(
        at=at,
        kind="rejection",
        actor=rejection.by,
        text=f"{rejection.by} rejected {draft.kind} {draft.title!r}: {rejection.reason}",
        data={"draft_id": draft.id, "revision": draft.revision, "reason": rejection.reason},
    )
    return _record(incident, draft.model_copy(update={"state": "rejected"}), rejection, entry)


def approval_for(incident: Incident, draft: Draft) -> Approval | None:
    """The approval covering the draft as it is now, or None.

    The latest decision on the draft's current revision counts, and only if the
    content still has the digest that was approved: an edit, a rejection or any
    change of title, body or payload after approval leaves the draft unapproved.
    A draft still missing a required sign-off has no covering approval.
    """
    covering = _current_approvals(incident.approvals, draft)
    if not covering or missing_signoffs(incident.approvals, draft):
        return None
    return covering[-1]


def required_signoffs(draft: Draft) -> list[str]:
    """The roles that must each approve `draft` before it may leave (from its payload)."""
    roles = draft.payload.get("approvals_required")
    return [str(r) for r in roles] if isinstance(roles, list) else []


def missing_signoffs(approvals: Sequence[Approval], draft: Draft) -> list[str]:
    """Required roles that have not yet approved `draft` as it is now."""
    signed = {a.role for a in _current_approvals(approvals, draft)}
    return [r for r in required_signoffs(draft) if r not in signed]


def _current_approvals(approvals: Sequence[Approval], draft: Draft) -> list[Approval]:
    """Approvals of the draft's current content since its last rejection, oldest first."""
    digest = content_digest(draft)
    found: list[Approval] = []
    for decision in approvals:
        same = decision.draft_id == draft.id and decision.incident_id == draft.incident_id
        if not same or decision.revision != draft.revision:
            continue
        if decision.decision == "reject":
            found = []
        elif decision.content_sha256 == digest:
            found.append(decision)
    return found


def _signing_role(draft: Draft, role: str | None) -> str | None:
    """`role` normalised, refused when the draft does not ask for it."""
    if role is None or not role.strip():
        return None
    role = role.strip().lower()
    required = required_signoffs(draft)
    if role not in required:
        wanted = ", ".join(required) or "no role sign-off"
        raise ApprovalError(
            f"draft {draft.id!r} does not need sign-off as {role!r}; it needs {wanted}"
        )
    return role


def _already_approved(incident: Incident, draft: Draft, role: str | None) -> bool:
    """Whether this exact approval (same content, same role) is already on record."""
    return any(a.role == role for a in _current_approvals(incident.approvals, draft))


def _decidable(incident: Incident, draft_id: str, by: str, at: datetime) -> Draft:
    """The draft, if a decision on it can be recorded at all."""
    draft = incident.draft(draft_id)
    if draft is None:
        known = ", ".join(repr(d.id) for d in incident.drafts) or "none"
        raise ApprovalError(
            f"incident {incident.id!r} has no draft {draft_id!r}; known drafts: {known}"
        )
    if draft.state == "sent":
        raise ApprovalError(f"draft {draft_id!r} was already sent; decisions on it are final")
    if not by or not by.strip():
        raise ApprovalError(f"the reviewer's name is empty; say who decided on draft {draft_id!r}")
    if at.tzinfo is None:
        raise ApprovalError("the decision time must be timezone-aware (use UTC)")
    return draft


def _check_flags(incident: Incident, draft: Draft, body: str) -> list[str]:
    """Secrets, personal data and paging contacts in what is approved.

    Fatal for a draft leaving the response team (the human cannot approve past
    them), warnings on an internal one (a false positive must not hold up a page).
    """
    routing = incident.routing
    people = [*routing.paged, routing.incident_commander] if routing else []
    outside = is_outside(draft)
    found = flagged(f"{draft.title}\n{body}", outside, [p.contact for p in people if p.contact])
    if found and outside:
        raise ApprovalError(
            f"draft {draft.id!r} is for {draft.audience} but contains"
            f" {', '.join(found)}; remove it before approving"
        )
    return [f"contains {name}" for name in found]


def _approval_entry(
    draft: Draft, approval: Approval, body: str, missing: Sequence[str]
) -> TimelineEntry:
    """The timeline's record of who approved what, the edit as a diff, and who must still sign."""
    how = f"edited and approved (revision {approval.revision})" if approval.edited else "approved"
    if approval.role:
        how += f" as {approval.role}"
    still = f"; still needs sign-off from {', '.join(missing)}" if missing else ""
    data: dict[str, object] = {
        "draft_id": draft.id,
        "revision": approval.revision,
        "edited": approval.edited,
        "warnings": approval.warnings,
        "role": approval.role,
        "missing_signoffs": list(missing),
    }
    if approval.edited:
        data["diff"] = _diff(draft.body, body)
    return TimelineEntry(
        at=approval.at,
        kind="approval",
        actor=approval.by,
        text=f"{approval.by} {how} {draft.kind} {draft.title!r} for {draft.channel}{still}",
        data=data,
    )


def _diff(before: str, after: str) -> list[str]:
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), "drafted", "approved", lineterm=""
    )
    return list(lines)[:DIFF_MAX_LINES]


def _record(incident: Incident, draft: Draft, decision: Approval, entry: TimelineEntry) -> Incident:
    """A copy of `incident` with the draft replaced and the decision logged; input untouched."""
    return incident.model_copy(
        update={
            "drafts": [draft if d.id == draft.id else d for d in incident.drafts],
            "approvals": [*incident.approvals, decision],
            "timeline": [*incident.timeline, entry],
            "updated_at": max(incident.updated_at, decision.at),
        }
    )
