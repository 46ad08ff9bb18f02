"""Building a DraftContext from the incident record plus the catalogue facts policy supplies.

The incident knows what happened (isolation, severity, routing, timeline,
dispatches); the policy knows how to speak of it outside (organisation, public
names, time zone, status page). This joins the two so callers need not.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from agent.draft.context import (
    MAX_SUSPECTS,
    AnalysisBy,
    Bilingual,
    DraftContext,
    EvidenceItem,
    NoteKind,
    ResponderNote,
    ServiceRef,
    Suspect,
)
from agent.draft.models import Language

if TYPE_CHECKING:  # agent.incident.models imports agent.draft.models: no runtime cycle.
    from agent.incident.models import Incident, TimelineEntry
    from agent.isolation.models import Isolation

NOTE_ENTRY_KINDS = frozenset({"note", "chat"})
NOTE_KINDS: tuple[NoteKind, ...] = ("action", "decision", "need")
MACHINE_ACTORS = frozenset({"agent", "system"})
NOTE_PREFIXES: Mapping[str, NoteKind] = {
    "need:": "need",
    "needs:": "need",
    "要請:": "need",
    "要請：": "need",
    "decision:": "decision",
    "decided:": "decision",
    "決定:": "decision",
    "決定：": "decision",
    "action:": "action",
    "対応:": "action",
    "対応：": "action",
    "アクション:": "action",
    "アクション：": "action",
}


class MissingFacts(ValueError):
    """The incident lacks something every draft needs (severity or routing)."""


def context_from_incident(
    incident: Incident,
    *,
    now: datetime,
    language: Language,
    organisation: Bilingual,
    public_names: Mapping[str, Bilingual],
    timezone: str = "Asia/Tokyo",
    status_page_url: str | None = None,
    war_room_url: str | None = None,
    team_names: Mapping[str, Bilingual] | None = None,
    impact_known: bool = False,
    impact: Bilingual | None = None,
    example_policy: bool = False,
) -> DraftContext:
    """The drafts' view of `incident` as of `now`, in `language`."""
    if incident.severity is None or incident.routing is None:
        raise MissingFacts(f"incident {incident.id} has no severity or routing yet")
    isolation = incident.isolation
    suspects = _suspects(isolation)
    return DraftContext(
        incident_id=incident.id,
        title=incident.title,
        opened_at=incident.opened_at,
        now=now,
        language=language,
        organisation=organisation,
        timezone=timezone,
        status_page_url=status_page_url,
        war_room_url=war_room_url,
        severity=incident.severity,
        routing=incident.routing,
        team_names=dict(team_names or {}),
        suspects=suspects,
        evidence=_evidence(isolation, suspects),
        verdict=isolation.verdict if isolation else "no-signal",
        verdict_reason=isolation.verdict_reason if isolation else "",
        affected=[ServiceRef(name=s, public=public_names.get(s)) for s in incident.services],
        impact_known=impact_known or impact is not None,
        impact=impact,
        notes=[n for e in incident.timeline if (n := responder_note(e)) is not None],
        status_updates_sent=len(sent_status_updates(incident)),
        resolved_at=_resolved_at(incident),
        next_update_due=_next_due(incident),
        security=_is_security(incident, suspects),
        analysis_by=_analysis_by(isolation),
        unavailable=dict(incident.telemetry_gaps),
        example_policy=example_policy,
    )


def responder_note(entry: TimelineEntry) -> ResponderNote | None:
    """A person's note, or a chat line recognised as one, as a note.

    Its kind comes from `data['note_kind']` or a prefix ("Need:", "決定："). A
    chat line with neither is a question to the agent, not something the
    responders did; a bare note is an action.
    """
    if entry.kind not in NOTE_ENTRY_KINDS or entry.actor in MACHINE_ACTORS:
        return None
    text = entry.text.strip()
    kind = next((k for k in NOTE_KINDS if k == entry.data.get("note_kind")), None)
    if kind is not None:
        return ResponderNote(at=entry.at, author=entry.actor, text=text, kind=kind)
    for prefix, prefixed in NOTE_PREFIXES.items():
        if text.lower().startswith(prefix):
            rest = text[len(prefix) :].strip()
            return ResponderNote(at=entry.at, author=entry.actor, text=rest, kind=prefixed)
    if entry.kind == "chat":
        return None
    return ResponderNote(at=entry.at, author=entry.actor, text=text, kind="action")


def _suspects(isolation: Isolation | None) -> list[Suspect]:
    if isolation is None:
        return []
    return [
        Suspect(
            service=h.service,
            instance=h.instance,
            fault_type=h.fault_type,
            confidence=h.confidence,
            evidence_ids=h.evidence_ids,
        )
        for h in isolation.hypotheses[:MAX_SUSPECTS]
    ]


def _evidence(isolation: Isolation | None, suspects: list[Suspect]) -> list[EvidenceItem]:
    """Only the evidence the top suspects cite, in their order."""
    if isolation is None:
        return []
    by_id = isolation.evidence_by_id()
    cited = dict.fromkeys(i for s in suspects for i in s.evidence_ids if i in by_id)
    return [
        EvidenceItem(
            id=i, kind=by_id[i].kind, summary=by_id[i].summary, summary_ja=by_id[i].summary_ja
        )
        for i in cited
    ]


def sent_status_updates(incident: Incident) -> list[datetime]:
    """When each status update that reached customers went out, oldest first."""
    kinds = {d.id: d.kind for d in incident.drafts}
    return sorted(
        r.at
        for r in incident.dispatches
        if r.status == "sent" and kinds.get(r.draft_id) == "status_update"
    )


def _resolved_at(incident: Incident) -> datetime | None:
    """When the timeline first says resolved (None while it is not)."""
    if incident.status not in ("resolved", "closed"):
        return None
    return next((e.at for e in incident.timeline if e.kind == "resolved"), None)


def _next_due(incident: Incident) -> datetime | None:
    """Last status update sent plus the cadence; None (now plus cadence) before the first."""
    sent = sent_status_updates(incident)
    if not sent or incident.severity is None:
        return None
    return sent[-1] + timedelta(minutes=incident.severity.status_every_min)


def _is_security(incident: Incident, suspects: list[Suspect]) -> bool:
    """Security when the leading suspect is a security fault, policy engaged the CSIRT, or
    routing took the security path (approvals required before any external word)."""
    if suspects and suspects[0].fault_type == "security":
        return True
    engaged = incident.severity.engage if incident.severity else []
    routing = incident.routing
    roles = [r.role for r in routing.paged] if routing else []
    return "csirt" in engaged or "csirt" in roles or bool(routing and routing.approvals_required)


def _analysis_by(isolation: Isolation | None) -> AnalysisBy:
    """Who ranked the suspects; an LLM that failed is named, so nobody takes its silence
    for agreement."""
    if isolation is not None and isolation.llm_fallback:
        return "llm_failed"
    if isolation is None or isolation.engine == "deterministic":
        return "deterministic"
    return "llm"
