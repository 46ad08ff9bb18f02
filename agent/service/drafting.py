"""New drafts after triage: a fresh revision built from the incident as it is now,
the page for the next responder when a page goes unacknowledged, and what resolving
changes (pending drafts withdrawn; the status page told it is resolved).

Built by the same writers as the graph's drafts, from the same DraftContext, so
nothing new can reach a message; responders' notes (actions, decisions, needs)
enter the next revision, a question asked in chat does not.
"""

from __future__ import annotations

from datetime import datetime

from agent.context import TriageContext
from agent.draft.from_incident import sent_status_updates
from agent.draft.models import Draft, DraftKind
from agent.draft.write import write_draft
from agent.incident.models import Incident
from agent.incident.service import note
from agent.routing.models import EscalationStep


def redraft(
    ctx: TriageContext, incident: Incident, kind: DraftKind, by: str, at: datetime
) -> tuple[Incident, Draft]:
    """`incident` with a new pending revision of its `kind` draft (or a first one)."""
    fresh = write_draft(ctx.draft_context(incident, at), kind)
    old = incident.draft(fresh.id)
    revision = old.revision + 1 if old is not None else 1
    fresh = fresh.model_copy(update={"revision": revision})
    updated = with_draft(incident, fresh)
    text = f"{by} asked for a new {kind} (revision {revision}); waiting for approval."
    return note(updated, "draft", text, by, at, data={"draft_id": fresh.id}), fresh


def withdraw_pending(incident: Incident) -> tuple[Incident, list[Draft]]:
    """`incident` without its pending drafts but the postmortem, and those withdrawn: once
    it is resolved, nothing written while it was open (a page, "investigating") may go out."""
    gone = [d for d in incident.drafts if d.state == "pending" and d.kind != "postmortem"]
    kept = [d for d in incident.drafts if d not in gone]
    return incident.model_copy(update={"drafts": kept}), gone


def resolved_status_update(ctx: TriageContext, incident: Incident, at: datetime) -> Incident:
    """`incident` with a pending status update saying it is resolved, when customers were
    told of it (none went out: there is nothing to close on the status page)."""
    if not sent_status_updates(incident):
        return incident
    updated, _ = redraft(ctx, incident, "status_update", "agent", at)
    return updated


def escalation_page(
    ctx: TriageContext, incident: Incident, step: EscalationStep, number: int, at: datetime
) -> Draft:
    """A page for the step's target, its own draft (own id, own PagerDuty dedup key)
    so it reaches them instead of folding into the unacknowledged first page."""
    if incident.routing is None:
        raise ValueError(f"{incident.id} has no routing to escalate")
    routing = incident.routing.model_copy(update={"paged": [step.to]})
    context = ctx.draft_context(incident.model_copy(update={"routing": routing}), at)
    page = write_draft(context, "page")
    draft_id = f"{page.id}-escalation-{number}"
    payload = {**page.payload, "dedup_key": f"{incident.id}/escalation-{number}"}
    return page.model_copy(update={"id": draft_id, "payload": payload})


def with_draft(incident: Incident, draft: Draft) -> Incident:
    """`incident` with `draft` added, or replacing the draft of the same id; a replaced
    revision a person signed off stays on record in `sent_earlier`."""
    old = incident.draft(draft.id)
    if old is None:
        return incident.model_copy(update={"drafts": [*incident.drafts, draft]})
    drafts = [draft if d.id == draft.id else d for d in incident.drafts]
    earlier = [*incident.sent_earlier, old] if old.signed_off else incident.sent_earlier
    return incident.model_copy(update={"drafts": drafts, "sent_earlier": earlier})
