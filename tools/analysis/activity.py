"""How abnormal every signal looks, bucket by bucket: the raw material of onset detection.

The engine's other analyses compare "during" with "before"; this one asks
*when* things changed. Over a grid of buckets reaching well before the alert,
every signal (a metric series, a log template's share of its service's lines,
an operation's self time or failure share) is scored per bucket against its
own reference period (everything before `Grid.reference_end_s`), with the same
robust statistics as the evidence, and squashed onto [0, 1]. Count signals are
scanned over windows of a few buckets starting at each bucket, so a
three-minute burst adds up where one minute of it would be noise. NaN means
"no data in that bucket": logs and traces often exist only around incidents.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tools.analysis.codes import factorize
from tools.analysis.log_shifts import ERROR_WORDS
from tools.analysis.metric_families import MetricFamily, family_of
from tools.analysis.robust import (
    Baselines,
    count_dispersion,
    deviations,
    poisson_z,
    row_quantiles,
    with_routine,
)
from tools.telemetry.models import Series, SpanStats, TemplateCounts

# A signal counts from this robust z: thousands of signals are scanned over every
# bucket and a few window widths, so z = 3 would be noise somewhere every minute.
MIN_Z = 5.0
MIN_REFERENCE = 5
# Families that describe the host or the wire more than the service (or nothing at all).
SILENT_FAMILIES = frozenset({"node_other", "syscall", "network", "other"})
LOG_WEIGHT = {True: 1.0, False: 0.4}
VANISH_WEIGHT = 0.6
MIN_EXPECTED_FOR_VANISH = 8.0
MIN_SPANS = 3
SELF_FLOOR_MS = 1.0
SELF_REL_FLOOR = 0.2
ERROR_RATE_FLOOR = 0.02
# Windows (in buckets) a count signal is scanned over: a short burst or a few minutes' shift.
# A window counts only when its first bucket already moves (ANCHOR_Z), so an episode
# starts where the signal changed, not a few buckets early.
SCAN_WIDTHS = (1, 2, 3, 5)
ANCHOR_Z = 2.0


@dataclass(frozen=True, slots=True)
class Grid:
    """Buckets [start + k * bucket_s, start + (k + 1) * bucket_s) up to `end`. Signals
    are scored against what they did before `reference_end_s`."""

    start_s: float
    end_s: float
    bucket_s: float
    reference_end_s: float

    @property
    def size(self) -> int:
        return max(1, int(np.ceil((self.end_s - self.start_s) / self.bucket_s)))

    def column(self, ts: np.ndarray) -> np.ndarray:
        """Bucket index of each time (negative before the grid, >= size after it)."""
        return np.floor((np.asarray(ts, dtype=np.float64) - self.start_s) / self.bucket_s).astype(
            np.int64
        )

    def times(self) -> np.ndarray:
        return self.start_s + self.bucket_s * np.arange(self.size)

    @property
    def reference_columns(self) -> int:
        """Columns (from the grid's start) that lie before the reference end."""
        return int(np.floor((self.reference_end_s - self.start_s) / self.bucket_s))


@dataclass(slots=True)
class Activity:
    """Per signal (row) and bucket, how abnormal it looked (NaN: no data); `owners`
    names the service each row belongs to."""

    grid: Grid
    owners: list[str]
    values: np.ndarray  # signals x buckets

    @classmethod
    def empty(cls, grid: Grid) -> Activity:
        return cls(grid, [], np.zeros((0, grid.size)))

    def merge(self, other: Activity) -> Activity:
        return Activity(
            self.grid, [*self.owners, *other.owners], np.vstack([self.values, other.values])
        )

    def by_service(self) -> tuple[list[str], np.ndarray]:
        """Each service's most abnormal signal per bucket."""
        services, code = factorize(np.asarray(self.owners, dtype=object))
        out = np.full((len(services), self.grid.size), np.nan)
        for row, service in enumerate(code):
            out[service] = np.fmax(out[service], self.values[row])
        return [str(s) for s in services], out


def _on_grid(grid: Grid, columns: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Rows of per-sample strengths laid on the grid (max per bucket; NaN: no sample)."""
    out = np.full((len(strength), grid.size), np.nan)
    inside = (columns >= 0) & (columns < grid.size)
    if inside.any():
        rows = np.repeat(np.arange(len(strength)), inside.sum())
        cols = np.tile(columns[inside], len(strength))
        np.fmax.at(out, (rows, cols), strength[:, inside].reshape(-1))
    return out


def _log_squash(z: np.ndarray) -> np.ndarray:
    return np.minimum(1.0, np.log1p(np.maximum(z, 0.0)) / np.log1p(100.0))


def _gated(z: np.ndarray, squash: np.ndarray) -> np.ndarray:
    return np.where(z >= MIN_Z, squash, 0.0)


# -- metrics ---------------------------------------------------------------------------


def metric_activity(series: list[Series], grid: Grid) -> Activity:
    """Every metric series' robust deviation per bucket (family-weighted), scored in
    groups of series that share their sample times."""
    groups: dict[bytes, list[Series]] = defaultdict(list)
    for s in series:
        if family_of(s.key.metric).name not in SILENT_FAMILIES:
            groups[s.ts.tobytes()].append(s)
    parts = [_metric_group(members, grid) for members in groups.values()]
    return _concat(grid, [p for p in parts if p is not None])


def _metric_group(members: list[Series], grid: Grid) -> Activity | None:
    ts = members[0].ts
    families = [family_of(s.key.metric) for s in members]
    values = np.vstack([s.values for s in members])
    ceiling = np.array([f.plausible_max for f in families])
    values = np.where(values > ceiling[:, None], np.nan, values)
    reference = values[:, ts < grid.reference_end_s]
    usable = np.isfinite(reference).sum(axis=1) >= MIN_REFERENCE
    if not usable.any():
        return None
    rows = np.flatnonzero(usable)
    picked = [families[i] for i in rows]
    z = np.zeros((len(rows), values.shape[1]))
    for direction in ("up", "down"):
        applies = np.array([f.direction in {direction, "both"} for f in picked])
        if applies.any():
            z = np.maximum(
                z,
                np.where(
                    applies[:, None],
                    _deviation(values[rows], reference[rows], picked, direction),
                    0.0,
                ),
            )
    weight = np.array([f.weight for f in picked])[:, None]
    strength = _gated(z, weight * _log_squash(z))
    return Activity(
        grid, [members[i].key.service for i in rows], _on_grid(grid, grid.column(ts), strength)
    )


def _deviation(
    values: np.ndarray,
    reference: np.ndarray,
    families: list[MetricFamily],
    direction: Literal["up", "down"],
) -> np.ndarray:
    """Robust z of every sample against its row's reference, in one direction."""
    base = Baselines.of(
        reference,
        np.array([f.abs_floor for f in families]),
        np.array([f.rel_floor for f in families]),
    )
    base = with_routine(base, reference, direction)
    return deviations(values, _column(base), direction)


def _column(base: Baselines) -> Baselines:
    """Baselines broadcast against rows of samples."""
    return Baselines(base.median[:, None], base.scale[:, None], base.count[:, None])


def _concat(grid: Grid, parts: list[Activity]) -> Activity:
    if not parts:
        return Activity.empty(grid)
    return Activity(
        grid,
        [owner for p in parts for owner in p.owners],
        np.vstack([p.values for p in parts]),
    )


# -- logs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Layout:
    """Count rows laid out in columns that reach from before the grid to its end:
    `column` per row (counted from `first`), `width` columns, reference before `at`."""

    column: np.ndarray
    first: int
    width: int
    at: int

    @classmethod
    def of(cls, grid: Grid, bucket_s: np.ndarray) -> _Layout | None:
        """None without rows or without any reference before the grid."""
        if len(bucket_s) == 0:
            return None
        column = grid.column(bucket_s)
        first = min(int(column.min()), 0)
        at = grid.reference_columns - first
        if at <= 0:
            return None
        width = max(int(column.max()), grid.size - 1) - first + 1
        return cls(column, first, width, at)


def log_activity(counts: TemplateCounts, grid: Grid) -> Activity:
    """Every template's rise (errors weigh most) or fall in its share of its service's
    lines, per bucket and scanned over short windows, against the reference buckets."""
    layout = _Layout.of(grid, counts.bucket_s)
    if layout is None:
        return Activity.empty(grid)
    column, first, width, at = layout.column, layout.first, layout.width, layout.at
    services, service_code = factorize(counts.service)
    templates, template_code = factorize(counts.template)
    levels, level_code = factorize(counts.level)
    key_code = template_code * len(levels) + level_code
    parts = []
    for s, service in enumerate(services):
        rows = np.flatnonzero(service_code == s)
        mine, local = np.unique(key_code[rows], return_inverse=True)
        matrix = np.zeros((len(mine), width))
        np.add.at(matrix, (local, column[rows] - first), counts.count[rows])
        errors = np.array(
            [_is_error(levels[k % len(levels)], templates[k // len(levels)]) for k in mine]
        )
        strength = _template_strength(matrix, errors, at)
        if strength is not None:
            parts.append(
                Activity(grid, [str(service)] * len(mine), strength[:, -first:][:, : grid.size])
            )
    return _concat(grid, parts)


def _is_error(level: str, template: str) -> bool:
    return level in {"ERROR", "FATAL"} or bool(ERROR_WORDS.search(template))


def _template_strength(matrix: np.ndarray, errors: np.ndarray, at: int) -> np.ndarray | None:
    """Per template and bucket, its strongest move over a window starting there (NaN
    where its service logged nothing: a gap, not silence). Columns before `at` are
    the reference."""
    served = matrix.sum(axis=0)
    reference = served[:at] > 0
    if reference.sum() < 2:
        return None
    ref = matrix[:, :at][:, reference]
    ref_served = served[:at][reference]
    (share,) = row_quantiles(ref / ref_served, (0.5,))
    noise = np.sqrt(count_dispersion(ref, ref_served, share, 0.5))[:, None]
    weight = np.where(errors, LOG_WEIGHT[True], LOG_WEIGHT[False])[:, None]
    best = np.zeros(matrix.shape)
    first_rise = first_fall = np.zeros(matrix.shape)
    for scan in SCAN_WIDTHS:
        observed = _window_sums(matrix, scan)
        expected = share[:, None] * _window_sums(served[None, :], scan)
        rise = poisson_z(observed, np.maximum(expected, 0.5)) / noise
        fall = -poisson_z(observed, expected) / noise
        fall = np.where((expected >= MIN_EXPECTED_FOR_VANISH) & (observed <= expected / 3), fall, 0)
        if scan == 1:
            first_rise, first_fall = rise, fall
        best = np.maximum(
            best,
            np.maximum(
                np.where(first_rise >= ANCHOR_Z, _gated(rise, weight * _log_squash(rise)), 0.0),
                np.where(
                    first_fall >= ANCHOR_Z, _gated(fall, VANISH_WEIGHT * _log_squash(fall)), 0
                ),
            ),
        )
    return np.where(served[None, :] > 0, best, np.nan)


def _window_sums(matrix: np.ndarray, width: int) -> np.ndarray:
    """Per row, the sum of `width` consecutive columns starting at each column (the
    last columns sum what is left)."""
    padded = np.concatenate([np.zeros((len(matrix), 1)), np.cumsum(matrix, axis=1)], axis=1)
    ends = np.minimum(np.arange(matrix.shape[1]) + width, matrix.shape[1])
    return padded[:, ends] - padded[:, :-1]


# -- traces ----------------------------------------------------------------------------


def trace_activity(stats: SpanStats, grid: Grid) -> Activity:
    """Every operation's rise in mean self time or failure share, per bucket and scanned
    over short windows, against its reference buckets."""
    layout = _Layout.of(grid, stats.bucket_s)
    if layout is None:
        return Activity.empty(grid)
    column, first, width, at = layout.column, layout.first, layout.width, layout.at
    services, service_code = factorize(stats.service)
    operations, operation_code = factorize(stats.operation)
    peers, peer_code = factorize(stats.peer)
    combined = (service_code * len(operations) + operation_code) * len(peers) + peer_code
    groups, group = np.unique(combined, return_inverse=True)

    def matrix(values: np.ndarray) -> np.ndarray:
        out = np.zeros((len(groups), width))
        np.add.at(out, (group, column - first), values)
        return out

    count, self_ms, errors = matrix(stats.count), matrix(stats.self_ms), matrix(stats.errors)
    n = len(groups)
    slow_base = Baselines.of(
        _ratio(count[:, :at], self_ms[:, :at]),
        np.full(n, SELF_FLOOR_MS),
        np.full(n, SELF_REL_FLOOR),
    )
    fail_base = Baselines.of(
        _ratio(count[:, :at], errors[:, :at]), np.full(n, ERROR_RATE_FLOOR), np.zeros(n)
    )
    usable = (slow_base.count >= 2)[:, None]
    strength = np.zeros(count.shape)
    first_slow = first_failing = np.zeros(count.shape)
    for scan in SCAN_WIDTHS:
        spans = _window_sums(count, scan)
        slow = deviations(_ratio(spans, _window_sums(self_ms, scan)), _column(slow_base), "up")
        failing = deviations(_ratio(spans, _window_sums(errors, scan)), _column(fail_base), "up")
        if scan == 1:
            first_slow, first_failing = slow, failing
        score = np.maximum(
            np.where(first_slow >= ANCHOR_Z, _gated(slow, _log_squash(slow)), 0.0),
            np.where(first_failing >= ANCHOR_Z, _gated(failing, _log_squash(failing)), 0.0),
        )
        strength = np.maximum(strength, np.where(usable & (spans >= MIN_SPANS), score, 0.0))
    strength = np.where(count > 0, strength, np.nan)
    owners = [services[g // (len(operations) * len(peers))] for g in groups]
    return Activity(grid, owners, strength[:, -first:][:, : grid.size])


def _ratio(count: np.ndarray, total: np.ndarray) -> np.ndarray:
    """total / count per cell, NaN where nothing was counted."""
    return np.divide(total, count, out=np.full(count.shape, np.nan), where=count > 0)
