"""Writing the drafts for one incident: one builder per kind, gated by severity policy."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from agent.draft.context import DraftContext
from agent.draft.kinds import exec_summary, page, pr_statement, responder_update, status_update
from agent.draft.models import Draft, DraftKind
from agent.isolation.degraded import OBSERVED_ELSEWHERE

Builder = Callable[[DraftContext], Draft]

BUILDERS: Mapping[DraftKind, Builder] = {
    "page": page.build,
    "responder_update": responder_update.build,
    "status_update": status_update.build,
    "exec_summary": exec_summary.build,
    "pr_statement": pr_statement.build,
}


def kinds_for(ctx: DraftContext) -> list[DraftKind]:
    """The kinds this incident gets: nothing for outside readers without a signal read
    from telemetry (a no-signal verdict, or only the alert to go on); exec summary and
    PR statement only when severity says so."""
    observed = any(e.kind not in OBSERVED_ELSEWHERE for e in ctx.evidence)
    if ctx.verdict == "no-signal" or not observed:
        return ["page", "responder_update"]
    kinds: list[DraftKind] = ["page", "responder_update", "status_update"]
    if ctx.severity.exec_summary:
        kinds.append("exec_summary")
    if ctx.severity.pr_statement:
        kinds.append("pr_statement")
    return kinds


def write_draft(ctx: DraftContext, kind: DraftKind) -> Draft:
    """One draft of `kind`, e.g. to redraft it after the facts changed (the id stays the same)."""
    return BUILDERS[kind](ctx)


def write_drafts(ctx: DraftContext) -> list[Draft]:
    """Every draft this incident needs now, in `ctx.language`, all pending human approval."""
    return [write_draft(ctx, kind) for kind in kinds_for(ctx)]
