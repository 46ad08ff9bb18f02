"""Every metric series scored against its own baseline (BARO-style, robust).

One pass over all series of the window: each gets a robust deviation in its
family's harmful direction, and is attributed to the service it indicts. That
is usually the service that emits it, except per-edge series (`to_<callee>_*`
on a caller), which indict the callee.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from tools.analysis.metric_families import MetricFamily, edge_peer, family_of
from tools.analysis.robust import Baseline, deviation, rolling_sustained, sustained
from tools.analysis.split import Split
from tools.telemetry.models import Series, SeriesKey

MIN_BASELINE_POINTS = 2


@dataclass(frozen=True, slots=True)
class MetricShift:
    """How far one series moved, and which service that move indicts."""

    key: SeriesKey
    family: MetricFamily
    service: str
    baseline: Baseline
    current: float
    z: float
    first_breach_s: float | None

    @property
    def weighted(self) -> float:
        return self.z * self.family.weight


def metric_shifts(series: list[Series], split: Split, services: set[str]) -> list[MetricShift]:
    """Score every series; series without a usable baseline or current are skipped."""
    shifts = []
    for s in series:
        shift = _shift(s, split, services)
        if shift is not None:
            shifts.append(shift)
    return _consistent_percentiles(shifts)


PERCENTILE = re.compile(r"_p(50|75|90|95|99|999)(?=_|$)")


def _consistent_percentiles(shifts: list[MetricShift]) -> list[MetricShift]:
    """Cap each percentile of a latency family at the group's median deviation.

    One slow request moves p99 alone; a fault moves p90, p95 and p99 together.
    """
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for i, shift in enumerate(shifts):
        if PERCENTILE.search(shift.key.metric):
            key = (shift.key.service, shift.key.instance, PERCENTILE.sub("", shift.key.metric))
            groups[key].append(i)
    for members in groups.values():
        if len(members) > 1:
            cap = float(np.median([shifts[i].z for i in members]))
            for i in members:
                if shifts[i].z > cap:
                    shifts[i] = replace(shifts[i], z=cap)
    return shifts


def _shift(s: Series, split: Split, services: set[str]) -> MetricShift | None:
    family = family_of(s.key.metric)
    values = np.where(s.values > family.plausible_max, np.nan, s.values)
    base = values[split.is_baseline(s.ts)]
    current = values[split.is_current(s.ts)]
    if np.isfinite(base).sum() < MIN_BASELINE_POINTS or not np.isfinite(current).any():
        return None
    baseline, value, z = _strongest(base, current, family)
    return MetricShift(
        key=s.key,
        family=family,
        service=_indicted_service(s.key, services),
        baseline=baseline,
        current=value,
        z=z,
        first_breach_s=_first_breach(s.ts, values, split, baseline, family),
    )


def _strongest(
    base: np.ndarray, current: np.ndarray, family: MetricFamily
) -> tuple[Baseline, float, float]:
    """Baseline, current value and deviation in the family's harmful direction
    (for two-sided families, whichever direction moved further)."""
    directions: tuple[Literal["up", "down"], ...] = (
        ("up", "down") if family.direction == "both" else (family.direction,)
    )
    width = int(np.isfinite(current).sum())
    best: tuple[Baseline, float, float] | None = None
    for direction in directions:
        reference = rolling_sustained(base, width, direction)
        baseline = Baseline.of(reference, family.abs_floor, family.rel_floor)
        value = sustained(current, direction)
        z = deviation(value, baseline, direction)
        if best is None or z > best[2]:
            best = (baseline, value, z)
    assert best is not None
    return best


def _indicted_service(key: SeriesKey, services: set[str]) -> str:
    edge = edge_peer(key.metric, services)
    if edge is not None and edge[0] == "to":
        return edge[1]
    return key.service


def _first_breach(
    ts: np.ndarray, values: np.ndarray, split: Split, baseline: Baseline, family: MetricFamily
) -> float | None:
    """When the series first left its normal band after the window opened."""
    recent = ts >= split.onset_s - (split.onset_s - split.start_s) / 4
    for t, v in zip(ts[recent], values[recent], strict=True):
        if deviation(float(v), baseline, family.direction) >= 3.0:
            return float(t)
    return None
