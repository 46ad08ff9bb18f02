"""Teaching the incident memory: a resolved incident, in the memory's own record.

The memory (knowledge/) knows nothing of the agent's Incident: it learns a
`PastIncident`. `resolved_record` is the one place an incident becomes one, in
the terms of the root cause a responder confirmed (or corrected), with the
signals the agent saw (alert names and the log templates that moved), so the
next incident that rhymes with it finds it. Every caller (the server's resolve
endpoint, the eval's memory mode) builds its record here and hands it to
`memory.remember_resolved(record)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from agent.incident.models import Incident
from agent.isolation.evidence import Evidence
from knowledge.records import PastIncident, TimelineHighlight
from tools.redact import redact
from tools.telemetry.replay.format import FaultType

TEMPLATES = 12
MIN_LOG_STRENGTH = 0.1
EVIDENCE_SENTENCES = 2
HIGHLIGHT_KINDS = frozenset({"opened", "investigation", "severity", "routing", "escalation"})


class ConfirmedRootCause(BaseModel):
    """What a responder confirmed (or corrected) when resolving an incident."""

    model_config = ConfigDict(extra="forbid")

    service: str = Field(min_length=1)
    fault_type: FaultType = "unknown"
    description: str = Field("", description="The cause in the responder's words.")
    instance: str | None = None
    change_id: str | None = None
    corrected: bool = Field(False, description="True when it differs from the agent's top guess.")


def confirmed_record(incident: Incident) -> PastIncident:
    """The record of a resolved incident in the terms of its confirmed root cause,
    `corrected` when the engine's top suspect (recorded at resolution) was not it."""
    cause = incident.root_cause
    if cause is None:
        raise ValueError(f"{incident.id} has no confirmed root cause")
    confirmed = ConfirmedRootCause(
        service=cause.service,
        fault_type=cause.fault_type,
        description=cause.summary or cause.note,
        change_id=cause.change_id,
        corrected=cause.engine is not None and not cause.engine.fault_type_match,
    )
    return resolved_record(incident, confirmed, cause.resolution, cause.at)


def log_templates(evidence: Sequence[Evidence], limit: int = TEMPLATES) -> list[str]:
    """The log templates that moved, strongest first: an incident's log signature."""
    logs = sorted(
        (e for e in evidence if e.kind == "log" and e.strength >= MIN_LOG_STRENGTH),
        key=lambda e: -e.strength,
    )
    found = (str(e.query.args.get("template") or "") for e in logs)
    return list(dict.fromkeys(t for t in found if t))[:limit]


def resolved_record(
    incident: Incident,
    cause: ConfirmedRootCause,
    resolution: str,
    resolved_at: datetime,
    *,
    record_id: str | None = None,
) -> PastIncident:
    """The past-incident record of a resolved incident, in the confirmed cause's terms:
    the confirmed service first, the responder's description as root cause (secrets and
    personal data masked: the memory is read by every later triage), the alert
    names and the log templates that moved (the confirmed service's first), tagged
    `corrected` when the cause differs from the agent's top suspect."""
    evidence = incident.isolation.evidence if incident.isolation else []
    own = log_templates([e for e in evidence if e.service == cause.service])
    return PastIncident(
        id=record_id or incident.id,
        title=incident.title,
        summary=_summary(incident, cause, evidence),
        services=list(dict.fromkeys([cause.service, *incident.services])),
        fault_type=cause.fault_type,
        root_cause=redact(cause.description) or f"{cause.fault_type} fault in {cause.service}",
        resolution=redact(resolution),
        severity=incident.severity.level if incident.severity else None,
        timeline=[
            TimelineHighlight(at=e.at, text=e.text)
            for e in incident.timeline
            if e.kind in HIGHLIGHT_KINDS
        ],
        tags=["agent", *(["corrected"] if cause.corrected else [])],
        start=incident.opened_at,
        end=max(resolved_at, incident.opened_at),
        alert_names=sorted({a.name for a in incident.alerts if a.name}),
        log_templates=list(dict.fromkeys([*own, *log_templates(evidence)]))[:TEMPLATES],
        source="agent",
    )


def _summary(incident: Incident, cause: ConfirmedRootCause, evidence: Sequence[Evidence]) -> str:
    """What the agent saw of the confirmed service, and whether its guess was right."""
    top = incident.isolation.top() if incident.isolation else None
    seen = sorted((e for e in evidence if e.service == cause.service), key=lambda e: -e.strength)
    sentences = [e.summary for e in seen[:EVIDENCE_SENTENCES]]
    if top is not None:
        verdict = "confirmed" if top.service == cause.service else "corrected"
        sentences.append(
            f"The agent's top suspect was {top.service} ({top.fault_type}): {verdict}."
        )
    return " ".join(sentences)
