"""Request and response bodies of the incidents API (what OpenAPI documents)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from agent.dispatch.models import DispatchResult
from agent.draft.models import Draft, Language
from agent.incident.models import Incident, IncidentStatus, RootCause
from agent.isolation.evidence import Evidence
from agent.isolation.models import Hypothesis, Verdict

By = Field(None, max_length=200, description="Who decides; the SSO user header wins if set.")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncidentSummary(BaseModel):
    """One line of the incident list."""

    id: str
    title: str
    status: IncidentStatus
    severity: str | None = None
    suspect: str | None = Field(None, description="The top suspected service.")
    fault_type: str | None = None
    confidence: float | None = None
    page_team: str | None = None
    incident_commander: str | None = None
    pending_drafts: int = 0
    opened_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, incident: Incident) -> IncidentSummary:
        top = incident.isolation.top() if incident.isolation else None
        routing = incident.routing
        return cls(
            id=incident.id,
            title=incident.title,
            status=incident.status,
            severity=incident.severity.level if incident.severity else None,
            suspect=top.service if top else None,
            fault_type=top.fault_type if top else None,
            confidence=top.confidence if top else None,
            page_team=routing.page_team if routing else None,
            incident_commander=routing.incident_commander.name if routing else None,
            pending_drafts=sum(1 for d in incident.drafts if d.state == "pending"),
            opened_at=incident.opened_at,
            updated_at=incident.updated_at,
        )


class Hypotheses(BaseModel):
    """Ranked suspects and the evidence they cite."""

    verdict: Verdict | None = None
    verdict_reason: str = ""
    engine: str | None = None
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)

    @classmethod
    def of(cls, incident: Incident) -> Hypotheses:
        isolation = incident.isolation
        if isolation is None:
            return cls()
        return cls(
            verdict=isolation.verdict,
            verdict_reason=isolation.verdict_reason,
            engine=isolation.engine,
            hypotheses=isolation.hypotheses,
            evidence=isolation.evidence,
        )


Role = Field(
    None,
    max_length=40,
    description="Sign off as this role (legal, pr) where a draft needs several sign-offs.",
)


Revision = Field(
    None,
    ge=1,
    description="The draft revision the reviewer read; refused (409) if it has changed since.",
)


class ApproveBody(_Body):
    by: str | None = By
    role: str | None = Role
    revision: int | None = Revision


class EditBody(_Body):
    by: str | None = By
    role: str | None = Role
    revision: int | None = Revision
    body: str = Field(min_length=1, max_length=20_000, description="The text to send instead.")


class RejectBody(_Body):
    by: str | None = By
    revision: int | None = Revision
    reason: str = Field(min_length=1, max_length=2_000, description="Why (required; recorded).")


class AckBody(_Body):
    by: str | None = By


class MitigateBody(_Body):
    by: str | None = By
    note: str = Field("", max_length=2_000, description="What stopped the harm.")


class CommandBody(_Body):
    by: str | None = By
    to: str = Field(
        min_length=1, max_length=200, description="Who takes command: a person the policy knows."
    )


class ResolveBody(RootCause):
    model_config = ConfigDict(extra="forbid")

    by: str | None = By


class PostmortemBody(_Body):
    by: str | None = By
    language: Language = "en"


class DecisionResult(BaseModel):
    """The draft after the decision, what was sent, and what still waits."""

    draft: Draft
    dispatches: list[DispatchResult] = Field(default_factory=list)
    pending: list[str] = Field(default_factory=list, description="Draft ids still pending.")

    @classmethod
    def of(cls, incident: Incident, draft_id: str) -> DecisionResult:
        draft = incident.draft(draft_id)
        if draft is None:
            raise LookupError(draft_id)
        return cls(
            draft=draft,
            dispatches=[r for r in incident.dispatches if r.draft_id == draft_id],
            pending=[d.id for d in incident.drafts if d.state == "pending"],
        )
