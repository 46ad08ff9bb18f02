"""The graph's state: data about one incident run, checkpointed after every step.

Only pydantic models live here, each registered with the checkpoint
serializer (agent.checkpoint), so a run stopped at the approval step resumes
in another process exactly as it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from agent.alert.models import Alert
from agent.approval.models import Decision
from agent.incident.models import Incident
from agent.incident.standing import Standing
from knowledge.memory import Recollection

Correlated = Literal["new", "duplicate", "related"]


class TriageState(BaseModel):
    """One triage run: the alerts in, the incident out."""

    run_id: str = Field(description="The graph thread: approvals resume it.")
    alerts: list[Alert]
    received_at: datetime = Field(description="The run's clock: telemetry is read as of now.")
    incident: Incident | None = None
    correlated: Correlated = "new"
    recollections: list[Recollection] = Field(default_factory=list)
    decision: Decision | None = None
    reason: str | None = Field(
        None, description="Why this run looks again at an open incident (None: first triage)."
    )
    no_incident: str | None = Field(
        None,
        description="Why the run ended at its first step without an incident (a recovery"
        " that no open incident holds: nothing is happening any more).",
    )
    before: Standing | None = Field(None, description="Where the incident stood before it.")
    kept_from: datetime | None = Field(
        None,
        description="A re-investigation that read less telemetry than the look before it,"
        " or saw no signal where it saw the fault, keeps that look's findings: when that"
        " look was.",
    )
    kept_because: str | None = Field(None, description="Why the earlier findings were kept.")
