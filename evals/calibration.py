"""Calibration of top-1 confidence: does "90 % sure" come true nine times in ten?

The page a responder reads quotes the engine's confidence, so a confident wrong
answer costs more than a hesitant one. Brier score and expected calibration
error (ECE, 10 equal-width bins, weighted by bin size) put a number on it; the
reliability diagram in the report shows where it goes wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evals.models import NO_LAG, CalibrationBin, CalibrationSummary, CaseScore, VerdictRow

ECE_BINS = 10


def brier_score(confidences: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Mean squared gap between confidence and outcome (0 = perfect, 1 = worst)."""
    if not confidences:
        raise ValueError("brier_score of no predictions")
    c = np.asarray(confidences, dtype=float)
    o = np.asarray(outcomes, dtype=float)
    return float(np.mean((c - o) ** 2))


def bin_index(confidence: float, bins: int = ECE_BINS) -> int:
    """Equal-width bin of a confidence in [0, 1]; 1.0 falls in the last bin."""
    return min(max(int(np.floor(confidence * bins)), 0), bins - 1)


def reliability_bins(
    confidences: Sequence[float], outcomes: Sequence[bool], bins: int = ECE_BINS
) -> list[CalibrationBin]:
    """Per equal-width bin: how many predictions, their mean confidence, their hit rate."""
    members: list[list[int]] = [[] for _ in range(bins)]
    for i, c in enumerate(confidences):
        members[bin_index(c, bins)].append(i)
    result = []
    for b, idx in enumerate(members):
        result.append(
            CalibrationBin(
                lower=b / bins,
                upper=(b + 1) / bins,
                n=len(idx),
                mean_confidence=float(np.mean([confidences[i] for i in idx])) if idx else None,
                accuracy=float(np.mean([bool(outcomes[i]) for i in idx])) if idx else None,
            )
        )
    return result


def expected_calibration_error(
    confidences: Sequence[float], outcomes: Sequence[bool], bins: int = ECE_BINS
) -> float:
    """ECE: the bin-size-weighted mean of |hit rate - mean confidence| over the bins."""
    if not confidences:
        raise ValueError("expected_calibration_error of no predictions")
    total = len(confidences)
    return float(
        sum(
            b.n / total * abs(b.accuracy - b.mean_confidence)
            for b in reliability_bins(confidences, outcomes, bins)
            if b.n and b.accuracy is not None and b.mean_confidence is not None
        )
    )


def summarize_calibration(
    pairs: Sequence[tuple[float, bool]], dataset: str, method: str, lag: str = NO_LAG
) -> CalibrationSummary:
    """Brier, ECE and the reliability bins of (top-1 confidence, top-1 hit) pairs."""
    if not pairs:
        return CalibrationSummary(dataset=dataset, method=method, lag=lag, n=0)
    confidences = [c for c, _ in pairs]
    outcomes = [o for _, o in pairs]
    return CalibrationSummary(
        dataset=dataset,
        method=method,
        lag=lag,
        n=len(pairs),
        brier=brier_score(confidences, outcomes),
        ece=expected_calibration_error(confidences, outcomes),
        bins=reliability_bins(confidences, outcomes),
    )


def by_verdict(cases: Sequence[CaseScore], dataset: str, lag: str) -> list[VerdictRow]:
    """Per verdict the engine gave (conclusive, inconclusive, no-signal): how many top
    suspects, their mean confidence and how often they were right."""
    rows = []
    for verdict in sorted({c.verdict for c in cases if c.verdict}):
        group = [c for c in cases if c.verdict == verdict]
        confidences = [c.confidence for c in group if c.confidence is not None]
        rows.append(
            VerdictRow(
                dataset=dataset,
                lag=lag,
                verdict=verdict,
                n=len(group),
                mean_confidence=float(np.mean(confidences)) if confidences else None,
                hit_rate=sum(c.hit1 for c in group) / len(group),
            )
        )
    return rows
