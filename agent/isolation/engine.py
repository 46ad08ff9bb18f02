"""The deterministic isolation engine: from alerts and telemetry to ranked hypotheses.

    alerts -> plausible fault windows (baseline | since each onset), weighed
           -> per window: evidence (metrics, logs, traces in parallel; changes),
              per-service features, ranking (fitted weights, softmax)
           -> probabilities averaged over the windows, then calibrated (averaging.py)
           -> hypotheses with fault type, evidence ids and a verdict

No step reads anything after the backend's clock, and nothing here knows a
dataset, a system or a service name.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.alert.models import Alert
from agent.isolation.averaging import averaged
from agent.isolation.collect import collect
from agent.isolation.evidence import Evidence
from agent.isolation.fault_type import classify
from agent.isolation.features import ServiceFeatures, evidence_features
from agent.isolation.models import Hypothesis, Isolation, Verdict, WindowRanking
from agent.isolation.ranking import CaseMatrix, RankingModel, build_case, load_model
from agent.isolation.signals.changes import change_evidence
from agent.isolation.snapshot import Snapshot, fetch
from agent.isolation.window import FaultWindow, fault_windows, snapshot_window
from tools.analysis.harm import HarmReading, harmed_services
from tools.analysis.split import Split
from tools.telemetry.backend import TelemetryBackend
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
# An alert that began longer ago than this (re-sent while it kept firing, or a sender's
# clock gone wrong) is read as if it began then: the engine reads from before the alert
# up to now, and days of telemetry would cost minutes of triage, not a better answer.
MAX_ALERT_AGE_S = 6 * 3600.0


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
    shipped ranking model unless another is given (the eval's held-out models). When
    several onsets could explain the alert, the ranking is averaged over them and each
    suspect cites the evidence of the window that indicts it most."""
    model = model or load_model()
    weighed = investigate_onsets(backend, alerts)
    windows = [_window_ranking(i, weight, model) for i, weight in weighed]
    ranked = averaged(model, windows)
    investigations = [i for i, _ in weighed]
    primary = investigations[ranked[0].window if ranked else 0]
    cited = [_evidence_by_service(i.evidence, i.features) for i in investigations]
    hypotheses = [
        _hypothesis(s.service, s.score, s.confidence, cited[s.window].get(s.service, []), backend)
        for s in ranked
    ]
    evidence = _shown_evidence(primary.evidence, hypotheses, investigations)
    verdict, reason = judge(hypotheses, evidence)
    hypotheses = honest(hypotheses, verdict)
    split, window = primary.split, primary.window
    return Isolation(
        hypotheses=hypotheses,
        evidence=evidence,
        verdict=verdict,
        verdict_reason=reason,
        onset=from_epoch(split.onset_s),
        fault_end=from_epoch(split.end_s) if split.end_s is not None else None,
        onset_from_data=window.onset.found,
        service_onsets={s: from_epoch(t) for s, t in window.onset.per_service.items()},
        baseline_start=from_epoch(split.start_s),
        windows=windows,
        now=backend.now,
        notes=[*_age_note(alerts, backend.now_s), *primary.notes, *_onsets_note(weighed, primary)],
        harmed=harmed_services(primary.health) if primary.health is not None else None,
    )


def _window_ranking(
    investigation: Investigation, weight: float, model: RankingModel
) -> WindowRanking:
    scored, backed = model.scored(investigation.case)
    return WindowRanking(
        onset=from_epoch(investigation.split.onset_s),
        weight=weight,
        scores=scored,
        backed=backed,
    )


def investigate_onsets(
    backend: TelemetryBackend, alerts: list[Alert]
) -> list[tuple[Investigation, float]]:
    """An investigation of every plausible fault window, with its weight (one fetch)."""
    alert_s, snapshot = _fetched(backend, alerts)
    windows = fault_windows(snapshot, alert_s, backend.now_s)
    return [(_investigate(backend, alerts, snapshot, w), weight) for w, weight in windows.plausible]


def investigate_for_fit(
    backend: TelemetryBackend, alerts: list[Alert]
) -> tuple[Investigation, list[tuple[Investigation, float]]]:
    """The most recent clear onset's investigation (the weights are fitted on it) and
    every plausible window's (the calibration reads them), from one fetch; the latest is
    investigated again only when it is not among the plausible windows."""
    alert_s, snapshot = _fetched(backend, alerts)
    windows = fault_windows(snapshot, alert_s, backend.now_s)
    weighed = [
        (_investigate(backend, alerts, snapshot, w), weight) for w, weight in windows.plausible
    ]
    latest = next((i for i, _ in weighed if i.split == windows.latest.split), None)
    return latest or _investigate(backend, alerts, snapshot, windows.latest), weighed


def _fetched(backend: TelemetryBackend, alerts: list[Alert]) -> tuple[float, Snapshot]:
    """The alert's time and everything the triage reads, fetched once."""
    alert_s = alert_time(alerts, backend.now_s)
    return alert_s, fetch(backend, snapshot_window(alert_s, backend.now_s))


def _investigate(
    backend: TelemetryBackend, alerts: list[Alert], snapshot: Snapshot, window: FaultWindow
) -> Investigation:
    """Evidence and the ranking's matrix for one fault window of the fetched snapshot."""
    split = window.split
    topology = backend.topology()
    findings = collect(backend, snapshot, split, topology)
    notes = list(findings.notes)
    changes = change_evidence(snapshot.changes or [], split, snapshot.series)
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


def _shown_evidence(
    primary: list[Evidence], hypotheses: list[Hypothesis], windows: list[Investigation]
) -> list[Evidence]:
    """The top suspect's window's evidence, plus what suspects read in other windows cite."""
    shown = {e.id: e for e in primary}
    wanted = {i for h in hypotheses for i in h.evidence_ids} - shown.keys()
    for investigation in windows:
        for item in investigation.evidence:
            if item.id in wanted and item.id not in shown:
                shown[item.id] = item
    return list(shown.values())


def _onsets_note(weighed: list[tuple[Investigation, float]], primary: Investigation) -> list[str]:
    """Says which onsets the ranking was averaged over (none when only one)."""
    if len(weighed) < 2:
        return []
    onsets = ", ".join(
        f"{from_epoch(i.split.onset_s):%H:%M} UTC ({weight:.0%})"
        for i, weight in sorted(weighed, key=lambda pair: pair[0].split.onset_s)
    )
    shown = f"{from_epoch(primary.split.onset_s):%H:%M} UTC"
    if not primary.window.onset.found:
        return [
            f"No onset stands out in the data: the fault may have begun at {onsets};"
            f" the ranking is averaged over them, and the window shown starts at {shown}."
        ]
    return [
        f"Several onsets could explain the alert: {onsets}; the ranking is averaged over"
        f" them, and the window is the top suspect's (from {shown})."
    ]


def alert_time(alerts: list[Alert], now_s: float) -> float:
    """When the earliest firing alert began (or now, without one): the latest the fault
    can have begun; at most MAX_ALERT_AGE_S ago."""
    return max(_alert_began(alerts, now_s), now_s - MAX_ALERT_AGE_S)


def _alert_began(alerts: list[Alert], now_s: float) -> float:
    firing = [to_epoch(a.starts_at) for a in alerts if a.status == "firing"]
    started = [to_epoch(a.starts_at) for a in alerts]
    return min(*(firing or started or [now_s]), now_s)


def _age_note(alerts: list[Alert], now_s: float) -> list[str]:
    """Says so when the alert began too long ago to be read from its start."""
    began = _alert_began(alerts, now_s)
    if began >= now_s - MAX_ALERT_AGE_S:
        return []
    hours = MAX_ALERT_AGE_S / 3600
    return [
        f"The alert began {from_epoch(began):%Y-%m-%d %H:%M} UTC, more than {hours:.0f} h ago:"
        f" the engine read the telemetry as if it began {hours:.0f} h ago."
    ]


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
    elsewhere = disagreeing(top, evidence)
    if elsewhere:
        return "inconclusive", f"The signals disagree: {lead}, but {elsewhere}."
    if top.confidence >= CONCLUSIVE:
        return "conclusive", f"{top.service} stands out ({shown(top.confidence)} confidence)."
    then = runner.service if runner is not None else "nothing"
    return "inconclusive", f"Signals are weak: {lead}, then {then}."


def shown(confidence: float) -> str:
    """A confidence as people read it: never 100 % (nothing here is certain)."""
    return f"{min(confidence, MAX_CONFIDENCE):.0%}"


def disagreeing(top: Hypothesis, evidence: list[Evidence]) -> str:
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
