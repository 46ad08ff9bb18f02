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

from tools.analysis.codes import factorize
from tools.analysis.robust import (
    Baselines,
    count_dispersion,
    deviations,
    poisson_z,
    row_quantiles,
)
from tools.analysis.split import Split
from tools.telemetry.models import SpanStats

TraceShiftKind = Literal["self_time", "edge_gap", "errors", "calls_dropped"]
MIN_SPANS = 5
MIN_Z = 3.0
SELF_FLOOR_MS = 1.0
SELF_REL_FLOOR = 0.2
ERROR_RATE_FLOOR = 0.02
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
    """Per (operation group x live bucket) sums over the whole window; buckets are
    aligned on the onset, `live` holds their indices (negative before the onset)."""

    keys: list[tuple[str, str, str]]
    owner: np.ndarray  # each group's service, as an index into `services`
    services: list[str]
    live: np.ndarray
    count: np.ndarray
    self_ms: np.ndarray
    errors: np.ndarray

    def before(self, m: np.ndarray, onset: int) -> np.ndarray:
        return m[:, self.live < onset]

    def since(self, m: np.ndarray, onset: int) -> np.ndarray:
        return m[:, self.live >= onset].sum(axis=1)


def trace_shifts(stats: SpanStats, split: Split, bucket_s: float) -> list[TraceShift]:
    """Operations and edges whose self time, errors or call share moved, strongest first.

    `stats` may be finer than `bucket_s`; it is folded into onset-aligned buckets.
    Each candidate fault start of the split is tried, with everything before it
    as the baseline, and the strongest reading of every operation kept.
    """
    matrix = _aggregate(stats, split, bucket_s)
    if matrix is None:
        return []
    best: dict[tuple[str, str, str, str], TraceShift] = {}
    for onset in split.onset_buckets(bucket_s):
        if not (matrix.live >= onset).any() or not (matrix.live < onset).any():
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


def _aggregate(stats: SpanStats, split: Split, bucket_s: float) -> _Matrix | None:
    """Lay span sums out as (service, operation, callee) x live bucket matrices."""
    index = split.bucket_of(stats.bucket_s, bucket_s)
    inside = (index <= split.last_bucket(bucket_s)) & (stats.bucket_s >= split.start_s)
    if not inside.all():
        stats, index = stats.take(inside), index[inside]
    if len(stats) == 0:
        return None
    live, column = np.unique(index, return_inverse=True)
    services, service_code = factorize(stats.service)
    operations, operation_code = factorize(stats.operation)
    peers, peer_code = factorize(stats.peer)
    code = (service_code * len(operations) + operation_code) * len(peers) + peer_code
    groups, rows = np.unique(code, return_inverse=True)
    operation_of, peer_of = np.divmod(groups, len(peers))
    owner, operation_of = np.divmod(operation_of, len(operations))

    def matrix(values: np.ndarray) -> np.ndarray:
        out = np.zeros((len(groups), len(live)))
        np.add.at(out, (rows, column), values)
        return out

    return _Matrix(
        keys=[
            (services[s], operations[o], peers[p])
            for s, o, p in zip(owner, operation_of, peer_of, strict=True)
        ],
        owner=owner,
        services=services,
        live=live,
        count=matrix(stats.count),
        self_ms=matrix(stats.self_ms),
        errors=matrix(stats.errors),
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _self_time_shifts(m: _Matrix, onset: int) -> list[TraceShift]:
    """Operations whose mean self time per span rose, against their per-bucket means
    (widened by the spikes they make routinely)."""
    base_means = _ratio(m.before(m.self_ms, onset), m.before(m.count, onset))
    now_count = m.since(m.count, onset)
    now_self = m.since(m.self_ms, onset)
    n = len(m.keys)
    baselines = Baselines.of(base_means, np.full(n, SELF_FLOOR_MS), np.full(n, SELF_REL_FLOOR))
    value = now_self / np.maximum(now_count, 1.0)
    z = deviations(value, baselines, "up")
    share = now_self / (float(now_self.sum()) or 1.0)
    return [
        TraceShift(
            "edge_gap" if m.keys[g][2] else "self_time",
            *m.keys[g],
            baseline=float(baselines.median[g]),
            current=float(value[g]),
            z=float(z[g]),
            current_spans=int(now_count[g]),
            share_of_time=float(share[g]),
        )
        for g in np.flatnonzero((now_count >= MIN_SPANS) & (z >= MIN_Z))
    ]


def _error_shifts(m: _Matrix, onset: int) -> list[TraceShift]:
    """Operations whose share of failed spans rose."""
    if not m.errors.any():
        return []
    n = len(m.keys)
    baselines = Baselines.of(
        _ratio(m.before(m.errors, onset), m.before(m.count, onset)),
        np.full(n, ERROR_RATE_FLOOR),
        np.zeros(n),
    )
    now_count = m.since(m.count, onset)
    now_errors = m.since(m.errors, onset)
    value = now_errors / np.maximum(now_count, 1.0)
    z = deviations(value, baselines, "up")
    return [
        TraceShift(
            "errors",
            *m.keys[g],
            baseline=float(baselines.median[g]),
            current=float(value[g]),
            z=float(z[g]),
            current_spans=int(now_count[g]),
            share_of_time=0.0,
        )
        for g in np.flatnonzero((now_count >= MIN_SPANS) & (now_errors > 0) & (z >= MIN_Z))
    ]


def _dropped_call_shifts(m: _Matrix, onset: int) -> list[TraceShift]:
    """Operations that stopped being called while their service kept serving.

    Compared as the operation's share of its service's spans, so a drop in
    overall traffic does not register; an operation whose share wanders with
    the request mix is judged against its own wander.
    """
    base_counts = m.before(m.count, onset)
    served_base = np.zeros((len(m.services), base_counts.shape[1]))
    np.add.at(served_base, m.owner, base_counts)
    served = served_base[m.owner]
    shares = np.where(served > 0, base_counts / np.where(served > 0, served, 1.0), np.nan)
    (share,) = row_quantiles(shares, (0.5,))
    share = np.nan_to_num(share)
    now_counts = m.since(m.count, onset)
    served_now = np.bincount(m.owner, weights=now_counts, minlength=len(m.services))[m.owner]
    expected = share * served_now
    dispersion = count_dispersion(base_counts, served, share, 1.0)
    z = -poisson_z(now_counts, expected) / np.sqrt(dispersion)
    dropped = (
        (served_now >= MIN_SPANS)
        & (expected >= MIN_EXPECTED_DROPPED)
        & (now_counts <= expected / 3)
        & (z >= MIN_Z)
    )
    return [
        TraceShift(
            "calls_dropped",
            *m.keys[g],
            baseline=float(expected[g]),
            current=float(now_counts[g]),
            z=float(z[g]),
            current_spans=int(now_counts[g]),
            share_of_time=0.0,
        )
        for g in np.flatnonzero(dropped)
    ]
