"""Pieces several draft kinds share: the draft envelope and the internal fact lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agent.draft.context import DraftContext, EvidenceItem, Suspect
from agent.draft.models import Audience, Channel, Draft, DraftKind
from agent.draft.phrases import Phrases, phrases
from agent.draft.text import (
    MAX_BODY,
    MAX_NAME,
    MAX_TITLE,
    clip_lines,
    format_time,
    join_list,
    one_line,
    percent,
    untrusted,
)
from agent.routing.models import Responder
from tools.bounds import ellipsize
from tools.telemetry.guard import grouped

# Services a page names before "+N more": enough for the usual incident, one line for all.
SHOWN_SERVICES = 5


def draft_id(incident_id: str, kind: DraftKind) -> str:
    """Stable per incident and kind, so a re-draft is a new revision of the same draft."""
    return f"{incident_id}-{kind}"


def new_draft(
    ctx: DraftContext,
    kind: DraftKind,
    audience: Audience,
    channel: Channel,
    *,
    title: str,
    lines: Sequence[str],
    evidence_ids: Sequence[str] = (),
    payload: dict[str, object] | None = None,
) -> Draft:
    """The Draft envelope, with title and body bounded for every channel; without a
    configured policy the body opens by saying so."""
    p = phrases(ctx.language)
    header = [p.example_policy, ""] if ctx.example_policy else []
    body = clip_lines("\n".join([*header, *lines]).strip(), MAX_BODY, p.truncated)
    return Draft(
        id=draft_id(ctx.incident_id, kind),
        incident_id=ctx.incident_id,
        kind=kind,
        audience=audience,
        channel=channel,
        language=ctx.language,
        title=ellipsize(one_line(title, MAX_TITLE * 2), MAX_TITLE),
        body=body,
        evidence_ids=list(evidence_ids),
        created_at=ctx.now,
        payload=payload or {},
    )


def field(p: Phrases, label: str, value: str) -> str:
    return f"{label}{p.colon}{value}"


def when(ctx: DraftContext, at: datetime) -> str:
    return format_time(at, ctx.language, ctx.tz)


def names(p: Phrases, items: Sequence[str]) -> str:
    return join_list(items, p.list_sep, p.list_last)


def public_services(ctx: DraftContext, p: Phrases) -> str:
    """Public names of the affected services, or a vague phrase: never an internal name."""
    found = [one_line(n, MAX_NAME) for n in ctx.public_services()]
    return names(p, found) if found else p.some_services


def service_label(s: Suspect) -> str:
    name = untrusted(s.service, MAX_NAME)
    if s.instance and s.instance != s.service:
        return f"{name} ({untrusted(s.instance, MAX_NAME)})"
    return name


def suspect_text(p: Phrases, s: Suspect) -> str:
    return p.suspect.format(
        service=service_label(s), fault=p.fault[s.fault_type], confidence=percent(s.confidence)
    )


def verdict_text(ctx: DraftContext, p: Phrases) -> str:
    reason = verdict_reason(ctx, p)
    return p.verdict[ctx.verdict] + (f"{p.reason_sep}{reason}" if reason else "")


def verdict_reason(ctx: DraftContext, p: Phrases) -> str:
    """Why the cause is not yet known, in the draft's language, from the ranking itself."""
    top = ctx.top
    if top is None or ctx.verdict == "no-signal":
        return ""
    if ctx.unavailable:
        return p.reason_unavailable
    name, confidence = untrusted(top.service, MAX_NAME), percent(top.confidence)
    runner_up = (
        untrusted(ctx.suspects[1].service, MAX_NAME) if len(ctx.suspects) > 1 else p.no_runner_up
    )
    return p.reason_inconclusive.format(service=name, confidence=confidence, runner_up=runner_up)


def cause_lines(ctx: DraftContext, p: Phrases) -> list[str]:
    """What is suspected, or that the cause is unknown and who the leading suspects are."""
    top = ctx.top
    if ctx.verdict == "conclusive" and top is not None:
        lines = [
            # The line names the suspect and its confidence: the verdict needs no reason.
            p.cause_suspected.format(suspect=suspect_text(p, top), verdict=p.verdict[ctx.verdict])
        ]
        if others := ctx.suspects[1:]:
            suspects = p.item_sep.join(suspect_text(p, s) for s in others)
            lines.append(p.other_suspects.format(suspects=suspects))
        return lines
    lines = [p.cause_unknown.format(verdict=verdict_text(ctx, p)), *unavailable_lines(ctx, p)]
    if ctx.suspects:
        suspects = p.item_sep.join(suspect_text(p, s) for s in ctx.suspects)
        lines.append(p.leading_suspects.format(suspects=suspects))
    else:
        lines.append(p.no_suspects)
    return lines


def unavailable_lines(ctx: DraftContext, p: Phrases) -> list[str]:
    """Which telemetry could not be read and why (the reasons are store errors: untrusted)."""
    if not ctx.unavailable:
        return []
    gaps = p.item_sep.join(
        p.telemetry_gap.format(kind=p.list_sep.join(kinds), reason=untrusted(reason, 160))
        for kinds, reason in grouped(ctx.unavailable)
    )
    return [p.telemetry_unavailable.format(gaps=gaps)]


def evidence_lines(p: Phrases, items: Sequence[EvidenceItem]) -> list[str]:
    """One line per evidence item: its id and its (redacted) sentence."""
    if not items:
        return [p.no_evidence]
    return [
        p.evidence_item.format(
            id=one_line(e.id, MAX_NAME),
            kind=p.evidence_kind[e.kind],
            summary=untrusted(e.wording(p.language)),
        )
        for e in items
    ]


def person(ctx: DraftContext, p: Phrases, who: Responder) -> str:
    team = ctx.team_names.get(who.team)
    shown = team.get(ctx.language) if team else who.team
    return p.person.format(name=one_line(who.name, MAX_NAME), team=one_line(shown, MAX_NAME))


def impact_text(ctx: DraftContext, p: Phrases) -> str:
    if ctx.impact is not None:
        return untrusted(ctx.impact.get(ctx.language))
    return p.impact_undescribed if ctx.impact_known else p.unknown


def internal_services(ctx: DraftContext, p: Phrases) -> str:
    """The services severity counted as harmed, so the page's list and its level agree
    (the alerts' services for an incident assessed before severity recorded them); the
    first few and how many more, so a wide outage stays one line."""
    counted = ctx.severity.harmed or [ref.name for ref in ctx.affected]
    found = [untrusted(name, MAX_NAME) for name in counted[:SHOWN_SERVICES]]
    if len(counted) > SHOWN_SERVICES:
        found.append(p.more_services.format(count=len(counted) - SHOWN_SERVICES))
    return p.list_sep.join(found) if found else p.unknown
