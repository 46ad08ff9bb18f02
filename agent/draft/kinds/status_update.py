"""The status page update: plain words for customers, built only from customer-safe facts.

While the incident is open it says it is being investigated and when the next
update is due; once responders resolve it, that it is resolved and when.

It reads public service names, the detection time, the customer-safe impact
description and the cadence; never the title, evidence, hypotheses or notes, so
nothing an alert says can reach customers this way. For a security incident it
does not mention security at all and asks for legal and PR approval.
"""

from __future__ import annotations

from agent.draft.context import DraftContext
from agent.draft.kinds.common import field, new_draft, public_services, when
from agent.draft.models import Draft
from agent.draft.phrases import Phrases, phrases
from agent.draft.text import MAX_NAME, one_line, untrusted

SECURITY_NOTE = (
    "Security incident: legal and PR must approve before this is published."
    " The wording must not confirm a breach."
)


def build(ctx: DraftContext) -> Draft:
    p = phrases(ctx.language)
    services = public_services(ctx, p)
    issue = p.issue_security if ctx.security else p.issue
    title, lead = _headline(ctx, p).format(issue=issue, services=services), _lead(ctx, p)
    organisation = one_line(ctx.organisation.get(ctx.language), MAX_NAME)
    lines = [
        *([p.su_greeting.format(organisation=organisation)] if p.su_greeting else []),
        lead.format(issue=issue, services=services),
        p.su_apology_resolved if ctx.resolved_at else p.su_apology,
        "",
        field(p, p.su_l_detected, p.su_detected.format(at=when(ctx, ctx.opened_at))),
        field(p, p.su_l_affected, services),
        *_impact_line(ctx, p, services),
        *_progress(ctx, p),
    ]
    if ctx.status_page_url:
        lines.append(field(p, p.su_l_more, ctx.status_page_url))
    return new_draft(
        ctx,
        "status_update",
        "customers",
        "statuspage",
        title=title,
        lines=lines,
        payload=_payload(ctx),
    )


def _headline(ctx: DraftContext, p: Phrases) -> str:
    if ctx.resolved_at is not None:
        return p.su_title_resolved
    return p.su_title_next if ctx.status_updates_sent > 0 else p.su_title_first


def _lead(ctx: DraftContext, p: Phrases) -> str:
    if ctx.resolved_at is not None:
        return p.su_lead_resolved
    return p.su_lead_next if ctx.status_updates_sent > 0 else p.su_lead_first


def _progress(ctx: DraftContext, p: Phrases) -> list[str]:
    """Where it stands: investigating with the next update's time, or resolved and when."""
    if ctx.resolved_at is not None:
        return [
            field(p, p.su_l_status, p.su_status_resolved),
            field(p, p.su_l_resolved, p.su_detected.format(at=when(ctx, ctx.resolved_at))),
        ]
    return [
        field(p, p.su_l_status, p.su_status),
        field(p, p.su_l_next, p.su_next.format(at=when(ctx, ctx.next_update_at))),
    ]


def _impact_line(ctx: DraftContext, p: Phrases, services: str) -> list[str]:
    """The impact; once resolved, only a description people gave (not "we are assessing")."""
    if ctx.resolved_at is not None and ctx.impact is None:
        return []
    return [field(p, p.su_l_impact, _impact(ctx, p, services))]


def _impact(ctx: DraftContext, p: Phrases, services: str) -> str:
    if ctx.impact is not None:
        return untrusted(ctx.impact.get(ctx.language))
    return p.su_impact_known.format(services=services) if ctx.impact_known else p.su_impact_unknown


def _payload(ctx: DraftContext) -> dict[str, object]:
    """What the status page needs beyond the text, and what the approver must know."""
    resolved = ctx.resolved_at is not None
    payload: dict[str, object] = {
        "status": "resolved" if resolved else "investigating",
        "components": ctx.public_services(),
        "next_update_at": None if resolved else ctx.next_update_at.isoformat(),
        "security": ctx.security,
        "approvals_required": ctx.outside_approvers(),
    }
    if ctx.security:
        payload["approver_note"] = SECURITY_NOTE
    return payload
