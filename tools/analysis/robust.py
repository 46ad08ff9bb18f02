"""Robust deviation scoring: how far is now from normal, in the harmful direction.

Baselines in real incidents are dirty (the tail of an earlier fault, a deploy,
a GC pause), so "normal" is the median and "spread" is the interquartile range,
never mean and standard deviation. Spreads are floored: a series that never
moved would otherwise turn a 1 % wobble into an infinite score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Direction = Literal["up", "down", "both"]

IQR_TO_SIGMA = 1.349


@dataclass(frozen=True, slots=True)
class Baseline:
    """Median and spread of a baseline sample (NaNs ignored)."""

    median: float
    scale: float
    count: int

    @classmethod
    def of(cls, values: np.ndarray, abs_floor: float = 0.0, rel_floor: float = 0.0) -> Baseline:
        clean = values[np.isfinite(values)]
        if clean.size == 0:
            return cls(float("nan"), float("nan"), 0)
        median = float(np.median(clean))
        q1, q3 = np.percentile(clean, [25, 75])
        scale = max(float(q3 - q1) / IQR_TO_SIGMA, abs_floor, rel_floor * abs(median), 1e-9)
        return cls(median, scale, int(clean.size))


def deviation(value: float, baseline: Baseline, direction: Direction) -> float:
    """Robust z of `value` against `baseline`, counting only the harmful direction."""
    if not np.isfinite(value) or baseline.count == 0:
        return 0.0
    z = (value - baseline.median) / baseline.scale
    if direction == "up":
        return max(z, 0.0)
    if direction == "down":
        return max(-z, 0.0)
    return abs(z)


def sustained(values: np.ndarray, direction: Literal["up", "down"]) -> float:
    """A window's representative extreme: its second most harmful sample.

    One outlier sample is common (a scrape hiccup); a fault holds for several.
    """
    clean = values[np.isfinite(values)]
    if clean.size == 0:
        return float("nan")
    ordered = np.sort(clean)
    if direction == "down":
        return float(ordered[min(1, clean.size - 1)])
    return float(ordered[max(clean.size - 2, 0)])


def rolling_sustained(
    values: np.ndarray, width: int, direction: Literal["up", "down"]
) -> np.ndarray:
    """`sustained` of every window of `width` consecutive baseline samples.

    Comparing the current window's extreme with the median sample would make
    every spiky-but-healthy series look broken; comparing it with the extremes
    of equally long baseline windows compares like with like.
    """
    clean = values[np.isfinite(values)]
    if clean.size < width or width < 2:
        return clean
    windows = np.sort(np.lib.stride_tricks.sliding_window_view(clean, width), axis=1)
    return windows[:, 1] if direction == "down" else windows[:, -2]


def squash(z: float, knee: float = 3.0) -> float:
    """Map a deviation onto [0, 1): below the knee is noise, far beyond it saturates.

    Scores from different telemetry kinds live on different scales (a latency
    can move 1000 sigma, a log template 5); squashing makes them comparable.
    """
    if z <= 0:
        return 0.0
    return float(z / (z + knee))


def log_squash(z: float, full: float = 100.0) -> float:
    """Map a deviation onto [0, 1] on a log scale (z = `full` and beyond is 1), for
    signals whose noise alone reaches z of 10 or more (many-series metrics)."""
    if z <= 0:
        return 0.0
    return float(min(1.0, np.log1p(z) / np.log1p(full)))
