"""Routing: who is paged, who is incident commander, and when command moves."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Responder(BaseModel):
    """A person (or a team's on-call alias) who can be paged."""

    name: str
    team: str
    role: str = Field(description="e.g. 'on-call', 'incident-commander', 'senior-ic', 'csirt'.")
    rotation: str | None = None
    contact: str | None = Field(
        None, description="Paging address; never shown to outside audiences."
    )
    timezone: str | None = None


class EscalationStep(BaseModel):
    """A condition under which command or paging moves, and to whom."""

    when: str = Field(description="e.g. 'severity >= SEV2' or 'page unacknowledged 15 min'.")
    to: Responder
    due_at: datetime | None = None
    after_min: int | None = Field(
        None,
        description="Minutes after the page this step fires if nobody acknowledges; None"
        " for a step that waits on a condition (severity) rather than the clock.",
    )
    target: str | None = Field(
        None,
        description="The policy's name for the target: 'secondary', 'leader' or a rotation"
        " (e.g. 'senior_ic'), so a rotation can be re-resolved when the step fires.",
    )


class Routing(BaseModel):
    """Who is engaged for an incident right now."""

    page_team: str = Field(description="The team whose on-call gets the page.")
    paged: list[Responder] = Field(default_factory=list)
    incident_commander: Responder
    escalations: list[EscalationStep] = Field(default_factory=list)
    approvals_required: list[str] = Field(
        default_factory=list,
        description="Teams that must approve before any external message (security path).",
    )
    reasons: list[str] = Field(default_factory=list)
