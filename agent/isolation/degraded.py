"""Isolation when telemetry is missing: honest about what could not be read.

Outages come together, so the store a triage needs may be down with the
service it watches. The triage then goes on with what it has and says so:

- some kinds unreadable: the engine's ranking stands, but no suspect is above
  LOW_CONFIDENCE and the verdict is inconclusive (the missing kind may hold the
  signal that decides it);
- nothing readable (or nothing configured): the suspects are the services the
  alerts themselves name, backed by the alerts as evidence, sharing
  LOW_CONFIDENCE, so routing still reaches the owning team.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from agent.alert.models import Alert
from agent.isolation.evidence import Evidence, EvidenceQuery
from agent.isolation.models import Hypothesis, Isolation
from tools.redact import redact
from tools.telemetry.guard import grouped

LOW_CONFIDENCE = 0.15


OBSERVED_ELSEWHERE = frozenset({"alert", "memory"})  # evidence not read from telemetry


def gap_lines(gaps: Mapping[str, str]) -> list[str]:
    """'metrics, logs unavailable: <why>', one line per reason."""
    return [f"{', '.join(kinds)} unavailable: {reason}" for kinds, reason in grouped(gaps)]


def degrade(
    isolation: Isolation, alerts: Sequence[Alert], gaps: Mapping[str, str], known: set[str]
) -> Isolation:
    """`isolation` marked for the telemetry it could not read (unchanged without gaps).

    Applying it again (after the LLM or the memory re-ranked) gives the same marking.
    """
    if not gaps:
        return isolation
    observed = {e.id for e in isolation.evidence if e.kind not in OBSERVED_ELSEWHERE}
    if any(observed & set(h.evidence_ids) for h in isolation.hypotheses):
        top = isolation.hypotheses[0].service
        reason = f"Telemetry incomplete ({', '.join(gaps)} unavailable): {top} leads on"
        reason += " what could be read; re-investigated when the missing telemetry answers."
    elif any(e.kind == "alert" for e in isolation.evidence):
        reason = _blind(gaps)
    else:
        return from_alerts(alerts, gaps, known, isolation.now, isolation.notes)
    notes = [*isolation.notes, *(n for n in gap_lines(gaps) if n not in isolation.notes)]
    return isolation.model_copy(
        update={
            "hypotheses": _capped(isolation.hypotheses),
            "verdict": "inconclusive",
            "verdict_reason": reason,
            "notes": notes,
        }
    )


def _capped(hypotheses: Sequence[Hypothesis]) -> list[Hypothesis]:
    """Confidences scaled so the top one is at most LOW_CONFIDENCE (the order stays)."""
    top = hypotheses[0].confidence if hypotheses else 0.0
    scale = min(1.0, LOW_CONFIDENCE / top) if top > 0 else 1.0
    return [h.model_copy(update={"confidence": round(h.confidence * scale, 4)}) for h in hypotheses]


def _blind(gaps: Mapping[str, str]) -> str:
    missing = ", ".join(gaps) or "telemetry"
    return (
        f"No telemetry could be read ({missing} unavailable): the suspects are only what"
        " the alert names; re-investigated when telemetry answers."
    )


def from_alerts(
    alerts: Sequence[Alert],
    gaps: Mapping[str, str],
    known: set[str],
    now: datetime | None,
    notes: Sequence[str] = (),
) -> Isolation:
    """Suspects from the alerts alone: each service they name (a label, or a metric
    dimension that is a known service), in order of first mention."""
    evidence = [alert_evidence(a, s) for a in alerts for s in _named(a, known)]
    services = list(dict.fromkeys(e.service for e in evidence))
    share = round(LOW_CONFIDENCE / len(services), 4) if services else 0.0
    hypotheses = [
        Hypothesis(
            service=service,
            confidence=share,
            evidence_ids=[e.id for e in evidence if e.service == service],
            rationale="Named by the alert; no telemetry could be read to confirm it.",
        )
        for service in services
    ]
    starts = [a.starts_at for a in alerts]
    return Isolation(
        hypotheses=hypotheses,
        evidence=list({e.id: e for e in evidence}.values()),
        verdict="inconclusive",
        verdict_reason=_blind(gaps),
        onset=min(starts) if starts else None,
        now=now,
        notes=[*notes, *(n for n in gap_lines(gaps) if n not in notes)],
    )


def _named(alert: Alert, known: set[str]) -> list[str]:
    dimensions = alert.metric.dimensions.values() if alert.metric else []
    named = [alert.service] if alert.service else []
    return list(dict.fromkeys([*named, *(d for d in dimensions if d in known)]))


def alert_evidence(alert: Alert, service: str) -> Evidence:
    """The alert itself as evidence against `service`."""
    query = EvidenceQuery(
        tool="alert", args={"source": alert.source, "fingerprint": alert.fingerprint}
    )
    name = redact(alert.name)
    at = alert.starts_at.strftime("%H:%M UTC")
    return Evidence(
        id=Evidence.make_id("alert", query, service),
        kind="alert",
        service=service,
        summary=f"Alert {name} ({alert.source}) fired for {service} at {at}.",
        summary_ja=f"{service} でアラート {name}（{alert.source}）が {at} に発火。",
        query=query,
        signal="alert",
    )
