"""What the incident page shows beside the incident record: the alerts as their senders
described them, and what became of each draft.

Links come from alert payloads (untrusted), so only absolute http(s) URLs become
links; anything else (javascript:, data:, relative paths) is shown as text or not at all.
Senders leak credentials into alert text and links, so the page shows them masked
(tools/redact), as the drafts and the incident's title do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from agent.dispatch.config import DispatchConfig
from agent.dispatch.service import ROUTE_EN, ROUTE_JA, RouteWords, outcome_text, route_text
from agent.draft.models import Language
from agent.incident.models import Incident
from tools.redact import redact

ALERTS_SHOWN = 10
RUNBOOK_KEYS = ("runbook_url", "runbook", "runbookUrl", "playbook", "playbook_url")
DESCRIPTION_KEYS = ("description", "message", "details")
ROUTE_WORDS: dict[Language, RouteWords] = {"en": ROUTE_EN, "ja": ROUTE_JA}


@dataclass(frozen=True)
class AlertView:
    """One alert as its sender described it."""

    name: str
    source: str
    status: str
    starts_at: datetime
    summary: str
    description: str
    runbook: str | None
    link: str | None


def safe_link(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL, else None."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in {"http", "https"} and parts.netloc else None


def alert_views(incident: Incident) -> list[AlertView]:
    """The incident's distinct alerts (one per fingerprint), first arrived first."""
    seen: dict[str, AlertView] = {}
    for alert in incident.alerts:
        if alert.fingerprint in seen or len(seen) >= ALERTS_SHOWN:
            continue
        notes = alert.annotations
        description = next((notes[k] for k in DESCRIPTION_KEYS if notes.get(k)), "")
        runbook = next((notes[k] for k in RUNBOOK_KEYS if notes.get(k)), None)
        seen[alert.fingerprint] = AlertView(
            name=redact(alert.name),
            source=alert.source,
            status=alert.status,
            starts_at=alert.starts_at,
            summary=redact(alert.summary),
            description="" if description == alert.summary else redact(description),
            runbook=safe_link(redact(runbook or "")),
            link=safe_link(redact(alert.url or "")),
        )
    return list(seen.values())


def draft_routes(incident: Incident, config: DispatchConfig, language: Language) -> dict[str, str]:
    """Per draft, in the war room's language: what became of its last send, or where
    it will go."""
    words = ROUTE_WORDS[language]
    last = {r.draft_id: r for r in incident.dispatches}
    return {
        d.id: outcome_text(last[d.id], words) if d.id in last else route_text(d, config, words)
        for d in incident.drafts
    }
