"""Every metric series scored against its own baseline (BARO-style, robust).

One pass over all series of the window: each gets a robust deviation in its
family's harmful direction, and is attributed to the service it indicts. That
is usually the service that emits it, except per-edge series (`to_<callee>_*`
on a caller), which indict the callee. Series sampled at the same instants
are scored together, as rows of one matrix: a triage scores thousands.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from tools.analysis.metric_families import MetricFamily, edge_peer, family_of
from tools.analysis.robust import (
    Baseline,
    Baselines,
    deviations,
    poisson_z,
    rolling_sustained,
    sustained,
    with_routine,
)
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


def metric_shifts(series: list[Series], split: Split, services: set[str]) -> list[MetricShift]:
    """Score every series; series without a usable baseline or current are skipped."""
    requests = _requests(series)
    by_clock: dict[bytes, list[Series]] = defaultdict(list)
    for s in served_only(series, requests):
        by_clock[s.ts.tobytes()].append(s)
    shifts = [
        shift for members in by_clock.values() for shift in _group_shifts(members, split, services)
    ]
    return _consistent_percentiles(_capped_by_failures(shifts, series, requests, split))


SHARE_FAMILIES = frozenset({"availability", "errors"})
IDLE = 0.5
# A request series' unit: requests per second (times the sample spacing), or per period.
PER_SECOND = re.compile(r"(_per_s|_per_sec|_per_second|_rps)$")
PER_PERIOD = re.compile(r"_per_(\d+)(s|m|min|h)$")
PERIOD_S = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
# Fewer expected failures than this are judged as this many (a never-failing service).
MIN_EXPECTED_FAILURES = 0.5


@dataclass(frozen=True, slots=True)
class _Requests:
    """An instance's request series and, where its unit is known, requests per sample."""

    series: Series
    per_sample: np.ndarray | None


def _requests(series: list[Series]) -> dict[tuple[str, str], _Requests]:
    """Each instance's request series, read once for both uses below."""
    return {
        (s.key.service, s.key.instance): _Requests(s, _per_sample(s))
        for s in series
        if family_of(s.key.metric).name == "traffic" and "request" in s.key.metric
    }


def _per_sample(requests: Series) -> np.ndarray | None:
    """Requests in each sample's interval, or None when the unit is not known."""
    if len(requests.ts) < 2:
        return None
    spacing = float(np.median(np.diff(requests.ts)))
    name = requests.key.metric
    period = PER_PERIOD.search(name)
    if spacing <= 0 or (period is None and not PER_SECOND.search(name)):
        return None
    per_s = 1.0 if period is None else float(period.group(1)) * PERIOD_S[period.group(2)]
    return requests.values * spacing / per_s


def served_only(series: list[Series], requests: dict[tuple[str, str], _Requests]) -> list[Series]:
    """Series with their share-of-requests samples (availability, error rate) blanked
    where the same instance served no requests at that time: 0 % available out of 0
    requests is no outage (a quiet function reports exactly that)."""
    out = []
    for s in series:
        found = requests.get((s.key.service, s.key.instance))
        if found is None or family_of(s.key.metric).name not in SHARE_FAMILIES:
            out.append(s)
            continue
        served = found.series.values if found.per_sample is None else found.per_sample
        idle_at = found.series.ts[np.nan_to_num(served, nan=np.inf) < IDLE]
        out.append(Series(s.key, s.ts, np.where(np.isin(s.ts, idle_at), np.nan, s.values)))
    return out


def _capped_by_failures(
    shifts: list[MetricShift],
    series: list[Series],
    requests: dict[tuple[str, str], _Requests],
    split: Split,
) -> list[MetricShift]:
    """Cap a share-of-requests shift (availability, error rate) at what its failures
    as counts can show: 3 failed of 5 requests is 40 % available, a huge move on a
    share that always read 100 %, but as counts hardly more than chance; 30 failed
    of 2,000 is a smaller share and far stronger evidence. Where the same instance
    reports requests in a unit we can read, the shift's z is at most the Poisson z
    of its failures now against its failure share before."""
    by_key = {s.key: s for s in series}
    out = []
    for shift in shifts:
        found = requests.get((shift.key.service, shift.key.instance))
        share = by_key.get(shift.key)
        if (
            found is None
            or found.per_sample is None
            or share is None
            or shift.family.name not in SHARE_FAMILIES
        ):
            out.append(shift)
            continue
        z = _failure_z(share, found.series.ts, found.per_sample, split)
        out.append(replace(shift, z=min(shift.z, z)))
    return out


def _failure_z(share: Series, ts: np.ndarray, per_sample: np.ndarray, split: Split) -> float:
    """Poisson z of the failures since the onset against the failure share before it."""
    at = dict(zip(ts.tolist(), per_sample.tolist(), strict=True))
    n = np.array([at.get(t, np.nan) for t in share.ts.tolist()])
    percent = share.key.metric.endswith(("_pct", "_percent"))
    value = share.values / 100.0 if percent else share.values
    failed = (1.0 - value) if family_of(share.key.metric).name == "availability" else value
    failures = np.clip(failed, 0.0, 1.0) * n
    ok = np.isfinite(failures) & np.isfinite(n)
    before, now = ok & split.is_baseline(share.ts), ok & split.is_current(share.ts)
    if not now.any() or not before.any() or n[before].sum() <= 0:
        return float("inf")
    rate = failures[before].sum() / n[before].sum()
    expected = max(rate * n[now].sum(), MIN_EXPECTED_FAILURES)
    return float(poisson_z(np.array([failures[now].sum()]), np.array([expected]))[0])


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


@dataclass(frozen=True, slots=True)
class _Reading:
    """Every row's baseline, current value and deviation in one direction."""

    baselines: Baselines
    current: np.ndarray
    z: np.ndarray


def _group_shifts(members: list[Series], split: Split, services: set[str]) -> list[MetricShift]:
    """Shifts of series that share their sample times."""
    ts = members[0].ts
    families = [family_of(s.key.metric) for s in members]
    values = np.vstack([s.values for s in members])
    ceiling = np.array([f.plausible_max for f in families])
    values = np.where(values > ceiling[:, None], np.nan, values)
    base, current = values[:, split.is_baseline(ts)], values[:, split.is_current(ts)]
    usable = (np.isfinite(base).sum(axis=1) >= MIN_BASELINE_POINTS) & np.isfinite(current).any(
        axis=1
    )
    rows = np.flatnonzero(usable)
    if rows.size == 0:
        return []
    picked = [families[i] for i in rows]
    up, down = (_read(base[rows], current[rows], picked, d) for d in ("up", "down"))
    return [
        _shift(members[i], family, services, down if down.z[k] > up.z[k] else up, k)
        for k, (i, family) in enumerate(zip(rows, picked, strict=True))
    ]


def _read(
    base: np.ndarray,
    current: np.ndarray,
    families: list[MetricFamily],
    direction: Literal["up", "down"],
) -> _Reading:
    """Deviation of every row in `direction` (-1 where its family does not hurt that way).

    The current window's sustained extreme is compared with the same statistic
    over every equally long window of the baseline, so rows are grouped by how
    many current samples they have.
    """
    n = len(families)
    median, scale, count = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, np.int64)
    widths = np.isfinite(current).sum(axis=1)
    abs_floor = np.array([f.abs_floor for f in families])
    rel_floor = np.array([f.rel_floor for f in families])
    for width in np.unique(widths):
        rows = widths == width
        reference = rolling_sustained(base[rows], int(width), direction)
        found = with_routine(
            Baselines.of(reference, abs_floor[rows], rel_floor[rows]), base[rows], direction
        )
        median[rows], scale[rows], count[rows] = found.median, found.scale, found.count
    baselines = Baselines(median, scale, count)
    value = sustained(current, direction)
    applies = np.array([f.direction in {direction, "both"} for f in families])
    return _Reading(
        baselines, value, np.where(applies, deviations(value, baselines, direction), -1)
    )


def _shift(
    series: Series, family: MetricFamily, services: set[str], reading: _Reading, k: int
) -> MetricShift:
    return MetricShift(
        key=series.key,
        family=family,
        service=_indicted_service(series.key, services),
        baseline=Baseline(
            float(reading.baselines.median[k]),
            float(reading.baselines.scale[k]),
            int(reading.baselines.count[k]),
        ),
        current=float(reading.current[k]),
        z=max(float(reading.z[k]), 0.0),
    )


def _indicted_service(key: SeriesKey, services: set[str]) -> str:
    edge = edge_peer(key.metric, services)
    if edge is not None and edge[0] == "to":
        return edge[1]
    return key.service
