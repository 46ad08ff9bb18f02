"""How abnormal each service looks, bucket by bucket: the raw material of onset detection.

Every analysis of the engine compares "during" with "before"; this one asks
*when* things changed. Over a grid of buckets reaching well before the alert,
each signal (a metric series, a log template's share, an operation's self time
or failure share) is scored against its own reference period (everything
before the grid), and each service keeps, per bucket, its most abnormal
signal, squashed onto [0, 1] as the evidence is. NaN means "no data in that
bucket": logs and traces often exist only around incidents.
"""

from __future__ import annotations

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
    log_squash,
    poisson_z,
    row_quantiles,
    squash,
    with_routine,
)
from tools.telemetry.models import Series, SpanStats, TemplateCounts

# A signal counts from this robust z: below it, noise.
MIN_Z = 3.0
MIN_REFERENCE = 5
# Families that describe the host or the wire more than the service (or nothing at all).
SILENT_FAMILIES = frozenset({"node_other", "syscall", "network", "other"})
LOG_WEIGHT = {True: 1.0, False: 0.4}
VANISH_WEIGHT = 0.6
MIN_EXPECTED_FOR_VANISH = 8.0
MIN_SPANS = 3
# Windows (in buckets) a move is scanned over: a short burst or a few minutes' shift.
SCAN_WIDTHS = (1, 2, 3, 5)
SELF_FLOOR_MS = 1.0
SELF_REL_FLOOR = 0.2
ERROR_RATE_FLOOR = 0.02


@dataclass(frozen=True, slots=True)
class Grid:
    """Buckets [start + k * bucket_s, start + (k + 1) * bucket_s) up to `end`. Signals
    are scored against what they did before `reference_end_s` (at most `end`)."""

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
    """Per service and bucket, the strength of its most abnormal signal (NaN: no data)."""

    grid: Grid
    services: list[str]
    values: np.ndarray  # services x buckets

    @classmethod
    def empty(cls, grid: Grid) -> Activity:
        return cls(grid, [], np.zeros((0, grid.size)))

    def merge(self, other: Activity) -> Activity:
        """The strongest reading of either, per service and bucket."""
        services = sorted(set(self.services) | set(other.services))
        out = np.full((len(services), self.grid.size), np.nan)
        index = {s: i for i, s in enumerate(services)}
        for part in (self, other):
            rows = [index[s] for s in part.services]
            out[rows] = np.fmax(out[rows], part.values)
        return Activity(self.grid, services, out)


def _per_service(
    grid: Grid, owners: list[str], columns: np.ndarray, strength: np.ndarray
) -> Activity:
    """Fold (owner, column, strength) readings into a services x buckets max."""
    if len(owners) == 0:
        return Activity.empty(grid)
    services, code = factorize(np.asarray(owners, dtype=object))
    out = np.full((len(services), grid.size), np.nan)
    inside = (columns >= 0) & (columns < grid.size) & np.isfinite(strength)
    np.fmax.at(out, (code[inside], columns[inside]), strength[inside])
    return Activity(grid, [str(s) for s in services], out)


# -- metrics ---------------------------------------------------------------------------


def metric_activity(series: list[Series], grid: Grid) -> Activity:
    """Each service's most deviant metric series per bucket (family-weighted)."""
    owners: list[str] = []
    columns: list[np.ndarray] = []
    strengths: list[np.ndarray] = []
    for s in series:
        family = family_of(s.key.metric)
        if family.name in SILENT_FAMILIES:
            continue
        z = _series_z(s, family, grid.reference_end_s)
        if z is None:
            continue
        live = s.ts >= grid.start_s
        strength = np.where(z[live] >= MIN_Z, family.weight * _log_squash(z[live]), 0.0)
        owners.extend([s.key.service] * int(live.sum()))
        columns.append(grid.column(s.ts[live]))
        strengths.append(strength)
    if not owners:
        return Activity.empty(grid)
    return _per_service(grid, owners, np.concatenate(columns), np.concatenate(strengths))


def _series_z(series: Series, family: MetricFamily, reference_end: float) -> np.ndarray | None:
    """Robust z of every sample against the series' samples before `reference_end`,
    in the family's harmful direction(s); None without enough reference."""
    values = np.where(series.values > family.plausible_max, np.nan, series.values)
    reference = values[series.ts < reference_end]
    if np.isfinite(reference).sum() < MIN_REFERENCE:
        return None
    directions: list[Literal["up", "down"]] = (
        ["up", "down"] if family.direction == "both" else [family.direction]
    )
    z = np.zeros(len(values))
    for direction in directions:
        base = Baselines.of(
            reference[None, :], np.array([family.abs_floor]), np.array([family.rel_floor])
        )
        base = with_routine(base, reference[None, :], direction)
        z = np.maximum(z, deviations(values[None, :], _column(base), direction)[0])
    return z


def _column(base: Baselines) -> Baselines:
    """A one-row baseline broadcast against a row of samples."""
    return Baselines(base.median[:, None], base.scale[:, None], base.count[:, None])


def _log_squash(z: np.ndarray) -> np.ndarray:
    return np.minimum(1.0, np.log1p(np.maximum(z, 0.0)) / np.log1p(100.0))


# -- logs ------------------------------------------------------------------------------


def log_activity(counts: TemplateCounts, grid: Grid) -> Activity:
    """Per service and bucket, the strongest rise of a template's share of its lines
    (errors weigh most) or fall of a usual one, against the reference buckets."""
    if len(counts.count) == 0:
        return Activity.empty(grid)
    column = grid.column(counts.bucket_s)
    services, service_code = factorize(counts.service)
    owners: list[str] = []
    cols: list[np.ndarray] = []
    strengths: list[np.ndarray] = []
    first = min(int(column.min()), 0)
    width = max(int(column.max()), grid.size - 1) - first + 1
    if first == 0:
        return Activity.empty(grid)
    for s, service in enumerate(services):
        rows = np.flatnonzero(service_code == s)
        keys, key_of_row = np.unique(
            np.char.add(counts.level[rows].astype(str), counts.template[rows].astype(str)),
            return_inverse=True,
        )
        matrix = np.zeros((len(keys), width))
        np.add.at(matrix, (key_of_row, column[rows] - first), counts.count[rows])
        errors = np.zeros(len(keys), dtype=bool)
        errors[key_of_row] = [
            lv in {"ERROR", "FATAL"} or bool(ERROR_WORDS.search(str(t)))
            for lv, t in zip(counts.level[rows], counts.template[rows], strict=True)
        ]
        strength = _template_strength(matrix, errors, grid.reference_columns - first)
        if strength is None:
            continue
        live = np.arange(width) - (-first)
        owners.extend([str(service)] * width)
        cols.append(live)
        strengths.append(strength)
    if not owners:
        return Activity.empty(grid)
    return _per_service(grid, owners, np.concatenate(cols), np.concatenate(strengths))


def _template_strength(matrix: np.ndarray, errors: np.ndarray, grid_at: int) -> np.ndarray | None:
    """Per bucket, the strongest template move of one service over a window starting
    there (NaN where it logged nothing: a gap, not silence). Buckets before
    `grid_at` are the reference."""
    served = matrix.sum(axis=0)
    reference = served[:grid_at] > 0
    if reference.sum() < 2:
        return None
    ref = matrix[:, :grid_at][:, reference]
    ref_served = served[:grid_at][reference]
    (share,) = row_quantiles(ref / ref_served, (0.5,))
    noise = np.sqrt(count_dispersion(ref, ref_served, share, 0.5))
    weight = np.where(errors, LOG_WEIGHT[True], LOG_WEIGHT[False])[:, None]
    best = np.zeros(matrix.shape[1])
    for width in SCAN_WIDTHS:
        observed = _window_sums(matrix, width)
        total = _window_sums(served[None, :], width)[0]
        expected = share[:, None] * total[None, :]
        rise = poisson_z(observed, np.maximum(expected, 0.5)) / noise[:, None]
        fall = -poisson_z(observed, expected) / noise[:, None]
        fall = np.where(
            (expected >= MIN_EXPECTED_FOR_VANISH) & (observed <= expected / 3), fall, 0.0
        )
        score = np.maximum(
            np.where(rise >= MIN_Z, weight * _squash(rise), 0.0),
            np.where(fall >= MIN_Z, VANISH_WEIGHT * _squash(fall), 0.0),
        )
        best = np.maximum(best, score.max(axis=0))
    return np.where(served > 0, best, np.nan)


def _window_sums(matrix: np.ndarray, width: int) -> np.ndarray:
    """Per row, the sum of `width` consecutive columns starting at each column (the
    last columns sum what is left)."""
    padded = np.concatenate([np.zeros((len(matrix), 1)), np.cumsum(matrix, axis=1)], axis=1)
    ends = np.minimum(np.arange(matrix.shape[1]) + width, matrix.shape[1])
    return padded[:, ends] - padded[:, :-1]


def _squash(z: np.ndarray) -> np.ndarray:
    z = np.maximum(z, 0.0)
    return z / (z + 3.0)


# -- traces ----------------------------------------------------------------------------


def trace_activity(stats: SpanStats, grid: Grid) -> Activity:
    """Per service and bucket, the strongest rise of an operation's mean self time or
    failure share against its reference buckets."""
    if len(stats) == 0:
        return Activity.empty(grid)
    column = grid.column(stats.bucket_s)
    first = min(int(column.min()), 0)
    width = max(int(column.max()), grid.size - 1) - first + 1
    if first == 0:
        return Activity.empty(grid)
    labels = np.char.add(
        np.char.add(stats.service.astype(str), "\x1f"),
        np.char.add(np.char.add(stats.operation.astype(str), "\x1f"), stats.peer.astype(str)),
    )
    groups, group = np.unique(labels, return_inverse=True)

    def matrix(values: np.ndarray) -> np.ndarray:
        out = np.zeros((len(groups), width))
        np.add.at(out, (group, column - first), values)
        return out

    count, self_ms, errors = matrix(stats.count), matrix(stats.self_ms), matrix(stats.errors)
    at = grid.reference_columns - first
    n = len(groups)
    reference_mean = _ratio(count[:, :at], self_ms[:, :at])
    reference_share = _ratio(count[:, :at], errors[:, :at])
    slow_base = Baselines.of(reference_mean, np.full(n, SELF_FLOOR_MS), np.full(n, SELF_REL_FLOOR))
    fail_base = Baselines.of(reference_share, np.full(n, ERROR_RATE_FLOOR), np.zeros(n))
    usable = (np.isfinite(reference_mean).sum(axis=1) >= 2)[:, None]
    strength = np.zeros(count.shape)
    for scan in SCAN_WIDTHS:
        spans = _window_sums(count, scan)
        mean = _ratio(spans, _window_sums(self_ms, scan))
        share = _ratio(spans, _window_sums(errors, scan))
        slow = deviations(mean, _column(slow_base), "up")
        failing = deviations(share, _column(fail_base), "up")
        score = np.maximum(_log_squash_gated(slow), _log_squash_gated(failing))
        strength = np.maximum(strength, np.where(usable & (spans >= MIN_SPANS), score, 0.0))
    strength = np.where(count > 0, strength, np.nan)
    owners = [str(g).split("\x1f", 1)[0] for g in groups]
    live = np.arange(width) - at
    return _per_service(
        grid,
        [o for o in owners for _ in range(width)],
        np.tile(live, n),
        strength.reshape(-1),
    )


def _ratio(count: np.ndarray, total: np.ndarray) -> np.ndarray:
    """total / count per cell, NaN where nothing was counted."""
    return np.divide(total, count, out=np.full(count.shape, np.nan), where=count > 0)


def _log_squash_gated(z: np.ndarray) -> np.ndarray:
    return np.where(z >= MIN_Z, _log_squash(z), 0.0)


__all__ = [
    "Activity",
    "Grid",
    "log_activity",
    "log_squash",
    "metric_activity",
    "squash",
    "trace_activity",
]
