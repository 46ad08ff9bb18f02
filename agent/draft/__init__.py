"""Drafts: every message the agent writes, held until a human approves it.

`write_drafts(ctx)` turns a `DraftContext` into the drafts for one incident;
`check_external(draft, internal_names)` warns an approver about internals in a
draft meant for outside readers. See docs/drafts.md.
"""

from agent.draft.context import (
    Bilingual,
    DraftContext,
    EvidenceItem,
    ResponderNote,
    ServiceRef,
    Suspect,
)
from agent.draft.lint import OUTSIDE_AUDIENCES, check_external, is_outside
from agent.draft.write import kinds_for, write_draft, write_drafts

__all__ = [
    "OUTSIDE_AUDIENCES",
    "Bilingual",
    "DraftContext",
    "EvidenceItem",
    "ResponderNote",
    "ServiceRef",
    "Suspect",
    "check_external",
    "is_outside",
    "kinds_for",
    "write_draft",
    "write_drafts",
]
