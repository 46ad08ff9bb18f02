"""When an open incident deserves a fresh investigation: the data may have changed.

An incident's first look can be wrong for honest reasons: the fault had only
just begun, a store was down, the alert named a victim rather than the cause.
So an open incident is looked at again when a new related alert arrives (at
most once per `min_gap_s`, so a storm of hundreds of alerts costs a handful of
looks), when the telemetry it could not read answers again, and, on a live
clock, every `every_min` minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from agent.alert.models import Alert
from agent.config import ReinvestigateConfig
from agent.incident.models import Incident

NAMES_SHOWN = 3


def last_look(incident: Incident) -> datetime:
    """The clock of the incident's latest investigation (its opening, before one)."""
    isolation = incident.isolation
    return isolation.now if isolation is not None and isolation.now else incident.opened_at


def due_on_alerts(
    incident: Incident, alerts: Sequence[Alert], at: datetime, config: ReinvestigateConfig
) -> str | None:
    """Why `alerts`, just attached to `incident`, call for a fresh look (None: they don't).

    `incident` is as it was before they were attached.
    """
    if not config.on_alert or at - last_look(incident) < timedelta(seconds=config.min_gap_s):
        return None
    known = set(incident.fingerprints)
    fresh = sorted({a.name for a in alerts if a.fingerprint not in known})
    if fresh:
        shown = ", ".join(fresh[:NAMES_SHOWN]) + (" …" if len(fresh) > NAMES_SHOWN else "")
        return f"new related alert: {shown}"
    if incident.telemetry_gaps:
        return f"{', '.join(incident.telemetry_gaps)} could not be read at the last look"
    return due_by_time(incident, at, config)


def due_by_time(incident: Incident, at: datetime, config: ReinvestigateConfig) -> str | None:
    """'N minutes since the last investigation', once that is due."""
    if config.every_min <= 0:
        return None
    waited = at - last_look(incident)
    if waited < timedelta(minutes=config.every_min):
        return None
    return f"{round(waited.total_seconds() / 60)} minutes since the last investigation"
