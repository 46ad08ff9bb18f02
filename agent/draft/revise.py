"""Bringing pending drafts up to date after a re-investigation.

Only drafts nobody has decided on change: a pending draft whose words differ
from what the new findings say becomes its next revision (so an approval given
to the old words cannot carry the new ones), a kind the incident now needs is
added, and a pending draft of a kind it no longer needs (an executive summary
after the verdict fell to no-signal) is withdrawn. Approved, sent and rejected
drafts stay as they were; so do drafts with ids of their own (escalation pages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.draft.context import DraftContext
from agent.draft.kinds.common import draft_id
from agent.draft.models import Draft
from agent.draft.write import BUILDERS, write_drafts


@dataclass(slots=True)
class Revised:
    """The drafts after revision, and what was done to them."""

    drafts: list[Draft]
    redrafted: list[Draft] = field(default_factory=list)
    added: list[Draft] = field(default_factory=list)
    withdrawn: list[Draft] = field(default_factory=list)

    def summary(self) -> str:
        """'redrafted page (revision 2); added status_update; withdrew pr_statement'."""
        parts = []
        if self.redrafted:
            items = ", ".join(f"{d.kind} (revision {d.revision})" for d in self.redrafted)
            parts.append(f"redrafted {items}")
        if self.added:
            parts.append(f"added {', '.join(d.kind for d in self.added)}")
        if self.withdrawn:
            parts.append(f"withdrew {', '.join(d.kind for d in self.withdrawn)}")
        return "; ".join(parts) or "no pending draft changed"


def revise(incident_id: str, existing: Sequence[Draft], fresh: Sequence[Draft]) -> Revised:
    """`existing` drafts brought up to date with `fresh` (the drafts the incident needs now)."""
    managed = {draft_id(incident_id, kind) for kind in BUILDERS}
    wanted = {d.id: d for d in fresh}
    revised = Revised(drafts=[])
    for old in existing:
        new = wanted.get(old.id)
        if old.state != "pending" or old.id not in managed:
            revised.drafts.append(old)
        elif new is None:
            revised.withdrawn.append(old)
        elif _same_words(old, new):
            revised.drafts.append(old)
        else:
            bumped = new.model_copy(update={"revision": old.revision + 1})
            revised.drafts.append(bumped)
            revised.redrafted.append(bumped)
    known = {d.id for d in existing}
    revised.added = [d for d in fresh if d.id not in known]
    revised.drafts += revised.added
    return revised


def rewrite_pending(incident_id: str, existing: Sequence[Draft], context: DraftContext) -> Revised:
    """`existing` brought up to date with the drafts `context` calls for now (after a
    re-investigation, or a change of incident commander)."""
    return revise(incident_id, existing, write_drafts(context))


def _same_words(old: Draft, new: Draft) -> bool:
    keys = ("title", "body", "payload", "channel", "audience", "language")
    return all(getattr(old, key) == getattr(new, key) for key in keys)
