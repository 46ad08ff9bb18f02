"""An incident's life: triggered, acknowledged, mitigated, resolved, closed.

Each stage is a timeline entry (who and when), so the durations responders are
measured by (time to acknowledge, mitigate, resolve) are read from the timeline
rather than kept beside it. A stage may be skipped (resolving an incident nobody
acknowledged); a stage reached again changes nothing, and going back is refused.
Timeline entries are cited as `TL-<n>` (1-based, the timeline only grows).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from agent.incident.models import Incident, IncidentStatus

StageName = Literal["triggered", "acknowledged", "mitigated", "resolved", "closed"]
STAGES: tuple[StageName, ...] = ("triggered", "acknowledged", "mitigated", "resolved", "closed")
STATUS_STAGE: dict[IncidentStatus, StageName] = {
    "open": "triggered",
    "acknowledged": "acknowledged",
    "mitigated": "mitigated",
    "resolved": "resolved",
    "closed": "closed",
}
STAGE_STATUS: dict[StageName, IncidentStatus] = {v: k for k, v in STATUS_STAGE.items()}
ENTRY_STAGE: dict[str, StageName] = {"opened": "triggered", **{s: s for s in STAGES[1:]}}
TIMELINE_PREFIX = "TL-"


class LifecycleError(ValueError):
    """A stage change the incident cannot make (it is already past it)."""


class Stage(BaseModel):
    """When a stage was reached, by whom, and the timeline entry that records it."""

    name: StageName
    at: datetime
    by: str
    entry: str = Field(description="The timeline entry id (TL-<n>).")


class Lifecycle(BaseModel):
    """The stages reached so far and the durations from the trigger, in seconds."""

    stage: StageName
    stages: list[Stage]
    time_to_acknowledge_s: float | None = None
    time_to_mitigate_s: float | None = None
    time_to_resolve_s: float | None = None


def entry_id(index: int) -> str:
    """The id a postmortem cites for the timeline entry at `index`."""
    return f"{TIMELINE_PREFIX}{index + 1}"


def entry_ids(incident: Incident) -> set[str]:
    return {entry_id(i) for i in range(len(incident.timeline))}


def stage_of(incident: Incident) -> StageName:
    return STATUS_STAGE[incident.status]


def lifecycle(incident: Incident) -> Lifecycle:
    """The first entry of each stage in the timeline, and the durations from the trigger."""
    first: dict[StageName, Stage] = {}
    for index, entry in enumerate(incident.timeline):
        name = ENTRY_STAGE.get(entry.kind)
        if name is not None and name not in first:
            first[name] = Stage(name=name, at=entry.at, by=entry.actor, entry=entry_id(index))
    triggered = first["triggered"].at if "triggered" in first else incident.opened_at

    def since(name: StageName) -> float | None:
        reached = first.get(name)
        return (reached.at - triggered).total_seconds() if reached else None

    return Lifecycle(
        stage=stage_of(incident),
        stages=[first[s] for s in STAGES if s in first],
        time_to_acknowledge_s=since("acknowledged"),
        time_to_mitigate_s=since("mitigated"),
        time_to_resolve_s=since("resolved"),
    )


def advance(incident: Incident, to: StageName) -> Incident | None:
    """`incident` moved on to stage `to`, or None when it is already there or past it
    and `to` may be repeated harmlessly (acknowledging a mitigated incident)."""
    now, wanted = STAGES.index(stage_of(incident)), STAGES.index(to)
    if wanted > now:
        return incident.model_copy(update={"status": STAGE_STATUS[to]})
    if to in ("acknowledged", "mitigated") and stage_of(incident) not in ("resolved", "closed"):
        return None
    raise LifecycleError(f"{incident.id} is {stage_of(incident)}; it cannot be {to} again")
