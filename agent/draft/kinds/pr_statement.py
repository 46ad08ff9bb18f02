"""The PR holding statement: an approved template with only safe blanks filled.

The wording is PR's and legal's (agent/draft/phrases.py, APPROVED_PR_TEMPLATES);
the agent chooses the template (security or not) and fills the organisation,
public service names, times and status page address. Nothing from telemetry,
alerts or hypotheses can reach it.
"""

from __future__ import annotations

from agent.draft.context import DraftContext
from agent.draft.kinds.common import new_draft, public_services, when
from agent.draft.models import Draft
from agent.draft.phrases import (
    APPROVED_PR_VERSION,
    PrTemplateId,
    approved_digest,
    approved_template,
    phrases,
)
from agent.draft.text import MAX_NAME, one_line

SECURITY_NOTE = (
    "Security incident: legal and PR must approve before any external word."
    " The approved security template does not confirm a breach; keep it that way."
)


def build(ctx: DraftContext) -> Draft:
    p = phrases(ctx.language)
    services = public_services(ctx, p)
    template_id: PrTemplateId = "security" if ctx.security else "disruption"
    blanks = {
        "organisation": one_line(ctx.organisation.get(ctx.language), MAX_NAME),
        "services": services,
        "detected_at": when(ctx, ctx.opened_at),
        "next_update": when(ctx, ctx.next_update_at),
    }
    paragraphs = [approved_template(ctx.language, template_id).substitute(blanks)]
    if ctx.status_page_url:
        url = one_line(ctx.status_page_url, 200)
        paragraphs += [
            "",
            approved_template(ctx.language, "status_page").substitute(status_page_url=url),
        ]
    title = p.pr_title.format(services=services)
    return new_draft(
        ctx,
        "pr_statement",
        "media",
        "email",
        title=title,
        lines=paragraphs,
        payload=_payload(ctx, template_id),
    )


def _payload(ctx: DraftContext, template_id: PrTemplateId) -> dict[str, object]:
    payload: dict[str, object] = {
        "template": template_id,
        "template_version": APPROVED_PR_VERSION,
        "template_sha256": approved_digest(),
        "security": ctx.security,
        "approvals_required": list(dict.fromkeys([*ctx.outside_approvers(), "pr"])),
    }
    if ctx.security:
        payload["approver_note"] = SECURITY_NOTE
    return payload
