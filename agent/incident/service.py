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
NAMES_KEPT = 50
REASONS_SHOWN = 3


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
    """`incident` with `alerts` added (dedup keeps one copy per fingerprint and start).

    The recovery of an alert the incident holds replaces its firing copy, so the
    incident shows that it ended (and when). Attaches in a row make one timeline line
    with a count, so a storm of hundreds of alerts reads as one line, not hundreds.
    """
    seen = {(a.fingerprint, a.starts_at) for a in incident.alerts}
    fresh = [
        a
        for a in alerts
        if (a.fingerprint, a.starts_at) not in seen
        and not (a.status == "resolved" and any(_recovers(a, h) for h in incident.alerts))
    ]
    updated = incident.model_copy(
        update={
            "alerts": [*_ended(incident.alerts, alerts), *fresh],
            "fingerprints": sorted({*incident.fingerprints, *(a.fingerprint for a in alerts)}),
            "services": sorted({*incident.services, *(a.service for a in alerts if a.service)}),
        }
    )
    last = incident.timeline[-1] if incident.timeline else None
    run = last.data if last is not None and last.kind == "alert" else {}
    count = int(run.get("total", 0)) + len(alerts)
    names = sorted({*run.get("names", []), *(redact(a.name) for a in alerts)})
    reasons = list(dict.fromkeys([*run.get("reasons", []), reason]))[:REASONS_SHOWN]
    since = str(run.get("since", at.isoformat()))
    data = {
        "new": int(run.get("new", 0)) + len(fresh),
        "total": count,
        "names": names[:NAMES_KEPT],
        "reasons": reasons,
        "since": since,
    }
    text = f"Attached {_counted(count, names)}: {'; '.join(reasons)}."
    if run:
        first = datetime.fromisoformat(since)
        text = f"Attached {_counted(count, names)} since {first:%H:%M:%S}: {'; '.join(reasons)}."
        updated = updated.model_copy(update={"timeline": updated.timeline[:-1]})
    return note(updated, "alert", text, "agent", at, data=data)


def recovered(incident: Incident, alerts: list[Alert]) -> tuple[Incident, str]:
    """A resolved (or closed) incident whose alerts ended after it did: the held copies
    say so, and the timeline line to record. Nothing else changes: recoveries never
    reopen, redraft or page."""
    names = sorted({redact(a.name) for a in alerts})
    text = f"Alert{'s' if len(names) > 1 else ''} {_shown(names)} resolved;"
    text += f" the incident stays {incident.status}."
    return incident.model_copy(update={"alerts": _ended(incident.alerts, alerts)}), text


def _ended(held: list[Alert], alerts: list[Alert]) -> list[Alert]:
    """`held` with each firing alert that one of `alerts` recovers ended as the latest
    such recovery says, keeping when it began, so the incident shows that it ended."""
    recoveries = [a for a in alerts if a.status == "resolved"]
    return [_recovered_copy(a, recoveries) for a in held]


def _recovered_copy(held: Alert, recoveries: list[Alert]) -> Alert:
    """A firing copy as the latest recovery of it says, keeping when it began."""
    ends = [r for r in recoveries if _recovers(r, held)]
    if held.status != "firing" or not ends:
        return held
    last = max(ends, key=_end_of)
    return last.model_copy(update={"starts_at": held.starts_at, "ends_at": _end_of(last)})


def _recovers(recovery: Alert, held: Alert) -> bool:
    """Whether `recovery` ends `held`: the same condition, begun by the time it ended.
    SNS (CloudWatch OK) and Datadog do not say when a recovered condition began, so the
    start cannot be matched; a flapping alert's earlier recovery leaves later firings."""
    return recovery.fingerprint == held.fingerprint and held.starts_at <= _end_of(recovery)


def _end_of(recovery: Alert) -> datetime:
    return recovery.ends_at or recovery.starts_at


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
    return _counted(len(alerts), sorted({redact(a.name) for a in alerts}))


def _counted(count: int, names: list[str]) -> str:
    """'3 alerts (A, B and C)'; more than three names are counted, not listed."""
    return f"{count} alert{'s' if count != 1 else ''} ({_shown(names)})"


def _shown(names: list[str]) -> str:
    """'A, B, C and 2 more'."""
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
