"""Dedup and correlation: does this alert belong to an incident already open?

In an alert storm, one fault fires hundreds of alerts across its neighbours.
Responders want one incident, so an alert joins an open incident when it is
the same condition (fingerprint), or names the same service or a call-graph
neighbour of one, or (when it names no service) the same system, within the
correlation window (counted from the incident's last alert). A recovery (alerts
that all say `resolved`) joins the open incident holding its fingerprint however
late it comes, or else is recorded on an incident holding it that was resolved
within the window (the alert ended after the responders did); one that neither
holds has nothing to join. Only the alert's routing fields are read, never its text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from agent.alert.models import Alert
from agent.incident.models import Incident
from agent.incident.store import IncidentStore
from tools.telemetry.models import Topology

Match = Literal["new", "duplicate", "related"]
EVER = datetime.min.replace(tzinfo=UTC)


class Correlation(BaseModel):
    """Where the alerts go: a new incident, or an open one and why."""

    match: Match
    incident: Incident | None = None
    reason: str = ""


def keys_for(alerts: list[Alert], topology: Topology) -> tuple[set[str], set[str]]:
    """(dedup keys, related keys) the store indexes incidents by."""
    dedup = {f"fp:{a.fingerprint}" for a in alerts}
    services = {a.service for a in alerts if a.service}
    neighbours = set().union(*(topology.neighbours(s) for s in services)) if services else set()
    related = {f"svc:{s}" for s in services | neighbours}
    related |= {f"sys:{a.system}" for a in alerts if a.system and not a.service}
    return dedup, related


def correlate(
    store: IncidentStore,
    alerts: list[Alert],
    topology: Topology,
    now: datetime,
    window: timedelta,
) -> Correlation:
    """Find the incident these alerts belong to, if any: an open one, or for a recovery
    one it ended after."""
    dedup, related = keys_for(alerts, topology)
    since = now - window
    same = _alerting_since(store.open_with_keys(dedup, since), since)
    if same:
        return Correlation(match="duplicate", incident=same[0], reason="same alert fingerprint")
    held = _holding(store, dedup, since) if recovery_only(alerts) else None
    if held is not None:
        reason = "the recovery of an alert it holds"
        return Correlation(match="duplicate", incident=held, reason=reason)
    near = _alerting_since(store.open_with_keys(related, since), since)
    if near:
        shared = sorted(related & near[0].lookup_keys())
        return Correlation(match="related", incident=near[0], reason=_reason(shared))
    return Correlation(match="new")


def recovery_only(alerts: list[Alert]) -> bool:
    """Every alert says its condition ended: a recovery, with nothing firing to triage."""
    return all(a.status == "resolved" for a in alerts)


def _holding(store: IncidentStore, dedup: set[str], since: datetime) -> Incident | None:
    """The incident a recovery ends an alert of: the open one holding its fingerprint,
    else a resolved (or closed) one holding it, last updated since `since`."""
    found = store.open_with_keys(dedup, EVER) or store.ended_with_keys(dedup, since)
    return found[0] if found else None


def _alerting_since(incidents: list[Incident], since: datetime) -> list[Incident]:
    """Those whose last alert came after `since`: a responder's later note or an
    approval keeps an incident open, not its correlation window."""
    return [i for i in incidents if i.last_alert_at() >= since]


def _reason(shared: list[str]) -> str:
    names = ", ".join(k.split(":", 1)[1] for k in shared[:3])
    kind = "system" if shared and shared[0].startswith("sys:") else "service or neighbour"
    return f"same {kind} ({names}) within the correlation window"
