"""The responder update: Conditions / Actions / Needs for the incident channel.

Internal, so it names services and cites evidence; every gap is written as unknown
or "none recorded yet" rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable

from agent.draft.context import DraftContext, NoteKind, ResponderNote
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
from agent.draft.text import MAX_NAME, format_clock, untrusted

UPDATE_EVIDENCE = 5
NOTES_PER_SECTION = 10


def build(ctx: DraftContext) -> Draft:
    p = phrases(ctx.language)
    evidence = ctx.cited_evidence()[:UPDATE_EVIDENCE]
    title = p.ru_title.format(level=ctx.severity.level, id=ctx.incident_id, at=when(ctx, ctx.now))
    lines = [
        p.ru_conditions,
        *(f"- {line}" for line in _conditions(ctx, p)),
        f"- {p.l_evidence}{p.colon.rstrip()}",
        *(f"  {line}" for line in evidence_lines(p, evidence)),
        "",
        p.ru_actions,
        *_notes(ctx, p, ("action", "decision")),
        "",
        p.ru_needs,
        *_notes(ctx, p, ("need",)),
        "",
        field(p, p.l_next_update, when(ctx, ctx.next_update_at)),
        field(p, p.l_analysis, p.analysis_by[ctx.analysis_by]),
    ]
    return new_draft(
        ctx,
        "responder_update",
        "responders",
        "slack",
        title=title,
        lines=lines,
        evidence_ids=[e.id for e in evidence],
    )


def _conditions(ctx: DraftContext, p: Phrases) -> list[str]:
    severity = p.severity_rule.format(level=ctx.severity.level, rule=ctx.severity.rule)
    return [
        field(p, p.l_severity, severity),
        field(p, p.l_ic, person(ctx, p, ctx.routing.incident_commander)),
        *cause_lines(ctx, p),
        field(p, p.l_affected, internal_services(ctx, p)),
        field(p, p.l_impact, impact_text(ctx, p)),
        field(p, p.l_recovery, p.unknown),
    ]


def _notes(ctx: DraftContext, p: Phrases, kinds: Iterable[NoteKind]) -> list[str]:
    """The latest notes of these kinds, oldest first, or 'none recorded yet'."""
    wanted = set(kinds)
    notes = sorted((n for n in ctx.notes if n.kind in wanted), key=lambda n: n.at)
    if not notes:
        return [f"- {p.none_recorded}"]
    return [_note(ctx, p, n) for n in notes[-NOTES_PER_SECTION:]]


def _note(ctx: DraftContext, p: Phrases, note: ResponderNote) -> str:
    text = untrusted(note.text)
    if note.kind == "decision":
        text = p.ru_decision.format(text=text)
    return p.ru_note.format(
        at=format_clock(note.at, ctx.language, ctx.tz),
        author=untrusted(note.author, MAX_NAME),
        text=text,
    )
