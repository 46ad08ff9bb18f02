"""Span-level changes per operation and per call edge (TraceRCA-style).

A slow callee makes every caller slow, so end-to-end duration says little
about where the time went. Self time (a span's duration minus its children's)
stays with the service that spent it: a caller whose callee got slow keeps its
self time, so callers are demoted by construction. On a client span, self time
is the wire: the gap between the caller asking and the callee answering, so a
grown gap is kept as an edge (caller -> callee) to be resolved later against
the other edges of both ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from tools.analysis.robust import Baseline, deviation
from tools.analysis.split import Split
from tools.telemetry.models import SpanStats

TraceShiftKind = Literal["self_time", "edge_gap", "errors", "calls_dropped"]
MIN_SPANS = 5
SELF_FLOOR_MS = 1.0
MIN_EXPECTED_DROPPED = 8.0


@dataclass(frozen=True, slots=True)
class TraceShift:
    """One operation (or call edge) whose behaviour changed."""

    kind: TraceShiftKind
    service: str
    operation: str
    peer: str
    baseline: float
    current: float
    z: float
    current_spans: int
    share_of_time: float


@dataclass(slots=True)
class _Matrix:
    """Per (operation group x time bucket) sums over the whole window."""

    keys: list[tuple[str, str, str]]
    buckets: np.ndarray
    is_base: np.ndarray
    count: np.ndarray
    self_ms: np.ndarray
    errors: np.ndarray

    def baseline(self, m: np.ndarray) -> np.ndarray:
        return m[:, self.is_base]

    def since(self, m: np.ndarray, onset: float) -> np.ndarray:
        return m[:, self.buckets >= onset].sum(axis=1)


def trace_shifts(stats: SpanStats, split: Split, bucket_s: float) -> list[TraceShift]:
    """Operations and edges whose self time, errors or call share moved, strongest first.

    Each candidate fault start of the split is tried and the strongest reading
    of every operation kept.
    """
    matrix = _aggregate(stats, split)
    if matrix is None:
        return []
    best: dict[tuple[str, str, str, str], TraceShift] = {}
    for onset in split.onsets(bucket_s):
        if not (matrix.buckets >= onset).any():
            continue
        for shift in (
            *_self_time_shifts(matrix, onset),
            *_error_shifts(matrix, onset),
            *_dropped_call_shifts(matrix, onset),
        ):
            key = (shift.kind, shift.service, shift.operation, shift.peer)
            if key not in best or shift.z > best[key].z:
                best[key] = shift
    return sorted(best.values(), key=lambda s: -s.z)


def _aggregate(stats: SpanStats, split: Split) -> _Matrix | None:
    """Lay span sums out as (service, operation, callee) x bucket matrices."""
    if len(stats) == 0:
        return None
    buckets, column = np.unique(stats.bucket_s, return_inverse=True)
    is_base = buckets < split.onset_s
    if not is_base.any() or is_base.all():
        return None
    keys = list(zip(stats.service, stats.operation, stats.peer, strict=True))
    names = sorted(set(keys))
    row = {k: i for i, k in enumerate(names)}
    rows = np.fromiter((row[k] for k in keys), dtype=np.int64, count=len(keys))

    def matrix(values: np.ndarray) -> np.ndarray:
        out = np.zeros((len(names), len(buckets)))
        np.add.at(out, (rows, column), values)
        return out

    return _Matrix(
        keys=[(str(a), str(b), str(c)) for a, b, c in names],
        buckets=buckets,
        is_base=is_base,
        count=matrix(stats.count),
        self_ms=matrix(stats.self_ms),
        errors=matrix(stats.errors),
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _self_time_shifts(m: _Matrix, onset: float) -> list[TraceShift]:
    base_means = _ratio(m.baseline(m.self_ms), m.baseline(m.count))
    now_count = m.since(m.count, onset)
    now_self = m.since(m.self_ms, onset)
    total_self = float(now_self.sum()) or 1.0
    out = []
    for g, (service, operation, peer) in enumerate(m.keys):
        if now_count[g] < MIN_SPANS:
            continue
        baseline = Baseline.of(base_means[g], SELF_FLOOR_MS, 0.2)
        value = float(now_self[g] / now_count[g])
        z = deviation(value, baseline, "up")
        if z >= 3.0:
            kind: TraceShiftKind = "edge_gap" if peer else "self_time"
            out.append(
                TraceShift(
                    kind,
                    service,
                    operation,
                    peer,
                    baseline.median,
                    value,
                    z,
                    int(now_count[g]),
                    float(now_self[g]) / total_self,
                )
            )
    return out


def _error_shifts(m: _Matrix, onset: float) -> list[TraceShift]:
    if not m.errors.any():
        return []
    base_rates = _ratio(m.baseline(m.errors), m.baseline(m.count))
    now_count = m.since(m.count, onset)
    now_errors = m.since(m.errors, onset)
    out = []
    for g, (service, operation, peer) in enumerate(m.keys):
        if now_count[g] < MIN_SPANS or now_errors[g] == 0:
            continue
        baseline = Baseline.of(base_rates[g], 0.02)
        value = float(now_errors[g] / now_count[g])
        z = deviation(value, baseline, "up")
        if z >= 3.0:
            out.append(
                TraceShift(
                    "errors",
                    service,
                    operation,
                    peer,
                    baseline.median,
                    value,
                    z,
                    int(now_count[g]),
                    0.0,
                )
            )
    return out


def _dropped_call_shifts(m: _Matrix, onset: float) -> list[TraceShift]:
    """Operations that stopped being called while their service kept serving.

    Compared as the operation's share of its service's spans, so a drop in
    overall traffic does not register.
    """
    services = np.array([k[0] for k in m.keys], dtype=object)
    base_counts = m.baseline(m.count)
    now_counts = m.since(m.count, onset)
    out = []
    for service in np.unique(services):
        rows = np.flatnonzero(services == service)
        served_base = base_counts[rows].sum(axis=0)
        served_now = float(now_counts[rows].sum())
        live = served_base > 0
        if served_now < MIN_SPANS or not live.any():
            continue
        shares = np.median(base_counts[rows][:, live] / served_base[live], axis=1)
        for g, share in zip(rows, shares, strict=True):
            expected = float(share) * served_now
            observed = float(now_counts[g])
            z = (expected - observed) / np.sqrt(expected + 1.0)
            if expected >= MIN_EXPECTED_DROPPED and observed <= expected / 3 and z >= 3.0:
                _, operation, peer = m.keys[g]
                out.append(
                    TraceShift(
                        "calls_dropped",
                        str(service),
                        operation,
                        peer,
                        expected,
                        observed,
                        float(z),
                        int(observed),
                        0.0,
                    )
                )
    return out
