"""Approvals: the recorded human decision that lets a draft leave."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Decision = Literal["approve", "reject"]


class Approval(BaseModel):
    """Who decided what about which draft revision, and when."""

    draft_id: str
    incident_id: str
    decision: Decision
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
