"""Approvals: the recorded human decision that lets a draft leave."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Verdict = Literal["approve", "reject"]


class Approval(BaseModel):
    """Who decided what about which draft revision, and when."""

    draft_id: str
    incident_id: str
    decision: Verdict
    by: str
    at: datetime
    revision: int
    edited: bool = False
    original_body: str | None = Field(None, description="The body before the human's edit.")
    reason: str | None = None
    content_sha256: str | None = Field(
        None,
        description="Digest of what was approved (channel, audience, title, body, payload);"
        " a later change to any of them, even without a revision bump, voids the approval.",
    )
    warnings: list[str] = Field(
        default_factory=list, description="Flags the reviewer was shown and approved over."
    )
    role: str | None = Field(
        None,
        description="The capacity the reviewer signed off in (legal, pr) on a draft that"
        " needs several sign-offs; None for an ordinary approval.",
    )


class Decision(BaseModel):
    """A human's answer at the approval step, for one draft."""

    draft_id: str
    action: Verdict
    by: str
    edited_body: str | None = None
    reason: str | None = None
    role: str | None = Field(None, description="Signing off as legal, pr, ...; see Approval.role.")
    revision: int | None = Field(
        None,
        description="The revision the reviewer read; the decision is refused if the draft"
        " has changed since (None: whatever revision is current).",
    )
