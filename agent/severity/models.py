"""Severity: the level an incident is run at, and why."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.telemetry.replay.format import Severity


class SeverityInputs(BaseModel):
    """The facts severity policy reads. Never taken from alert text: the sender's
    own severity label is a hint shown to people, not an input here."""

    service: str | None = Field(None, description="The suspected culprit (top hypothesis).")
    tier: int | None = Field(
        None,
        description="Catalogue tier of the most critical affected service (1 = most critical).",
    )
    user_facing: bool = Field(False, description="A user-facing service is affected or alerting.")
    affected_services: list[str] = Field(default_factory=list)
    blast_radius: int = Field(0, description="How many services show harm.")
    security: bool = Field(False, description="The leading hypothesis is a security incident.")
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    notes: list[str] = Field(
        default_factory=list,
        description="How the facts were derived (catalogue gaps, defaults), shown as reasons.",
    )


class SeverityAssessment(BaseModel):
    """The level, the policy rule that set it and the reasons in plain words."""

    level: Severity
    rule: str = Field(description="Name of the policy rule that matched.")
    reasons: list[str] = Field(default_factory=list)
    status_every_min: int = Field(description="How often status must go out at this level.")
    exec_summary: bool = False
    pr_statement: bool = False
    retrospective: str = ""
    engage: list[str] = Field(default_factory=list, description="Roles pulled in at this level.")
    harmed: list[str] = Field(
        default_factory=list,
        description="The services the level counted as harmed, suspect first (the blast"
        " radius); the page lists these, so its list and the level agree.",
    )
