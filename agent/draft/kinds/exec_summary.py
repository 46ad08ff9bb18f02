"""The executive summary: impact, what is known and not, who leads, when next, what to decide.

Executives are an outside audience for this purpose: public service names, no
evidence text, no confidence numbers. The line of investigation is given in
plain words and always qualified as unconfirmed.
"""

from __future__ import annotations

from agent.draft.context import DraftContext
from agent.draft.kinds.common import new_draft, person, public_services, when
from agent.draft.models import Draft
from agent.draft.phrases import Phrases, phrases
from agent.draft.text import MAX_NAME, one_line, untrusted


def build(ctx: DraftContext) -> Draft:
    p = phrases(ctx.language)
    services = public_services(ctx, p)
    title = p.ex_title.format(level=ctx.severity.level, services=services)
    sections = [
        (p.ex_h_impact, [_impact(ctx, p, services)]),
        (p.ex_h_known, _known(ctx, p, services)),
        (p.ex_h_unknown, _unknown(ctx, p)),
        (p.ex_h_lead, [p.ex_lead.format(ic=person(ctx, p, ctx.routing.incident_commander))]),
        (p.ex_h_next, [p.ex_next.format(at=when(ctx, ctx.next_update_at))]),
        (p.ex_h_decisions, _decisions(ctx, p)),
    ]
    lines: list[str] = []
    for heading, items in sections:
        lines += [heading, *(f"- {item}" for item in items), ""]
    payload: dict[str, object] = {"severity": ctx.severity.level, "security": ctx.security}
    return new_draft(
        ctx, "exec_summary", "executives", "email", title=title, lines=lines, payload=payload
    )


def _impact(ctx: DraftContext, p: Phrases, services: str) -> str:
    if ctx.impact is not None:
        return untrusted(ctx.impact.get(ctx.language))
    if ctx.impact_known:
        return p.ex_impact_undescribed.format(services=services)
    return p.ex_impact_unknown


def _known(ctx: DraftContext, p: Phrases, services: str) -> list[str]:
    known = [
        p.ex_severity.format(
            level=ctx.severity.level, at=when(ctx, ctx.opened_at), id=ctx.incident_id
        ),
        p.ex_affected.format(services=services),
        _cause(ctx, p),
    ]
    if ctx.security:
        known.append(p.ex_security)
    return known


def _cause(ctx: DraftContext, p: Phrases) -> str:
    """The leading line of investigation in plain words: public name, fault, no numbers."""
    top = ctx.top
    if top is None or ctx.verdict == "no-signal":
        return p.ex_cause_none
    public = ctx.public_name(top.service)
    where = one_line(public.get(ctx.language), MAX_NAME) if public else p.internal_component
    template = p.ex_cause_conclusive if ctx.verdict == "conclusive" else p.ex_cause_leading
    return template.format(fault=p.fault[top.fault_type], where=where)


def _unknown(ctx: DraftContext, p: Phrases) -> list[str]:
    unknown = []
    if ctx.verdict != "conclusive" or ctx.top is None:
        unknown.append(p.ex_unknown_cause)
    if not ctx.impact_known:
        unknown.append(p.ex_unknown_impact)
    unknown.append(p.ex_unknown_recovery)
    if ctx.security:
        unknown.append(p.ex_unknown_data)
    return unknown


def _decisions(ctx: DraftContext, p: Phrases) -> list[str]:
    """Decisions derived from policy flags; responders' requests are counted, not quoted."""
    decisions = []
    if ctx.security:
        decisions.append(p.ex_decision_legal)
    if ctx.severity.pr_statement:
        decisions.append(p.ex_decision_pr)
    if needs := sum(1 for n in ctx.notes if n.kind == "need"):
        decisions.append(p.ex_decision_needs.format(n=needs))
    return decisions or [p.none_recorded]
