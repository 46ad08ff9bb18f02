"""Gather evidence for one incident: every analysis, run in parallel, as Evidence.

Each signal module (agent/isolation/signals/) reads one telemetry kind through
the backend's read-only queries and words its findings as Evidence: a stable
id, the query that reproduces it and one sentence a responder can read.
Strength is a squashed robust z times how strongly that kind of signal indicts
the service it names, so evidence from metrics, logs and traces can be compared.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from agent.isolation.evidence import Evidence
from agent.isolation.signals import logs, metrics, traces
from agent.isolation.signals.security import security_evidence, siem_findings
from agent.isolation.signals.surge import surge_evidence
from agent.isolation.snapshot import Snapshot
from tools.analysis.harm import HarmReading
from tools.analysis.log_shifts import LogShift
from tools.analysis.metric_shifts import MetricShift
from tools.analysis.security import SecurityFinding
from tools.analysis.split import Split
from tools.analysis.trace_shifts import TraceShift
from tools.telemetry.backend import TelemetryBackend, TelemetryError
from tools.telemetry.models import Topology

EVIDENCE_PER_SERVICE = 12
# No one signal may crowd the others out of a service's evidence.
EVIDENCE_PER_SIGNAL = 4


@dataclass(slots=True)
class Findings:
    """Raw analysis output plus the Evidence made from it."""

    metrics: list[MetricShift] = field(default_factory=list)
    logs: list[LogShift] = field(default_factory=list)
    traces: list[TraceShift] = field(default_factory=list)
    security: list[SecurityFinding] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Each service's request errors and latency before and during (tools.analysis.harm);
    # None when no metrics could be read.
    health: dict[str, HarmReading] | None = None


def collect(
    backend: TelemetryBackend, snapshot: Snapshot, split: Split, topology: Topology
) -> Findings:
    """Run the metric, log, trace and security analyses side by side over the snapshot
    and build evidence. A kind the snapshot lacks is skipped (its notes say why)."""
    services = set(backend.services())
    jobs: dict[str, Callable[[], Any]] = {}
    if snapshot.series is not None:
        jobs["metrics"] = partial(metrics.read, snapshot.series, split, services)
    if snapshot.counts is not None and snapshot.security_lines is not None:
        jobs["logs"] = partial(logs.read, snapshot.counts, snapshot.security_lines, split)
    if snapshot.spans is not None:
        jobs["traces"] = partial(traces.read, snapshot.spans, split)
    if snapshot.siem is not None:
        jobs["siem"] = partial(siem_findings, snapshot.siem, split)
    notes = list(snapshot.notes)
    results: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=max(len(jobs), 1)) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except TelemetryError as error:
                notes.append(f"{name} unavailable: {error}")
    metric_shifts, health = results.get("metrics", ([], None))
    log_shifts, security = results.get("logs", ([], []))
    findings = Findings(
        metrics=metric_shifts,
        logs=log_shifts,
        traces=results.get("traces", []),
        security=[*security, *results.get("siem", [])],
        notes=notes,
        health=health,
    )
    metric_evidence = [metrics.evidence(m, split) for m in metric_shifts if m.z >= metrics.MIN_Z]
    findings.evidence = _limit(
        [
            *metric_evidence,
            *surge_evidence(metric_evidence, topology),
            *(logs.evidence(s, split) for s in findings.logs),
            *(traces.evidence(t, split) for t in findings.traces),
            *security_evidence(findings.security, split),
        ]
    )
    return findings


def _limit(evidence: list[Evidence]) -> list[Evidence]:
    """Keep the strongest items per service so the evidence list stays readable:
    the strongest of every signal first (so a dozen latency percentiles cannot
    hide that the same service's error rate or traffic moved too), then the
    next strongest, no more than a few of one signal."""
    ranked = sorted(evidence, key=lambda e: (-e.strength, e.id))
    first: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for item in ranked:
        if (item.service, item.signal) not in seen:
            seen.add((item.service, item.signal))
            first.add(item.id)
    kept: dict[str, int] = {}
    per_signal: dict[tuple[str, str], int] = {}
    out = []
    for item in [e for e in ranked if e.id in first] + [e for e in ranked if e.id not in first]:
        key = (item.service, item.signal)
        room = item.id in first or (
            kept.get(item.service, 0) < EVIDENCE_PER_SERVICE
            and per_signal.get(key, 0) < EVIDENCE_PER_SIGNAL
        )
        if room:
            kept[item.service] = kept.get(item.service, 0) + 1
            per_signal[key] = per_signal.get(key, 0) + 1
            out.append(item)
    return sorted(out, key=lambda e: (-e.strength, e.id))
