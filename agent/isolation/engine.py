"""The deterministic isolation engine: from alerts and telemetry to ranked hypotheses.

    alerts -> split (baseline | since onset)
           -> evidence (metrics, logs, traces in parallel; changes)
           -> per-service features -> ranking (fitted weights, softmax, calibration)
           -> hypotheses with fault type, evidence ids and a verdict

No step reads anything after the backend's clock, and nothing here knows a
dataset, a system or a service name.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.alert.models import Alert
from agent.isolation.collect import collect
from agent.isolation.evidence import Evidence
from agent.isolation.fault_type import classify
from agent.isolation.features import ServiceFeatures, evidence_features
from agent.isolation.models import Hypothesis, Isolation, Verdict
from agent.isolation.ranking import CaseMatrix, RankingModel, build_case, load_model
from agent.isolation.signals.changes import change_evidence
from agent.isolation.snapshot import fetch
from agent.isolation.window import FaultWindow, fault_window, snapshot_window
from tools.analysis.harm import HarmReading, harmed_services
from tools.analysis.split import Split
from tools.telemetry.backend import TelemetryBackend, TelemetryError
from tools.telemetry.models import from_epoch, to_epoch

CONCLUSIVE = 0.5
# A runner-up this close to the leader (share of its confidence) makes it a call too close.
CLOSE = 0.6
# A kind of telemetry disagrees when its strongest item (>= DISAGREE) indicts another
# service and nothing of that kind (>= AGREE) backs the leader.
DISAGREE = 0.6
AGREE = 0.3
MAX_CONFIDENCE = 0.99
NO_SIGNAL_CAP = 0.15
# What the telemetry showed (changes and past incidents are context, not symptoms).
SYMPTOMS = frozenset({"metric", "log", "trace"})
EVIDENCE_PER_HYPOTHESIS = 6


@dataclass(slots=True)
class Investigation:
    """The evidence gathered for one incident and the matrix the ranking reads."""

    split: Split
    evidence: list[Evidence]
    features: dict[str, ServiceFeatures]
    case: CaseMatrix
    notes: list[str]
    window: FaultWindow
    health: dict[str, HarmReading] | None = None


def isolate(
    backend: TelemetryBackend, alerts: list[Alert], model: RankingModel | None = None
) -> Isolation:
    """Rank suspects for the fault behind `alerts`, as of the backend's clock, with the
    shipped ranking model unless another is given (the eval's held-out models)."""
    investigation = investigate(backend, alerts)
    ranked = (model or load_model()).rank(investigation.case)
    by_service = _evidence_by_service(investigation.evidence, investigation.features)
    hypotheses = [
        _hypothesis(service, score, confidence, by_service.get(service, []), backend)
        for service, score, confidence in ranked
    ]
    verdict, reason = judge(hypotheses, investigation.evidence)
    hypotheses = honest(hypotheses, verdict)
    split, window = investigation.split, investigation.window
    return Isolation(
        hypotheses=hypotheses,
        evidence=investigation.evidence,
        verdict=verdict,
        verdict_reason=reason,
        onset=from_epoch(split.onset_s),
        fault_end=from_epoch(split.end_s) if split.end_s is not None else None,
        onset_from_data=window.onset.found,
        service_onsets={s: from_epoch(t) for s, t in window.onset.per_service.items()},
        baseline_start=from_epoch(split.start_s),
        now=backend.now,
        notes=investigation.notes,
        harmed=harmed_services(investigation.health) if investigation.health is not None else None,
    )


def investigate(backend: TelemetryBackend, alerts: list[Alert]) -> Investigation:
    """Everything up to (not including) the ranking; the fitting code reuses it."""
    alert_s = alert_time(alerts, backend.now_s)
    snapshot = fetch(backend, snapshot_window(alert_s, backend.now_s))
    window = fault_window(snapshot, alert_s, backend.now_s)
    split = window.split
    topology = backend.topology()
    findings = collect(backend, snapshot, split, topology)
    notes = list(findings.notes)
    try:
        changes = change_evidence(backend, split, snapshot.series)
    except TelemetryError as error:
        changes = []
        notes.append(f"changes unavailable: {error}")
    services = backend.services()
    evidence = [*findings.evidence, *changes]
    table = evidence_features(evidence, services, topology)
    case = build_case(table, topology, alert_services(alerts, set(services)))
    return Investigation(
        split=split,
        evidence=evidence,
        features=table,
        case=case,
        notes=notes,
        window=window,
        health=findings.health,
    )


def alert_time(alerts: list[Alert], now_s: float) -> float:
    """When the earliest firing alert began (or now, without one): the latest the fault
    can have begun."""
    firing = [to_epoch(a.starts_at) for a in alerts if a.status == "firing"]
    started = [to_epoch(a.starts_at) for a in alerts]
    return min(*(firing or started or [now_s]), now_s)


def alert_services(alerts: list[Alert], services: set[str]) -> set[str]:
    """Known services the alerts name, in a label or a metric dimension."""
    named = {a.service for a in alerts if a.service}
    for alert in alerts:
        if alert.metric is not None:
            named |= set(alert.metric.dimensions.values())
    return named & services


def _evidence_by_service(
    evidence: list[Evidence], features: dict[str, ServiceFeatures]
) -> dict[str, list[Evidence]]:
    """Each service's evidence, strongest first: what its features were read from."""
    by_id = {e.id: e for e in evidence}
    return {
        service: sorted(
            (by_id[i] for i in {i for ids in feats.sources.values() for i in ids}),
            key=lambda e: (-e.strength, e.id),
        )
        for service, feats in features.items()
    }


def _hypothesis(
    service: str,
    score: float,
    confidence: float,
    evidence: list[Evidence],
    backend: TelemetryBackend,
) -> Hypothesis:
    node = backend.topology().node(service)
    cited = evidence[:EVIDENCE_PER_HYPOTHESIS]
    change = next((e for e in evidence if e.kind == "change" and e.strength >= 0.3), None)
    instance = next((e.instance for e in cited if e.instance), None)
    return Hypothesis(
        service=service,
        instance=instance,
        fault_type=classify(evidence, node.kind if node else "service"),
        confidence=round(confidence, 4),
        score=round(score, 4),
        evidence_ids=[e.id for e in cited],
        change_id=change.id if change else None,
        rationale=" ".join(e.summary for e in cited[:2]),
    )


def judge(hypotheses: list[Hypothesis], evidence: list[Evidence]) -> tuple[Verdict, str]:
    """The verdict on a ranking: conclusive, inconclusive or no signal, and why.

    Conclusive needs a clear lead: a calibrated top suspect at CONCLUSIVE or more,
    a runner-up well behind it, and no kind of telemetry whose strongest evidence
    points somewhere else while saying nothing about the leader.
    """
    if not any(e.kind in SYMPTOMS for e in evidence) or not hypotheses:
        changed = sorted({e.service for e in evidence if e.kind == "change"})
        also = f" Recent changes (not symptoms): {', '.join(changed)}." if changed else ""
        return "no-signal", "No metric, log or trace moved against its baseline." + also
    top = hypotheses[0]
    if not top.evidence_ids:
        return "no-signal", "No service has evidence against it."
    runner = hypotheses[1] if len(hypotheses) > 1 else None
    lead = f"{top.service} leads at {shown(top.confidence)}"
    if runner is not None and runner.confidence >= CLOSE * top.confidence:
        return "inconclusive", f"Too close to call: {lead}, {runner.service} at" + (
            f" {shown(runner.confidence)}."
        )
    elsewhere = _disagreeing(top, evidence)
    if elsewhere:
        return "inconclusive", f"The signals disagree: {lead}, but {elsewhere}."
    if top.confidence >= CONCLUSIVE:
        return "conclusive", f"{top.service} stands out ({shown(top.confidence)} confidence)."
    then = runner.service if runner is not None else "nothing"
    return "inconclusive", f"Signals are weak: {lead}, then {then}."


def shown(confidence: float) -> str:
    """A confidence as people read it: never 100 % (nothing here is certain)."""
    return f"{min(confidence, MAX_CONFIDENCE):.0%}"


def _disagreeing(top: Hypothesis, evidence: list[Evidence]) -> str:
    """The kind of telemetry whose strongest evidence indicts another service while it
    holds nothing of note against the leader, worded; '' when none does."""
    cited = set(top.evidence_ids)
    for kind in ("metric", "log", "trace"):
        mine = [e for e in evidence if e.kind == kind]
        if not mine:
            continue
        strongest = max(mine, key=lambda e: e.strength)
        backs_top = any(e.id in cited and e.strength >= AGREE for e in mine)
        if strongest.service != top.service and strongest.strength >= DISAGREE and not backs_top:
            return f"the strongest {kind} evidence points at {strongest.service}"
    return ""


def honest(hypotheses: list[Hypothesis], verdict: Verdict) -> list[Hypothesis]:
    """Confidences as far as the verdict allows: none above MAX_CONFIDENCE, and with no
    signal none above NO_SIGNAL_CAP (scaled, so the order stays)."""
    cap = NO_SIGNAL_CAP if verdict == "no-signal" else MAX_CONFIDENCE
    top = max((h.confidence for h in hypotheses), default=0.0)
    if top <= cap:
        return hypotheses
    scale = cap / top
    return [h.model_copy(update={"confidence": round(h.confidence * scale, 4)}) for h in hypotheses]
