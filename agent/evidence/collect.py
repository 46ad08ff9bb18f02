"""Gather evidence for one incident: every analysis, run in parallel, as Evidence.

Each analysis is a read-only tool over the backend; this module turns their
findings into Evidence items with a stable id, the query that reproduces them
and one sentence a responder can read. Strength is a squashed robust z times
how strongly that kind of signal indicts the service it names, so evidence
from metrics, logs and traces can be compared.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from agent.evidence.models import Evidence, EvidenceKind, EvidenceQuery
from agent.evidence.security import security_evidence, security_findings
from agent.evidence.surge import surge_evidence
from agent.severity.harm import HarmReading, measure
from tools.analysis.log_shifts import LogShift, log_shifts
from tools.analysis.metric_shifts import MetricShift, metric_shifts
from tools.analysis.robust import log_squash, squash
from tools.analysis.security import SecurityFinding
from tools.analysis.split import Split
from tools.analysis.trace_shifts import TraceShift, trace_shifts
from tools.bounds import ellipsize
from tools.redact import redact
from tools.telemetry.backend import TelemetryBackend, TelemetryError
from tools.telemetry.models import Topology, from_epoch

BUCKET_S = 60.0
# Log and span counts are fetched this finely and folded into onset-aligned buckets.
ALIGN_S = 5.0
# A robust median and spread want a score of samples; coarse metrics (5-minute
# CloudWatch periods) have fewer in the usual window and look further back.
MIN_HISTORY_POINTS = 20
LONG_LOOKBACK_S = 24 * 3600.0
METRIC_MIN_Z = 3.0
EVIDENCE_PER_SERVICE = 12
# No one signal may crowd the others out of a service's evidence.
EVIDENCE_PER_SIGNAL = 4
# Which telemetry kind each analysis reads (a failing kind is named in the notes).
READS = {"metrics": "metrics", "logs": "logs", "traces": "traces"}


@dataclass(slots=True)
class Findings:
    """Raw analysis output plus the Evidence made from it."""

    metrics: list[MetricShift] = field(default_factory=list)
    logs: list[LogShift] = field(default_factory=list)
    traces: list[TraceShift] = field(default_factory=list)
    security: list[SecurityFinding] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Each service's request errors and latency before and during (agent.severity.harm);
    # None when no metrics could be read.
    health: dict[str, HarmReading] | None = None


def collect(backend: TelemetryBackend, split: Split, topology: Topology | None = None) -> Findings:
    """Run the metric, log, trace and security analyses side by side and build evidence.

    A telemetry kind whose store fails (TelemetryError) is left out and named in
    the notes; the others still count.
    """
    kinds = backend.kinds()
    services = set(backend.services())
    jobs: dict[str, Callable[[], Any]] = {}
    if "metrics" in kinds:
        jobs["metrics"] = lambda: _metric_shifts(backend, split, services)
    if "logs" in kinds:
        jobs["logs"] = lambda: _logs(backend, split)
    if "traces" in kinds:
        jobs["traces"] = lambda: trace_shifts(
            backend.span_stats(split.window, ALIGN_S), split, BUCKET_S
        )
    notes = [
        f"no {k} in this telemetry store" for k in ("metrics", "logs", "traces") if k not in kinds
    ]
    results: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=max(len(jobs), 1)) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except TelemetryError as error:
                note = f"{READS[name]} unavailable: {error}"
                if note not in notes:
                    notes.append(note)
    metrics, health = results.get("metrics", ([], None))
    logs, security = results.get("logs", ([], []))
    findings = Findings(
        metrics=metrics,
        logs=logs,
        traces=results.get("traces", []),
        security=security,
        notes=notes,
        health=health,
    )
    metric_evidence = [_metric_evidence(m, split) for m in findings.metrics if m.z >= METRIC_MIN_Z]
    findings.evidence = _limit(
        [
            *metric_evidence,
            *surge_evidence(metric_evidence, topology or backend.topology()),
            *(_log_evidence(s, split) for s in findings.logs),
            *(_trace_evidence(t, split) for t in findings.traces),
            *security_evidence(findings.security, split),
        ]
    )
    return findings


def _metric_shifts(
    backend: TelemetryBackend, split: Split, services: set[str]
) -> tuple[list[MetricShift], dict[str, HarmReading]]:
    """Shifts of every series, and each service's health before and during; when
    most series have too little history in the window (coarse or gappy metrics),
    look further back for the baseline."""
    series = backend.metric_series(split.window)
    thin = sum(1 for s in series if split.is_baseline(s.ts).sum() < MIN_HISTORY_POINTS)
    if series and thin > len(series) / 2:
        split = replace(split, start_s=split.onset_s - LONG_LOOKBACK_S)
        series = backend.metric_series(split.window)
    return metric_shifts(series, split, services), measure(series, split, services)


def _logs(backend: TelemetryBackend, split: Split) -> tuple[list[LogShift], list[SecurityFinding]]:
    """Template shifts, then the security detectors (which read the same counts)."""
    counts = backend.log_template_counts(split.window, ALIGN_S)
    return log_shifts(counts, split, BUCKET_S), security_findings(backend, split, counts)


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


def _window_args(split: Split, since_s: float | None = None) -> dict[str, Any]:
    return {
        "baseline_start": _iso(from_epoch(split.start_s)),
        "onset": _iso(from_epoch(since_s if since_s is not None else split.onset_s)),
        "end": _iso(from_epoch(split.now_s)),
    }


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def _make(kind: EvidenceKind, query: EvidenceQuery, **fields: Any) -> Evidence:
    """Evidence with the stable id of (kind, query, service, signal)."""
    subject = f"{fields['service']}|{fields['signal']}"
    return Evidence(id=Evidence.make_id(kind, query, subject), kind=kind, query=query, **fields)


def _metric_evidence(shift: MetricShift, split: Split) -> Evidence:
    key, fam = shift.key, shift.family
    where = f"{key.service} ({key.instance})" if key.instance else key.service
    verb = {"up": "rose to", "down": "fell to"}.get(fam.direction, "moved to")
    owner = "" if shift.service == key.service else f", which points at {shift.service}"
    summary = (
        f"{key.metric} of {where} {verb} {shift.current:.4g} against a normal of "
        f"{shift.baseline.median:.4g} (robust z {shift.z:.1f}){owner}."
    )
    verb_ja = {"up": "上昇", "down": "低下"}.get(fam.direction, "変化")
    owner_ja = "" if shift.service == key.service else f"。{shift.service}が疑われます"
    summary_ja = (
        f"{where}の{key.metric}が平常時の{shift.baseline.median:.4g}から{shift.current:.4g}に"
        f"{verb_ja}しました（ロバストz {shift.z:.1f}）{owner_ja}。"
    )
    args = {"service": key.service, "metric": key.metric, "instance": key.instance or None}
    return _make(
        "metric",
        EvidenceQuery(tool="summarize_metric", args={**args, **_window_args(split)}),
        service=shift.service,
        summary=summary,
        summary_ja=summary_ja,
        strength=log_squash(shift.z) * fam.weight,
        signal=fam.name,
        values={"z": shift.z, "current": shift.current, "baseline": shift.baseline.median},
        instance=key.instance if shift.service == key.service else "",
        peer="" if shift.service == key.service else key.service,
    )


LOG_WEIGHT = {
    ("new", True): 1.0,
    ("spike", True): 0.9,
    ("new", False): 0.5,
    ("spike", False): 0.3,
    ("vanished", True): 0.5,
    ("vanished", False): 0.8,
}


def _log_evidence(shift: LogShift, split: Split) -> Evidence:
    level = shift.level or "unlevelled"
    if shift.kind == "vanished":
        summary = (
            f"{shift.service} stopped logging a usual {level} line: expected about "
            f"{shift.expected:.0f} since the onset, saw {shift.current_count}."
        )
    else:
        what = "a new" if shift.kind == "new" else "a surge of a"
        summary = (
            f"{shift.service} started logging {what} {level} line: {shift.current_count} "
            f"since the onset against about {shift.expected:.0f} expected."
        )
    summary_ja = _log_summary_ja(shift, level)
    said = gist(shift.example)
    if said:
        summary = f'{summary[:-1]}: "{redact(said)}".'
        summary_ja = f"{summary_ja[:-1]}：「{redact(said)}」。"
    signal = f"log_{shift.kind}_{'error' if shift.is_error else 'info'}"
    args = {"service": shift.service, "template": redact(shift.template)}
    return _make(
        "log",
        EvidenceQuery(
            tool="find_log_patterns", args={**args, **_window_args(split, shift.since_s)}
        ),
        service=shift.service,
        summary=summary,
        summary_ja=summary_ja,
        strength=squash(shift.z) * LOG_WEIGHT[(shift.kind, shift.is_error)],
        signal=signal,
        values={"z": shift.z, "current": shift.current_count, "expected": shift.expected},
    )


def _log_summary_ja(shift: LogShift, level: str) -> str:
    if shift.kind == "vanished":
        return (
            f"{shift.service}でいつもの{level}ログが出なくなりました（異常開始後の想定は約"
            f"{shift.expected:.0f}件、実際は{shift.current_count}件）。"
        )
    what = "新しい" if shift.kind == "new" else "急増した"
    return (
        f"{shift.service}で{what}{level}ログが出ています（異常開始後{shift.current_count}件、"
        f"通常は約{shift.expected:.0f}件）。"
    )


JSON_MESSAGE = re.compile(r'"(?:msg|message|error|err)"\s*:\s*"((?:[^"\\]|\\.)*)')
EXCEPTION_LINE = re.compile(r"\b((?:[a-z_][\w$]*\.)*[A-Z][\w$]*(?:Exception|Error))\b(?::[^\n]*)?")
GIST_CHARS = 160


def gist(example: str) -> str:
    """What a log line says, without its prefix: a JSON line's message, the text
    after a logger's ' : ', else the first line; plus the exception a stack
    trace below it names."""
    text = example.strip()
    if not text:
        return ""
    first, _, rest = text.partition("\n")
    found = JSON_MESSAGE.search(first) if first.startswith("{") else None
    if found:
        said = found.group(1)
    elif " : " in first:
        said = first.split(" : ", 1)[1]
    else:
        said = first
    thrown = EXCEPTION_LINE.search(rest)
    if thrown and thrown.group(1) not in said:
        said = f"{said} ({thrown.group(0).strip()})"
    return ellipsize(said.strip(), GIST_CHARS)


def _impact(shift: TraceShift) -> float:
    """How much of all the time spent since the onset this slowdown accounts for,
    as a factor in [0, 1]: a slow call nobody waits on is not the incident."""
    excess = shift.share_of_time * max(0.0, 1.0 - shift.baseline / max(shift.current, 1e-9))
    return min(1.0, (excess / IMPACT_FULL) ** 0.5)


IMPACT_FULL = 0.05
TRACE_SUMMARY_JA = {
    "self_time": "{service}の'{op}'呼び出し1回あたりの自処理時間が{baseline:.1f} msから"
    "{current:.1f} msに増えました。",
    "edge_gap": "{service}から{peer}への呼び出し（'{op}'）で、呼び出し元と呼び出し先の間の時間が"
    "{baseline:.1f} msから{current:.1f} msに増えました。",
    "errors": "{service}の'{op}'スパンの{current:.0%}が失敗しています（通常は{baseline:.0%}）。",
    "calls_dropped": "{service}の'{op}'呼び出しは異常開始後{current:.0f}回で、想定の約"
    "{baseline:.0f}回を下回っています。",
}
TRACE_WEIGHT = {"self_time": 1.0, "edge_gap": 0.8, "errors": 1.0, "calls_dropped": 0.6}


def _trace_evidence(shift: TraceShift, split: Split) -> Evidence:
    if shift.kind == "self_time":
        summary = (
            f"{shift.service} spends {shift.current:.1f} ms of its own time per '{shift.operation}'"
            f" call, up from {shift.baseline:.1f} ms."
        )
    elif shift.kind == "edge_gap":
        summary = (
            f"Calls from {shift.service} to {shift.peer} ('{shift.operation}') spend "
            f"{shift.current:.1f} ms between caller and callee, up from {shift.baseline:.1f} ms."
        )
    elif shift.kind == "errors":
        summary = (
            f"{shift.current:.0%} of {shift.service}'s '{shift.operation}' spans failed,"
            f" against {shift.baseline:.0%} normally."
        )
    else:
        summary = (
            f"{shift.service} made {shift.current:.0f} '{shift.operation}' calls since the onset"
            f" where about {shift.baseline:.0f} were expected."
        )
    strength = log_squash(shift.z) * TRACE_WEIGHT[shift.kind]
    summary_ja = TRACE_SUMMARY_JA[shift.kind].format(
        service=shift.service,
        peer=shift.peer,
        op=shift.operation,
        current=shift.current,
        baseline=shift.baseline,
    )
    if shift.kind in {"self_time", "edge_gap"}:
        strength *= _impact(shift)
    args = {"service": shift.service, "operation": shift.operation, "peer": shift.peer or None}
    return _make(
        "trace",
        EvidenceQuery(tool="summarize_traces", args={**args, **_window_args(split)}),
        service=shift.service,
        summary=summary,
        summary_ja=summary_ja,
        strength=strength,
        signal=f"trace_{shift.kind}",
        values={"z": shift.z, "current": shift.current, "baseline": shift.baseline},
        peer=shift.peer,
    )
