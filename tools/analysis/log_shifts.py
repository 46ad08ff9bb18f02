"""Log templates that appeared, spiked or stopped, per service, against a baseline.

Counts are compared as each template's share of its service's lines, one
bucket at a time. A share is blind to traffic: when callers stop calling a
service, all its templates fall together and nothing stands out; when the
service itself takes a different code path, one template falls (or a new error
template rises) while the rest hold. Buckets with no logs anywhere are gaps in
collection, not silence, and are left out.

Counts may arrive at any resolution finer than the bucket; they are folded
into buckets aligned on the split's onset, so lines a few seconds after the
onset never land in the baseline. Moves are Poisson z scores, divided by how
far a template's count wanders beyond Poisson noise in the baseline (a branch
that follows the request mix) and by how far its routine bursts reach (errors
that come and go across the estate); a rise is also measured against the rate
just before the onset, so a burst already under way is not the fault's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tools.analysis.codes import factorize
from tools.analysis.robust import ROUTINE_Z, count_dispersion, poisson_z, routine_excess
from tools.analysis.split import Split
from tools.analysis.templates import cluster_templates
from tools.telemetry.models import TemplateCounts

ShiftKind = Literal["new", "spike", "vanished"]
ERROR_WORDS = re.compile(
    r"(exception|error|fail|fatal|timeout|timed out|refused|denied|unavailable|panic|traceback)",
    re.IGNORECASE,
)
MIN_Z = 3.0
MIN_LINES = 3
# Any template may show up once: a new one is measured against half a line.
MIN_EXPECTED = 0.5
MIN_EXPECTED_FOR_VANISH = 8.0
# A bucket this far off its template's usual share starts a burst (or lull) episode.
ROUTINE_BUCKET_Z = 2.0


@dataclass(frozen=True, slots=True)
class LogShift:
    """One template whose rate moved between baseline and now."""

    service: str
    level: str
    template: str
    example: str
    kind: ShiftKind
    baseline_count: int
    current_count: int
    expected: float
    z: float
    since_s: float

    @property
    def is_error(self) -> bool:
        return _is_error(self.level, self.template)


def _is_error(level: str, template: str) -> bool:
    return level in {"ERROR", "FATAL"} or bool(ERROR_WORDS.search(template))


@dataclass(slots=True)
class _ServiceCounts:
    """One service's template counts as a (template x live bucket) matrix."""

    service: str
    keys: list[str]
    levels: list[str]
    examples: list[str]
    matrix: np.ndarray


def log_shifts(counts: TemplateCounts, split: Split, bucket_s: float) -> list[LogShift]:
    """Templates whose share of their service's lines moved, strongest first."""
    index = split.bucket_of(counts.bucket_s, bucket_s)
    inside = (index <= split.last_bucket(bucket_s)) & (counts.bucket_s >= split.start_s)
    if not inside.all():
        counts = counts.take(inside)
        index = index[inside]
    if len(counts.count) == 0:
        return []
    live = np.unique(index)
    candidates = [
        c for c in split.onset_buckets(bucket_s) if (live < c).any() and (live >= c).any()
    ]
    if not candidates:
        return []
    column = np.searchsorted(live, index)
    shifts = [
        shift
        for sc in _service_counts(counts, column, len(live))
        for shift in _shifts(sc, live, candidates, (split.onset_s, bucket_s))
    ]
    return sorted(shifts, key=lambda s: -s.z)


def _service_counts(counts: TemplateCounts, column: np.ndarray, width: int) -> list[_ServiceCounts]:
    """Each service's counts per Drain template (level kept apart) and live bucket."""
    services, service_code = factorize(counts.service)
    templates, template_code = factorize(counts.template)
    levels, level_code = factorize(counts.level)
    order = np.argsort(service_code, kind="stable")
    bounds = np.searchsorted(service_code[order], np.arange(len(services) + 1))
    out = []
    for s, service in enumerate(services):
        rows = order[bounds[s] : bounds[s + 1]]
        mine = np.unique(template_code[rows])
        cluster_of = cluster_templates(templates[t] for t in mine)
        names = sorted(set(cluster_of.values()))
        number = {name: i for i, name in enumerate(names)}
        cluster = np.zeros(len(templates), np.int64)
        cluster[mine] = [number[cluster_of[templates[t]]] for t in mine]
        keys, first, key_of_row = np.unique(
            level_code[rows] * len(names) + cluster[template_code[rows]],
            return_index=True,
            return_inverse=True,
        )
        matrix = np.zeros((len(keys), width))
        np.add.at(matrix, (key_of_row, column[rows]), counts.count[rows])
        out.append(
            _ServiceCounts(
                service=service,
                keys=[names[k % len(names)] for k in keys],
                levels=[levels[k // len(names)] for k in keys],
                examples=[str(counts.example[rows[i]]) for i in first],
                matrix=matrix,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class _Norms:
    """Per-template baseline: share expected when rising and when falling, how much more
    than Poisson noise its count wobbles (>= 1), how far its routine bursts and
    lulls reach (per-bucket z, 0 if not routine), and its total."""

    rise_share: np.ndarray
    fall_share: np.ndarray
    noise: np.ndarray
    routine_rise: np.ndarray
    routine_fall: np.ndarray
    baseline_total: np.ndarray


def _norms(sc: _ServiceCounts, base: np.ndarray) -> _Norms | None:
    """Every template's baseline from the buckets in `base` (None if they hold no line)."""
    served = base.sum(axis=0)
    live = served > 0
    if not live.any():
        return None
    shares = base[:, live] / served[live]
    # Rises are measured against a trimmed mean share: sporadic templates are
    # normal, but the loudest quarter of buckets (an earlier incident's burst of
    # the same error) is not; errors, which are never normal, against the median.
    # Falls are measured against the median share.
    ordered = np.sort(shares, axis=1)
    keep = max(1, int(np.ceil(shares.shape[1] * 0.75)))
    median_share = np.median(shares, axis=1)
    errors = np.array([_is_error(lv, k) for lv, k in zip(sc.levels, sc.keys, strict=True)])
    rise_share = np.where(errors, median_share, ordered[:, :keep].mean(axis=1))
    counts, served = base[:, live], served[live]
    noise = np.sqrt(count_dispersion(counts, served, median_share, MIN_EXPECTED))
    rise_z = poisson_z(counts, np.maximum(rise_share[:, None] * served, MIN_EXPECTED))
    fall_z = -poisson_z(counts, median_share[:, None] * served)
    return _Norms(
        rise_share=rise_share,
        fall_share=median_share,
        noise=noise,
        routine_rise=routine_excess(rise_z / noise[:, None], ROUTINE_BUCKET_Z),
        routine_fall=routine_excess(fall_z / noise[:, None], ROUTINE_BUCKET_Z),
        baseline_total=base.sum(axis=1),
    )


@dataclass(frozen=True, slots=True)
class _Reading:
    """Every template's move if the fault began at one candidate onset bucket."""

    since: int
    observed: np.ndarray
    expected: np.ndarray
    z: np.ndarray  # of the rise or the fall; -inf where the template did neither
    rose: np.ndarray
    baseline_total: np.ndarray


def _read(sc: _ServiceCounts, live: np.ndarray, since: int) -> _Reading | None:
    """Buckets before `since` are the baseline, the rest the current window."""
    norms = _norms(sc, sc.matrix[:, live < since])
    observed = sc.matrix[:, live >= since].sum(axis=1)
    total = float(observed.sum())
    if norms is None or total == 0:
        return None
    expected_rise = np.maximum(
        np.maximum(norms.rise_share, _share_just_before(sc.matrix, live, since)) * total,
        MIN_EXPECTED,
    )
    expected_fall = norms.fall_share * total
    rise_z = poisson_z(observed, expected_rise) / _spread(norms.noise, norms.routine_rise)
    fall_z = -poisson_z(observed, expected_fall) / _spread(norms.noise, norms.routine_fall)
    rose = (rise_z >= MIN_Z) & (observed >= MIN_LINES)
    fell = (
        ~rose
        & (fall_z >= MIN_Z)
        & (expected_fall >= MIN_EXPECTED_FOR_VANISH)
        & (observed <= expected_fall / 3)
    )
    return _Reading(
        since=since,
        observed=observed,
        expected=np.where(rose, expected_rise, expected_fall),
        z=np.where(rose, rise_z, np.where(fell, fall_z, -np.inf)),
        rose=rose,
        baseline_total=norms.baseline_total,
    )


def _spread(noise: np.ndarray, routine: np.ndarray) -> np.ndarray:
    """Noise of a template's count, widened when its baseline routinely moved this way:
    bursts that come and go in many separate buckets are the system's weather. The
    routine level is a single bucket's, so a burst that outlasts the usual ones
    still shows, only muted."""
    return noise * np.maximum(1.0, routine / ROUTINE_Z)


def _share_just_before(matrix: np.ndarray, live: np.ndarray, since: int) -> np.ndarray:
    """Each template's share in the bucket right before `since` (0 if that bucket holds
    no lines): a burst already under way before the fault began is not its effect."""
    previous = matrix[:, live == since - 1].sum(axis=1)
    served = float(previous.sum())
    return previous / served if served > 0 else np.zeros(len(matrix))


def _shifts(
    sc: _ServiceCounts, live: np.ndarray, candidates: list[int], clock: tuple[float, float]
) -> list[LogShift]:
    """Each template's strongest move over the candidate onsets."""
    readings = [r for c in candidates if (r := _read(sc, live, c)) is not None]
    if not readings:
        return []
    z = np.array([r.z for r in readings])
    best = z.argmax(axis=0)
    onset_s, bucket_s = clock
    return [
        _shift(sc, readings[best[i]], int(i), onset_s + readings[best[i]].since * bucket_s)
        for i in np.flatnonzero(np.isfinite(z.max(axis=0)))
    ]


def _shift(sc: _ServiceCounts, reading: _Reading, i: int, since_s: float) -> LogShift:
    """Template `i` as new, spiking or vanished, from its strongest reading."""
    observed = float(reading.observed[i])
    baseline_total = float(reading.baseline_total[i])
    kind: ShiftKind = "vanished"
    if reading.rose[i]:
        kind = "new" if baseline_total <= max(1.0, observed / 10) else "spike"
    return LogShift(
        service=sc.service,
        level=sc.levels[i],
        template=sc.keys[i],
        example=sc.examples[i],
        kind=kind,
        baseline_count=int(baseline_total),
        current_count=int(observed),
        expected=float(reading.expected[i]),
        z=float(reading.z[i]),
        since_s=since_s,
    )
