"""Opening incidents, attaching alerts, writing the timeline.

Pure functions over Incident (the caller saves): every change is a new
timeline entry, so the war room can show who did what, when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent.alert.models import Alert
from agent.incident.models import Incident, TimelineEntry, TimelineKind
from tools.redact import redact

TITLE_CHARS = 120


def open_incident(incident_id: str, alerts: list[Alert], at: datetime) -> Incident:
    """A new incident for `alerts`; its title is the first alert's name (data, not text)."""
    first = alerts[0]
    title = redact(first.name or "Untitled alert")[:TITLE_CHARS]
    incident = Incident(
        id=incident_id,
        title=title,
        opened_at=at,
        updated_at=at,
        system=first.system,
        alerts=list(alerts),
        fingerprints=sorted({a.fingerprint for a in alerts}),
        services=sorted({a.service for a in alerts if a.service}),
    )
    return note(incident, "opened", f"Opened from {_describe(alerts)}.", "agent", at)


def attach(incident: Incident, alerts: list[Alert], reason: str, at: datetime) -> Incident:
    """`incident` with `alerts` added (dedup keeps one copy per fingerprint and start)."""
    seen = {(a.fingerprint, a.starts_at) for a in incident.alerts}
    fresh = [a for a in alerts if (a.fingerprint, a.starts_at) not in seen]
    updated = incident.model_copy(
        update={
            "alerts": [*incident.alerts, *fresh],
            "fingerprints": sorted({*incident.fingerprints, *(a.fingerprint for a in alerts)}),
            "services": sorted({*incident.services, *(a.service for a in alerts if a.service)}),
        }
    )
    text = f"Attached {_describe(alerts)}: {reason}."
    return note(updated, "alert", text, "agent", at, data={"new": len(fresh), "total": len(alerts)})


def note(
    incident: Incident,
    kind: TimelineKind,
    text: str,
    actor: str,
    at: datetime,
    *,
    data: dict[str, Any] | None = None,
) -> Incident:
    """`incident` with one more timeline entry."""
    entry = TimelineEntry(at=at, kind=kind, actor=actor, text=text, data=data or {})
    return incident.model_copy(
        update={"timeline": [*incident.timeline, entry], "updated_at": max(incident.updated_at, at)}
    )


def _describe(alerts: list[Alert]) -> str:
    names = sorted({redact(a.name) for a in alerts})
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} ({shown})"
