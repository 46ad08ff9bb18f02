"""Checking the LLM's submitted ranking, and merging it into the deterministic result.

The LLM may only re-order what the evidence already supports: every ranked
service must be an evidence-backed candidate of the deterministic engine, every
claim must cite evidence that exists and concerns that service, and a new leader
must be one the evidence does not contradict. Anything else raises
InvalidAssessment, and the caller keeps the deterministic result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from agent.isolation.engine import disagreeing, judge
from agent.isolation.evidence import Evidence
from agent.isolation.models import Hypothesis, Isolation
from agent.llm.assessment import SUBMIT_TOOL, Assessment, RankedSuspect
from agent.llm.budget import InvalidAssessment
from tools.redact import redact


def candidates(isolation: Isolation, limit: int) -> list[Hypothesis]:
    """The suspects the LLM may rank: the engine's best `limit` that cite evidence."""
    return [h for h in isolation.hypotheses if h.evidence_ids][:limit]


def parse(args: Any) -> Assessment:
    """The submit_assessment arguments as an Assessment, or InvalidAssessment naming the field."""
    try:
        return Assessment.model_validate(args if isinstance(args, Mapping) else {})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "arguments"
        more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise InvalidAssessment(f"{SUBMIT_TOOL}: '{where}': {first['msg']}{more}") from None


def check(
    assessment: Assessment, allowed: Mapping[str, Hypothesis], evidence: Mapping[str, Evidence]
) -> None:
    """Raise InvalidAssessment unless the ranking re-orders evidence-backed candidates only,
    each once, each citing existing evidence of which some concerns that service, keeping
    the evidence's word on security, and leads with the engine's leader or one the
    evidence does not contradict."""
    seen: set[str] = set()
    for suspect in assessment.ranking:
        service = suspect.service
        if service not in allowed:
            raise InvalidAssessment(f"service '{_shown(service)}' has no evidence")
        if service in seen:
            raise InvalidAssessment(f"service '{service}' ranked twice")
        seen.add(service)
        unknown = [i for i in suspect.evidence_ids if i not in evidence]
        if unknown:
            raise InvalidAssessment(f"evidence id '{_shown(unknown[0])}' does not exist")
        if not any(_concerns(evidence[i], service) for i in suspect.evidence_ids):
            raise InvalidAssessment(f"no evidence cited for '{service}' concerns it")
        _check_security(suspect, allowed[service])
    _check_leader(assessment.ranking[0], allowed, evidence)


def _check_security(suspect: RankedSuspect, engine: Hypothesis) -> None:
    """Security or not is the evidence's call (only security signals make it one): the label
    engages CSIRT and the legal and PR sign-offs, so words in an alert must not add or
    remove it through the model."""
    if (suspect.fault_type == "security") == (engine.fault_type == "security"):
        return
    kind = "a" if engine.fault_type == "security" else "no"
    raise InvalidAssessment(
        f"'{suspect.service}' is {kind} security fault by its evidence; the model cannot"
        f" relabel it {suspect.fault_type}"
    )


def _check_leader(
    leader: RankedSuspect, allowed: Mapping[str, Hypothesis], evidence: Mapping[str, Evidence]
) -> None:
    """A new leader decides who is paged, so it must pass the engine's own test: no kind of
    telemetry may point strongly elsewhere while saying nothing of note about it. An alert
    or log line that talks the model into 'blame X' cannot then move the page."""
    if leader.service == next(iter(allowed)):
        return
    engine_ids = allowed[leader.service].evidence_ids
    backed = allowed[leader.service].model_copy(
        update={"evidence_ids": [*engine_ids, *leader.evidence_ids]}
    )
    against = disagreeing(backed, list(evidence.values()))
    if against:
        raise InvalidAssessment(f"'{leader.service}' cannot lead: {against}")


def merge(
    deterministic: Isolation,
    assessment: Assessment,
    new_evidence: list[Evidence],
    engine: str,
    note: str,
) -> Isolation:
    """The LLM's ranking over the deterministic result: its suspects first (with their
    instance, score and change kept), then the engine's remaining hypotheses in order."""
    by_service = {h.service: h for h in deterministic.hypotheses}
    ranked = [
        by_service[s.service].model_copy(
            update={
                "fault_type": s.fault_type,
                "confidence": round(s.confidence, 4),
                "evidence_ids": list(dict.fromkeys(s.evidence_ids)),
                "rationale": redact(s.rationale),
            }
        )
        for s in assessment.ranking
    ]
    chosen = {h.service for h in ranked}
    rest = [h for h in deterministic.hypotheses if h.service not in chosen]
    known = {e.id for e in deterministic.evidence}
    hypotheses = [*ranked, *rest]
    evidence = [*deterministic.evidence, *(e for e in new_evidence if e.id not in known)]
    verdict, reason = judge(hypotheses, evidence)
    notes = [*deterministic.notes, note]
    if assessment.summary:
        notes.append(f"LLM summary: {redact(assessment.summary)}")
    return deterministic.model_copy(
        update={
            "hypotheses": hypotheses,
            "evidence": evidence,
            "verdict": verdict,
            "verdict_reason": f"After LLM re-ranking: {reason}",
            "notes": notes,
            "engine": engine,
        }
    )


def _concerns(item: Evidence, service: str) -> bool:
    return service in (item.service, item.peer)


def _shown(text: str) -> str:
    """Model-chosen text quoted in a reason: short and masked, never a payload."""
    return redact(text if len(text) <= 80 else text[:79] + "…")
