"""Past incidents as evidence: "this looks like INC-123, fixed by rolling back X".

The recall step asks the incident memory for incidents (and runbooks) resolved
before now that rhyme with this one. Each match becomes an Evidence item of
kind "memory" against its root-cause service (runbooks with strength 0), cited
first by that suspect so the drafts show it.

The lift is a bounded bonus, not a re-run of the ranking: a suspect's score
gains the ranking's "memory" weight (a hand-set prior, ranking_weights.json)
times its best match strength, inside every fault window the engine ranked
(`Isolation.windows`), and the confidences are recomputed as the engine makes
them (softmax per window, averaged, then calibrated). Feeding memory evidence
through the ranking's call-graph features was measured to push a service's
callers down whenever the callee had a past incident (nezha-ob-dev: two cases
fell from #3 to #5 and #9), which is not what a past incident says. The bonus
is said in isolation.notes. Memory never breaks a triage: a store that fails is
noted and the triage goes on without it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.alert.models import Alert
from agent.incident.memory import log_templates
from agent.incident.models import Incident, TimelineKind
from agent.isolation.averaging import averaged
from agent.isolation.engine import honest, judge
from agent.isolation.evidence import Evidence, EvidenceQuery
from agent.isolation.models import Hypothesis, Isolation, WindowRanking
from agent.isolation.ranking import RankingModel, load_model
from knowledge.memory import IncidentMemory, RecallQuery, Recollection
from tools.redact import redact
from tools.telemetry.backend import TelemetryBackend

SUSPECTS = 5
QUERY_TEMPLATES = 20
SUMMARY_CHARS = 220
RECALLED_FIELDS = {"id", "kind", "services", "fault_type", "score"}
# A match lifts its service by what singles that service out: the same fault
# type as the service shows now, the same log lines. Text and alert names bring
# a match up, but they are shared by every incident of an estate, so they lift
# nothing; nor does where the service stands in today's ranking.
LIFT_SIGNALS = {"fault": 0.5, "logs": 0.5}
SAME_FAULT = 1.0


@dataclass(slots=True)
class Recalled:
    """What the recall step found and did, for the node to record."""

    incident: Incident
    recollections: list[Recollection] = field(default_factory=list)
    kind: TimelineKind = "investigation"
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def recall_query(incident: Incident, alerts: Sequence[Alert], at: datetime) -> RecallQuery:
    """The current incident as the memory sees it: suspects, alerts, moved log lines."""
    isolation = incident.isolation
    suspects = isolation.hypotheses[:SUSPECTS] if isolation else []
    names = sorted({a.name for a in alerts if a.name})
    text = " ".join(
        [
            incident.title,
            *names,
            *(f"{h.service} {h.fault_type}" for h in suspects[:3]),
            *(h.rationale for h in suspects[:3]),
        ]
    )
    return RecallQuery(
        text=text,
        services=[h.service for h in suspects],
        fault_types=[h.fault_type for h in suspects],
        alert_names=names,
        log_templates=log_templates(isolation.evidence, QUERY_TEMPLATES) if isolation else [],
        before=at,
    )


def lift_strength(match: Recollection) -> float:
    """How strongly a past incident points at its service today, in [0, 1]."""
    if match.kind != "incident":
        return 0.0
    fault = 1.0 if match.signals.get("fault", 0.0) >= SAME_FAULT else 0.0
    return LIFT_SIGNALS["fault"] * fault + LIFT_SIGNALS["logs"] * match.signals.get("logs", 0.0)


def summary(match: Recollection) -> str:
    """One sentence: which past incident or runbook, and what fixed it."""
    service = match.services[0] if match.services else "?"
    if match.kind == "runbook":
        text = f"Runbook {match.id} for {service}: {match.title}"
    else:
        text = f"Looks like {match.id} ({service}, {match.fault_type or 'unknown'})"
        text += f", resolved by: {match.resolution}" if match.resolution else f": {match.title}"
    return _clipped(text)


def summary_ja(match: Recollection) -> str:
    """`summary` in Japanese (the past incident's own words stay as they were written)."""
    service = match.services[0] if match.services else "?"
    if match.kind == "runbook":
        return _clipped(f"{service}のランブック {match.id}：{match.title}")
    text = f"過去のインシデント {match.id}（{service}、{match.fault_type or '種別不明'}）に類似"
    text += f"。解決策：{match.resolution}" if match.resolution else f"：{match.title}"
    return _clipped(text)


def _clipped(text: str) -> str:
    text = redact(" ".join(text.split()))
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def memory_evidence(matches: Sequence[Recollection], services: set[str]) -> list[Evidence]:
    """One evidence item per match: an incident against its root-cause service, a runbook
    against its first service of this estate (with no weight)."""
    items = []
    for match in matches:
        named = match.services[:1] if match.kind == "incident" else match.services
        service = next((s for s in named if s in services), None)
        if service is None:
            continue
        query = EvidenceQuery(tool="recall_incidents", args={"id": match.id, "kind": match.kind})
        strength = lift_strength(match)
        items.append(
            Evidence(
                id=Evidence.make_id("memory", query, service),
                kind="memory",
                service=service,
                summary=summary(match),
                summary_ja=summary_ja(match),
                query=query,
                strength=round(strength, 4),
                signal=f"memory_{match.kind}",
                values={"score": match.score, **match.signals},
            )
        )
    return items


def lift_scores(
    isolation: Isolation, added: list[Evidence], model: RankingModel | None = None
) -> Isolation:
    """Each suspect's score plus the ranking's memory weight times its best memory
    strength, in every fault window the engine ranked, then averaged as the engine does."""
    model = model or load_model()
    weight = model.weight("memory")
    best: dict[str, float] = defaultdict(float)
    for item in added:
        best[item.service] = max(best[item.service], item.strength)
    bonus = {service: weight * strength for service, strength in best.items() if strength > 0}
    by_service = {h.service: h for h in isolation.hypotheses}
    hypotheses = [
        by_service[s.service].model_copy(
            update={"score": round(s.score, 4), "confidence": round(s.confidence, 4)}
        )
        for s in averaged(model, isolation.windows or [_one_window(isolation)], bonus)
        if s.service in by_service
    ]
    verdict, reason = judge(hypotheses, [*isolation.evidence, *added])
    return isolation.model_copy(
        update={
            "hypotheses": honest(hypotheses, verdict),
            "verdict": verdict,
            "verdict_reason": reason,
        }
    )


def _one_window(isolation: Isolation) -> WindowRanking:
    """An isolation stored without its windows, read as one window of its scores."""
    return WindowRanking(
        onset=isolation.onset,
        weight=1.0,
        scores={h.service: h.score for h in isolation.hypotheses},
        backed=[h.service for h in isolation.hypotheses if h.evidence_ids],
    )


def cite(isolation: Isolation, added: list[Evidence]) -> Isolation:
    """Each suspect cites its memory evidence first, so drafts show "looks like INC-…"."""
    by_service: dict[str, list[str]] = defaultdict(list)
    for item in sorted(added, key=lambda e: -e.strength):
        by_service[item.service].append(item.id)
    hypotheses = [
        h.model_copy(update={"evidence_ids": [*by_service[h.service], *h.evidence_ids]})
        if h.service in by_service
        else h
        for h in isolation.hypotheses
    ]
    evidence = [*isolation.evidence, *(e for e in added if e.id not in isolation.evidence_by_id())]
    return isolation.model_copy(update={"hypotheses": hypotheses, "evidence": evidence})


def apply_memory(
    isolation: Isolation,
    matches: list[Recollection],
    services: set[str],
    *,
    lift: bool,
    model: RankingModel | None = None,
) -> Isolation:
    """Memory evidence added, suspects lifted (deterministic engine only), a note saying so."""
    added = memory_evidence(matches, services)
    if not added:
        return isolation
    before = isolation.top()
    ranked = isolation
    if lift and isolation.engine == "deterministic" and isolation.hypotheses:
        ranked = lift_scores(isolation, added, model)
    after = ranked.top()
    note = _lift_note(before, after, ranked is not isolation, isolation.engine)
    return cite(ranked, added).model_copy(update={"notes": [*isolation.notes, note]})


def _lift_note(
    before: Hypothesis | None, after: Hypothesis | None, reranked: bool, engine: str
) -> str:
    if not reranked:
        return f"Memory: matches shown as evidence only; the {engine} ranking is kept."
    bonus = "suspects with a matching past incident got a bounded score bonus"
    if before and after and before.service != after.service:
        return (
            f"Memory: {bonus}; {after.service} now leads ({after.confidence:.0%}),"
            f" ahead of {before.service}."
        )
    return f"Memory: {bonus}; the leading suspect is unchanged."


def recall_into(
    memory: IncidentMemory,
    incident: Incident,
    alerts: Sequence[Alert],
    at: datetime,
    backend: TelemetryBackend | None,
    *,
    lift: bool = True,
    model: RankingModel | None = None,
) -> Recalled:
    """Recall for `incident`, and the incident with the matches as evidence."""
    try:
        matches = memory.recall(recall_query(incident, alerts, at))
    except Exception as error:  # the memory is an aid: its failure must not stop a triage
        problem = f"{type(error).__name__}: {error}"
        text = f"Incident memory unavailable ({problem}); going on without it."
        return Recalled(incident=incident, kind="fallback", text=text)
    if not matches:
        return Recalled(incident=incident)
    isolation = incident.isolation
    if isolation is not None:
        known = set(backend.services()) if backend else {h.service for h in isolation.hypotheses}
        isolation = apply_memory(isolation, matches, known, lift=lift, model=model)
        incident = incident.model_copy(update={"isolation": isolation})
    shown = "; ".join(f"{m.id} ({m.score:.2f}: {m.reason})" for m in matches[:3])
    return Recalled(
        incident=incident,
        recollections=matches,
        text=f"Similar: {shown}.",
        data={"recalled": [m.model_dump(include=RECALLED_FIELDS) for m in matches]},
    )
