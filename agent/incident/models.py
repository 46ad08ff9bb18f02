"""The incident: the single source of truth responders and the agent share."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.alert.models import Alert
from agent.approval.models import Approval
from agent.dispatch.models import DispatchResult
from agent.draft.models import Draft
from agent.isolation.models import Isolation
from agent.routing.models import Routing
from agent.severity.models import SeverityAssessment
from tools.telemetry.replay.format import FaultType

# "open" is the triggered stage (agent/incident/lifecycle.py names the stages).
IncidentStatus = Literal["open", "acknowledged", "mitigated", "resolved", "closed"]
TimelineKind = Literal[
    "alert",
    "opened",
    "investigation",
    "reinvestigation",
    "severity",
    "routing",
    "draft",
    "approval",
    "rejection",
    "dispatch",
    "escalation",
    "command",
    "chat",
    "note",
    "acknowledged",
    "mitigated",
    "resolved",
    "closed",
    "fallback",
]


class TimelineEntry(BaseModel):
    """Something that happened, who did it, and when."""

    at: datetime
    kind: TimelineKind
    actor: str = Field(description="'agent', 'system' or a person's name.")
    text: str
    data: dict[str, Any] = Field(default_factory=dict)


class RootCause(BaseModel):
    """What a responder confirmed when resolving: the memory and the engine's record learn it."""

    service: str = Field(min_length=1, max_length=256)
    fault_type: FaultType = "unknown"
    change_id: str | None = Field(None, max_length=256, description="The change that set it off.")
    summary: str = Field("", max_length=4000, description="What went wrong.")
    resolution: str = Field("", max_length=4000, description="What fixed it.")
    note: str = Field("", max_length=4000, description="Anything else the resolver adds.")


class UnknownCause(ValueError):
    """A confirmed cause that names no service the catalogue or the incident knows."""


class EngineRecord(BaseModel):
    """Where the engine had the confirmed cause when the incident was resolved."""

    engine: str = "deterministic"
    ranking: list[str] = Field(default_factory=list, description="Suspected services, in order.")
    top_confidence: float | None = Field(None, description="The top suspect's confidence.")
    rank: int | None = Field(None, description="The confirmed service at 1 = top; None: unranked.")
    fault_type_match: bool = Field(False, description="The top suspect's fault type was confirmed.")


class ConfirmedCause(RootCause):
    """The root cause as confirmed, by whom and when, beside the engine's ranking at the time."""

    by: str
    at: datetime
    engine: EngineRecord | None = None


class TelemetrySource(BaseModel):
    """Where the incident's telemetry was read, so chat can read it again later: a replay/1
    dataset as of the triage's own clock, or the stores configured in triage.yaml now."""

    kind: Literal["replay", "configured"]
    dataset: str | None = Field(None, description="replay: the dataset folder.")
    clock: Literal["replay", "wall"] = Field(
        description="replay: read as of `now`, the triage's clock; wall: read at the current time."
    )
    now: datetime | None = None


class Incident(BaseModel):
    """Everything known about one incident."""

    id: str
    title: str
    status: IncidentStatus = "open"
    opened_at: datetime
    updated_at: datetime
    system: str | None = None
    run_id: str | None = Field(None, description="The triage run that waits for approvals.")
    alerts: list[Alert] = Field(default_factory=list)
    fingerprints: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list, description="Services the alerts name.")
    isolation: Isolation | None = None
    telemetry_gaps: dict[str, str] = Field(
        default_factory=dict,
        description="Telemetry kinds the last investigation could not read, and why.",
    )
    severity: SeverityAssessment | None = None
    routing: Routing | None = None
    drafts: list[Draft] = Field(default_factory=list)
    sent_earlier: list[Draft] = Field(
        default_factory=list,
        description="Revisions a person signed off before a newer revision of the same draft"
        " replaced them (each responder or status update redrafts the last): what was said"
        " to whom stays on record.",
    )
    approvals: list[Approval] = Field(default_factory=list)
    dispatches: list[DispatchResult] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    root_cause: ConfirmedCause | None = Field(None, description="Confirmed by a responder.")
    telemetry: TelemetrySource | None = Field(None, description="Where its telemetry came from.")

    def draft(self, draft_id: str) -> Draft | None:
        return next((d for d in self.drafts if d.id == draft_id), None)

    @property
    def ended(self) -> bool:
        """Resolved or closed: alerts no longer join, triage or page it."""
        return self.status in ("resolved", "closed")

    def handed_to(self) -> str | None:
        """Whom a person last handed incident command to (None: policy's choice stands)."""
        handed = (e for e in reversed(self.timeline) if e.kind == "command")
        return next((str(e.data["to"]) for e in handed if "to" in e.data), None)

    def last_alert_at(self) -> datetime:
        """When an alert last opened or joined this incident (the correlation clock)."""
        return max(
            (e.at for e in self.timeline if e.kind in ("opened", "alert")), default=self.opened_at
        )

    def lookup_keys(self) -> set[str]:
        """Keys that find this incident for dedup and correlation."""
        keys = {f"fp:{f}" for f in self.fingerprints} | {f"svc:{s}" for s in self.services}
        if self.system and not self.services:
            keys.add(f"sys:{self.system}")
        return keys
