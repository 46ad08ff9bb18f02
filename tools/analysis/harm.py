"""Harm: which services answer their callers clearly worse than before.

The policy's severity rules count harmed services (`min_blast_radius`) and ask
whether a harmed service is user-facing; this module is the one definition of
"harmed" that the engine (measuring telemetry) and the estate simulator's
truth (reading its true state) both use:

    a service is harmed when the share of its requests that fail rose by at
    least 2 points and at least doubled, or its typical (median) latency rose
    to at least 1.8 times and by at least 100 ms, against the hour before.

Both halves ask for a relative *and* an absolute move, so a quiet service
going from 0.1 % to 0.3 % errors, or a 2 ms call taking 6 ms, is not harm;
a service with no traffic before cannot be judged and is never counted.
The engine reads each service's own request error rate and median latency
(service-level series where the store has them, else the mean over its
instances; never a caller's per-edge view), before = the baseline, during =
the onset to now.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from tools.analysis.metric_families import edge_peer, family_of
from tools.analysis.split import Split
from tools.telemetry.models import Series

# The definition (docs/engine.md, docs/simulator.md).
ERROR_RISE = 0.02
ERROR_RATIO = 2.0
LATENCY_RATIO = 1.8
LATENCY_RISE_MS = 100.0
# Float slack at the thresholds: 1 % -> 3 % is a rise of 0.019999999999999997.
SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Health:
    """How a service answered over a stretch of time: the share of requests that
    failed (0..1) and the typical (median) latency in ms; None where unknown."""

    error_share: float | None = None
    latency_ms: float | None = None


@dataclass(frozen=True, slots=True)
class HarmReading:
    """A service's health before and during the incident."""

    before: Health
    during: Health

    @property
    def harmed(self) -> bool:
        return is_harmed(self.before, self.during)

    def describe(self) -> str:
        parts = []
        b, d = self.before, self.during
        if b.error_share is not None and d.error_share is not None:
            parts.append(f"errors {b.error_share:.1%} -> {d.error_share:.1%}")
        if b.latency_ms is not None and d.latency_ms is not None:
            parts.append(f"median latency {b.latency_ms:.0f} -> {d.latency_ms:.0f} ms")
        return ", ".join(parts)


def is_harmed(before: Health, during: Health) -> bool:
    """The definition: errors up 2 points and doubled, or latency x1.8 and +100 ms."""
    errors = (
        before.error_share is not None
        and during.error_share is not None
        and during.error_share - before.error_share >= ERROR_RISE - SLACK
        and during.error_share >= ERROR_RATIO * before.error_share - SLACK
    )
    slower = (
        before.latency_ms is not None
        and during.latency_ms is not None
        and before.latency_ms > 0
        and during.latency_ms >= LATENCY_RATIO * before.latency_ms - SLACK
        and during.latency_ms - before.latency_ms >= LATENCY_RISE_MS - SLACK
    )
    return bool(errors or slower)


def harmed_services(readings: Mapping[str, HarmReading]) -> list[str]:
    """Names of the harmed services, sorted."""
    return sorted(name for name, reading in readings.items() if reading.harmed)


# -- measured from telemetry ---------------------------------------------------------

PERCENTILE = re.compile(r"(?:^|_)p(\d{2,3})(?:_|$)")
SHARE_SUFFIXES = {"_pct": 100.0, "_percent": 100.0, "_ratio": 1.0, "_share": 1.0}
TIME_UNITS = {"_ms": 1.0, "_s": 1000.0, "_seconds": 1000.0, "_us": 0.001}


def measure(series: Iterable[Series], split: Split, services: set[str]) -> dict[str, HarmReading]:
    """Each service's health before and during, from its own error-rate and latency series."""
    errors: dict[str, list[tuple[Series, float, bool]]] = defaultdict(list)
    latency: dict[str, list[tuple[Series, float, int]]] = defaultdict(list)
    for s in series:
        metric = s.key.metric.lower()
        if edge_peer(metric, services) is not None or metric.startswith(("to_", "from_")):
            continue
        family = family_of(metric).name
        if family in {"errors", "availability"}:
            scale = _suffix(metric, SHARE_SUFFIXES)
            if scale is not None:
                errors[s.key.service].append((s, scale, family == "availability"))
        elif family == "latency":
            unit = _suffix(metric, TIME_UNITS)
            if unit is not None:
                latency[s.key.service].append((s, unit, _rank(metric)))
    out: dict[str, HarmReading] = {}
    for service in set(errors) | set(latency):
        err = _errors(errors.get(service, []), split)
        lat = _latency(latency.get(service, []), split)
        out[service] = HarmReading(
            before=Health(err[0], lat[0]),
            during=Health(err[1], lat[1]),
        )
    return out


def _suffix(metric: str, table: Mapping[str, float]) -> float | None:
    for suffix, factor in table.items():
        if metric.endswith(suffix):
            return factor
    return None


def _rank(metric: str) -> int:
    """How typical a latency statistic is: the median (or a mean) first."""
    match = PERCENTILE.search(metric)
    return abs(int(match.group(1)) - 50) if match else 0


def _own(items: list[tuple[Series, float, object]]) -> list[tuple[Series, float, object]]:
    """Service-level series where there are any, else every instance's."""
    level = [item for item in items if not item[0].key.instance]
    return level or items


def _window_means(
    values: list[np.ndarray], ts: list[np.ndarray], split: Split
) -> tuple[float | None, float | None]:
    v, t = np.concatenate(values), np.concatenate(ts)
    ok = np.isfinite(v)
    before = v[ok & split.is_baseline(t)]
    during = v[ok & split.is_current(t) & (t <= split.now_s)]
    if before.size == 0 or during.size == 0:
        return None, None
    return float(before.mean()), float(during.mean())


def _errors(
    items: list[tuple[Series, float, bool]], split: Split
) -> tuple[float | None, float | None]:
    chosen = _own(items)  # type: ignore[arg-type]
    if not chosen:
        return None, None
    metric = min({s.key.metric for s, _, _ in chosen})
    picked = [(s, scale, inverse) for s, scale, inverse in chosen if s.key.metric == metric]
    values = [
        (1.0 - s.values / scale) if inverse else s.values / scale for s, scale, inverse in picked
    ]
    return _window_means(values, [s.ts for s, _, _ in picked], split)


def _latency(
    items: list[tuple[Series, float, int]], split: Split
) -> tuple[float | None, float | None]:
    chosen = _own(items)  # type: ignore[arg-type]
    if not chosen:
        return None, None
    best = min((rank, s.key.metric) for s, _, rank in chosen)[1]
    picked = [(s, unit) for s, unit, _ in chosen if s.key.metric == best]
    return _window_means([s.values * unit for s, unit in picked], [s.ts for s, _ in picked], split)
