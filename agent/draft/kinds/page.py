"""The page: what on-call needs in the first minute, and the PagerDuty event that carries it."""

from __future__ import annotations

from agent.draft.context import DraftContext
from agent.draft.kinds.common import (
    cause_lines,
    evidence_lines,
    field,
    impact_text,
    internal_services,
    new_draft,
    person,
    when,
)
from agent.draft.models import Draft
from agent.draft.phrases import Phrases, phrases
from agent.draft.text import MAX_NAME, one_line, percent, untrusted
from tools.bounds import ellipsize

PAGE_EVIDENCE = 3
PD_SUMMARY_LIMIT = 1024
PD_SEVERITY = {"SEV1": "critical", "SEV2": "error", "SEV3": "warning", "SEV4": "info"}


def build(ctx: DraftContext) -> Draft:
    p = phrases(ctx.language)
    title = page_title(ctx, p)
    evidence = ctx.cited_evidence()[:PAGE_EVIDENCE]
    ids = [e.id for e in evidence]
    lines = [
        untrusted(ctx.title, 200),
        field(
            p, p.l_incident, p.incident_ref.format(id=ctx.incident_id, at=when(ctx, ctx.opened_at))
        ),
        field(
            p,
            p.l_severity,
            p.severity_rule.format(level=ctx.severity.level, rule=ctx.severity.rule),
        ),
        *cause_lines(ctx, p),
        field(p, p.l_ic, person(ctx, p, ctx.routing.incident_commander)),
        field(
            p, p.l_paged, p.list_sep.join(person(ctx, p, r) for r in ctx.routing.paged) or p.unknown
        ),
        field(p, p.l_affected, internal_services(ctx, p)),
        field(p, p.l_impact, impact_text(ctx, p)),
        p.l_evidence + p.colon.rstrip(),
        *evidence_lines(p, evidence),
        field(p, p.l_war_room, ctx.war_room_url or p.war_room_unset),
        field(p, p.l_analysis, p.analysis_by[ctx.analysis_by]),
    ]
    return new_draft(
        ctx,
        "page",
        "on-call",
        "pagerduty",
        title=title,
        lines=lines,
        evidence_ids=ids,
        payload=pagerduty_event(ctx, title, ids),
    )


def page_title(ctx: DraftContext, p: Phrases) -> str:
    """Suspect and confidence when the verdict is conclusive; otherwise say the cause is unknown."""
    level = ctx.severity.level
    top = ctx.top
    if ctx.verdict == "conclusive" and top is not None:
        return p.page_title_suspected.format(
            level=level,
            service=untrusted(top.service, MAX_NAME),
            fault=p.fault[top.fault_type],
            confidence=percent(top.confidence),
        )
    if ctx.suspects:
        services = p.list_sep.join(untrusted(s.service, MAX_NAME) for s in ctx.suspects)
        return p.page_title_unknown.format(level=level, services=services)
    return p.page_title_no_signal.format(level=level, title=untrusted(ctx.title, 100))


def pagerduty_event(ctx: DraftContext, title: str, evidence_ids: list[str]) -> dict[str, object]:
    """A PagerDuty Events API v2 trigger, complete but for `routing_key` (added at dispatch).

    `dedup_key` is the incident id, so a re-sent page updates the same PagerDuty incident.
    """
    top = ctx.top
    fallback = ctx.affected[0].name if ctx.affected else "unknown"
    component = untrusted(top.service if top else fallback, MAX_NAME)
    source = untrusted(top.instance or top.service, MAX_NAME) if top else component
    event: dict[str, object] = {
        "event_action": "trigger",
        "dedup_key": ctx.incident_id,
        "client": "incident-triage",
        "payload": {
            "summary": ellipsize(one_line(title, PD_SUMMARY_LIMIT), PD_SUMMARY_LIMIT),
            "source": source,
            "severity": PD_SEVERITY[ctx.severity.level],
            "timestamp": ctx.opened_at.isoformat(),
            "component": component,
            "group": one_line(ctx.routing.page_team, MAX_NAME),
            "class": top.fault_type if top else "unknown",
            "custom_details": _details(ctx, evidence_ids),
        },
    }
    if ctx.war_room_url:
        event["links"] = [{"href": ctx.war_room_url, "text": phrases(ctx.language).l_war_room}]
    return event


def _details(ctx: DraftContext, evidence_ids: list[str]) -> dict[str, object]:
    by_id = {e.id: e for e in ctx.evidence}
    return {
        "incident_id": ctx.incident_id,
        "title": untrusted(ctx.title, 200),
        "severity": ctx.severity.level,
        "severity_rule": ctx.severity.rule,
        "verdict": ctx.verdict,
        "verdict_reason": untrusted(ctx.verdict_reason, 200),
        "incident_commander": one_line(ctx.routing.incident_commander.name, MAX_NAME),
        "suspects": [
            {
                "service": untrusted(s.service, MAX_NAME),
                "instance": untrusted(s.instance, MAX_NAME) if s.instance else None,
                "fault_type": s.fault_type,
                "confidence": round(s.confidence, 3),
            }
            for s in ctx.suspects
        ],
        "evidence_ids": evidence_ids,
        "evidence": {i: untrusted(by_id[i].summary) for i in evidence_ids},
        "analysis_by": ctx.analysis_by,
        "war_room": ctx.war_room_url,
        "telemetry_unavailable": {k: untrusted(v, 160) for k, v in ctx.unavailable.items()},
    }
