"""Drafts: every message the agent writes, held until a human approves it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

DraftKind = Literal[
    "page", "responder_update", "status_update", "exec_summary", "pr_statement", "postmortem"
]
DraftState = Literal["pending", "approved", "edited", "rejected", "sent"]
Audience = Literal["on-call", "responders", "stakeholders", "customers", "executives", "media"]
Channel = Literal["pagerduty", "slack", "statuspage", "email", "outbox"]
Language = Literal["en", "ja"]


class Draft(BaseModel):
    """One message for one audience. `evidence_ids` are the facts it states."""

    id: str
    incident_id: str
    kind: DraftKind
    audience: Audience
    channel: Channel
    language: Language = "en"
    title: str
    body: str
    evidence_ids: list[str] = Field(default_factory=list)
    state: DraftState = "pending"
    created_at: datetime
    revision: int = 1
    payload: dict[str, object] = Field(
        default_factory=dict, description="Channel-specific fields, e.g. a PagerDuty event."
    )

    @property
    def signed_off(self) -> bool:
        """A person approved this revision (as written or edited): sent, or on its way."""
        return self.state in ("approved", "edited", "sent")
