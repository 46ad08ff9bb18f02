"""Span shifts as evidence: self time, slow call edges, failures, calls that stopped."""

from __future__ import annotations

from agent.isolation.evidence import Evidence, EvidenceQuery, make_evidence, window_args
from tools.analysis.robust import log_squash
from tools.analysis.split import BUCKET_S, Split
from tools.analysis.trace_shifts import TraceShift, trace_shifts
from tools.telemetry.models import SpanStats


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


def read(spans: SpanStats, split: Split) -> list[TraceShift]:
    """Span shifts over the split, counted finely and folded into onset-aligned buckets."""
    return trace_shifts(spans, split, BUCKET_S)


def evidence(shift: TraceShift, split: Split) -> Evidence:
    """One sentence for a moved operation or edge; slowdowns weighed by their share of time."""
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
    return make_evidence(
        "trace",
        EvidenceQuery(tool="summarize_traces", args={**args, **window_args(split)}),
        service=shift.service,
        summary=summary,
        summary_ja=summary_ja,
        strength=strength,
        signal=f"trace_{shift.kind}",
        values={"z": shift.z, "current": shift.current, "baseline": shift.baseline},
        peer=shift.peer,
    )
