"""Log templates that appeared, spiked or stopped, per service, against a baseline.

Counts are compared as each template's share of its service's lines, one
minute at a time. A share is blind to traffic: when callers stop calling a
service, all its templates fall together and nothing stands out; when the
service itself takes a different code path, one template falls (or a new error
template rises) while the rest hold. Minutes with no logs anywhere are gaps in
collection, not silence, and are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tools.analysis.split import Split
from tools.analysis.templates import cluster_templates
from tools.telemetry.models import TemplateCounts

ShiftKind = Literal["new", "spike", "vanished"]
ERROR_WORDS = re.compile(
    r"(exception|error|fail|fatal|timeout|timed out|refused|denied|unavailable|panic|traceback)",
    re.IGNORECASE,
)
MIN_Z = 3.0
MIN_EXPECTED_FOR_VANISH = 8.0


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
    """One service's template counts as a (template x bucket) matrix."""

    service: str
    keys: np.ndarray
    levels: list[str]
    examples: list[str]
    matrix: np.ndarray


def log_shifts(counts: TemplateCounts, split: Split, bucket_s: float) -> list[LogShift]:
    """Templates whose share of their service's lines moved, strongest first."""
    if len(counts.count) == 0:
        return []
    buckets = np.unique(counts.bucket_s)
    is_base = buckets < split.onset_s
    onsets = [o for o in split.onsets(bucket_s) if (buckets >= o).any()]
    if not is_base.any() or not onsets:
        return []
    shifts = [
        shift
        for service in np.unique(counts.service)
        for shift in _shifts(
            _service_counts(counts, str(service), buckets), buckets, is_base, onsets
        )
    ]
    return sorted(shifts, key=lambda s: -s.z)


def _service_counts(counts: TemplateCounts, service: str, buckets: np.ndarray) -> _ServiceCounts:
    """One service's counts per Drain template (level kept apart) and bucket."""
    mine = counts.service == service
    cluster = cluster_templates(counts.template[mine])
    names = np.array(
        [
            f"{lv}\x1f{cluster[t]}"
            for lv, t in zip(counts.level[mine], counts.template[mine], strict=True)
        ],
        dtype=object,
    )
    keys, rows = np.unique(names, return_inverse=True)
    matrix = np.zeros((len(keys), len(buckets)))
    np.add.at(matrix, (rows, np.searchsorted(buckets, counts.bucket_s[mine])), counts.count[mine])
    first = {t: i for i, t in reversed(list(enumerate(names)))}
    level, example = counts.level[mine], counts.example[mine]
    return _ServiceCounts(
        service=service,
        keys=np.array([k.split("\x1f", 1)[1] for k in keys], dtype=object),
        levels=[str(level[first[k]] or "") for k in keys],
        examples=[str(example[first[k]]) for k in keys],
        matrix=matrix,
    )


@dataclass(frozen=True, slots=True)
class _Norms:
    """Per-template baseline: share expected when rising, when falling, and total."""

    rise_share: np.ndarray
    fall_share: np.ndarray
    baseline_total: np.ndarray


def _norms(sc: _ServiceCounts, base: np.ndarray) -> _Norms | None:
    served = base.sum(axis=0)
    live = served > 0
    if not live.any():
        return None
    shares = base[:, live] / served[live]
    # Rises are measured against a trimmed mean share: sporadic templates are
    # normal, but the loudest quarter of minutes (an earlier incident's burst of
    # the same error) is not; errors, which are never normal, against the median.
    # Falls are measured against the median share.
    ordered = np.sort(shares, axis=1)
    keep = max(1, int(np.ceil(shares.shape[1] * 0.75)))
    median_share = np.median(shares, axis=1)
    errors = np.array([_is_error(lv, k) for lv, k in zip(sc.levels, sc.keys, strict=True)])
    return _Norms(
        rise_share=np.where(errors, median_share, ordered[:, :keep].mean(axis=1)),
        fall_share=median_share,
        baseline_total=base.sum(axis=1),
    )


def _shifts(
    sc: _ServiceCounts, buckets: np.ndarray, is_base: np.ndarray, onsets: list[float]
) -> list[LogShift]:
    norms = _norms(sc, sc.matrix[:, is_base])
    if norms is None:
        return []
    best: dict[int, LogShift] = {}
    for onset in onsets:
        observed = sc.matrix[:, buckets >= onset].sum(axis=1)
        total = float(observed.sum())
        if total == 0:
            continue
        for i in range(len(sc.keys)):
            shift = _classify(sc, norms, i, (float(observed[i]), total), onset)
            if shift is not None and (i not in best or shift.z > best[i].z):
                best[i] = shift
    return list(best.values())


def _classify(
    sc: _ServiceCounts, norms: _Norms, i: int, counts: tuple[float, float], onset: float
) -> LogShift | None:
    """Template `i` as new, spiking or vanished given (its count, all counts) since `onset`."""
    observed, total = counts
    rise_expected = norms.rise_share[i] * total
    rise_z = (observed - rise_expected) / np.sqrt(rise_expected + 1.0)
    fall_expected = norms.fall_share[i] * total
    fall_z = (fall_expected - observed) / np.sqrt(fall_expected + 1.0)
    baseline_total = float(norms.baseline_total[i])
    kind: ShiftKind
    if rise_z >= MIN_Z and observed >= 3:
        kind = "new" if baseline_total <= max(1.0, observed / 10) else "spike"
        expected, z = rise_expected, rise_z
    elif (
        fall_z >= MIN_Z
        and fall_expected >= MIN_EXPECTED_FOR_VANISH
        and observed <= fall_expected / 3
    ):
        kind, expected, z = "vanished", fall_expected, fall_z
    else:
        return None
    return LogShift(
        service=sc.service,
        level=sc.levels[i],
        template=str(sc.keys[i]),
        example=sc.examples[i],
        kind=kind,
        baseline_count=int(baseline_total),
        current_count=int(observed),
        expected=float(expected),
        z=float(z),
        since_s=onset,
    )
