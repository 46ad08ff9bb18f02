"""Spans as the live stores hand them back, and the SpanFrame the replay store computes.

X-Ray and Datadog APM return spans with parent links; self time and the
services across each call edge are computed here exactly as the replay store
computes them at ingest (tools/telemetry/replay/store.py), so a trace has the
same summary whichever store it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.telemetry.backend import empty_span_frame
from tools.telemetry.models import SPAN_COLUMNS, SpanFrame


@dataclass(slots=True)
class Span:
    id: str
    parent: str
    service: str
    instance: str
    operation: str
    start_s: float
    duration_ms: float
    error: bool
    trace_id: str


def span_frame(spans: list[Span]) -> SpanFrame:
    """Spans as a SpanFrame, with self time and the services across each call edge
    computed as the replay store does (parent = the caller's span, ids within a trace)."""
    if not spans:
        return empty_span_frame()
    owner: dict[tuple[str, str], Span] = {(s.trace_id, s.id): s for s in spans}
    children: dict[tuple[str, str], list[Span]] = {}
    for s in spans:
        if (s.trace_id, s.parent) in owner:
            children.setdefault((s.trace_id, s.parent), []).append(s)
    rows = []
    for s in sorted(spans, key=lambda x: x.start_s):
        kids = children.get((s.trace_id, s.id), [])
        longest = max(kids, key=lambda k: k.duration_ms).service if kids else ""
        parent = owner.get((s.trace_id, s.parent))
        rows.append(
            (
                s.start_s,
                s.trace_id,
                s.service,
                s.instance,
                s.operation,
                s.duration_ms,
                max(s.duration_ms - sum(k.duration_ms for k in kids), 0.0),
                "error" if s.error else "ok",
                parent.service if parent else "",
                "" if longest == s.service else longest,
            )
        )
    columns = list(zip(*rows, strict=True))
    numeric = {"ts", "duration_ms", "self_ms"}
    return SpanFrame(
        **{
            name: np.array(col, dtype=np.float64 if name in numeric else object)
            for name, col in zip(SPAN_COLUMNS, columns, strict=True)
        }
    )
