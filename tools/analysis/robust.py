"""Robust deviation scoring: how far is now from normal, in the harmful direction.

Baselines in real incidents are dirty (the tail of an earlier fault, a deploy,
a GC pause), so "normal" is the median and "spread" is the interquartile range,
never mean and standard deviation. Spreads are floored: a series that never
moved would otherwise turn a 1 % wobble into an infinite score, and widened
to cover what the series routinely does. Counts (log lines, spans) are judged
on a Poisson scale, widened by how far they scatter beyond Poisson noise.
Matrix versions score many series (rows) at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Direction = Literal["up", "down", "both"]

IQR_TO_SIGMA = 1.349
Z_MAX = 1000.0
MAD_TO_SIGMA = 1.4826


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
        mad = float(np.median(np.abs(clean - median)))
        scale = max(mad * MAD_TO_SIGMA, abs_floor, rel_floor * abs(median), 1e-9)
        return cls(median, scale, int(clean.size))


@dataclass(frozen=True, slots=True)
class Baselines:
    """`Baseline` of every row of a matrix at once (series x samples)."""

    median: np.ndarray
    scale: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, abs_floor: np.ndarray, rel_floor: np.ndarray) -> Baselines:
        count = np.isfinite(values).sum(axis=1)
        (median,) = row_quantiles(values, (0.5,))
        (mad,) = row_quantiles(np.abs(values - median[:, None]), (0.5,))
        scale = np.maximum.reduce(
            [
                mad * MAD_TO_SIGMA,
                abs_floor,
                rel_floor * np.abs(median),
                np.full(len(count), 1e-9),
            ]
        )
        return cls(median, np.where(count > 0, scale, np.nan), count)


def row_quantiles(values: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
    """Linear-interpolated quantiles of each row's finite values (NaN for empty rows),
    without numpy's per-row loop for matrices holding NaNs."""
    ordered = np.sort(values, axis=1)  # NaNs sort last
    count = np.isfinite(values).sum(axis=1)
    last = np.maximum(count - 1, 0)
    out = []
    for q in qs:
        pos = q * last
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, last)
        low = np.take_along_axis(ordered, lo[:, None], axis=1)[:, 0]
        high = np.take_along_axis(ordered, hi[:, None], axis=1)[:, 0]
        out.append(np.where(count > 0, low + (high - low) * (pos - lo), np.nan))
    return out


ROUTINE_EPISODES = 3
ROUTINE_Z = 2.0


def with_routine(
    baselines: Baselines, values: np.ndarray, direction: Literal["up", "down"]
) -> Baselines:
    """`baselines` with each spread widened to cover the excursions its series makes
    routinely (see `routine_excess`).

    The interquartile range ignores what a series does one sample in ten; a
    series that keeps leaving its normal band (a quantised percentile hopping
    one bucket, a low-traffic availability dipping on one failed request) is not
    anomalous when it does so again.
    """
    sign = 1.0 if direction == "up" else -1.0
    excess = sign * (values - baselines.median[:, None])
    routine = routine_excess(excess, 2.0 * baselines.scale)
    return Baselines(
        baselines.median, np.maximum(baselines.scale, routine / ROUTINE_Z), baselines.count
    )


def routine_excess(excess: np.ndarray, threshold: np.ndarray | float) -> np.ndarray:
    """Per row, how far the baseline's excursions above `threshold` routinely reach:
    the peak of its `ROUTINE_EPISODES`-th largest episode (a run of consecutive
    samples above the threshold), or 0 with fewer episodes.

    Counting separate episodes lets one or two earlier incidents (contiguous
    runs) pass without hiding a third, while a series that keeps wandering off
    is judged against its own wandering.
    """
    excess = np.nan_to_num(excess, nan=0.0)
    above = (
        excess > np.broadcast_to(np.asarray(threshold, dtype=np.float64), (len(excess),))[:, None]
    )
    starts = above & ~np.concatenate((np.zeros((len(above), 1), bool), above[:, :-1]), axis=1)
    out = np.zeros(len(excess))
    for row in np.flatnonzero(starts.sum(axis=1) >= ROUTINE_EPISODES):
        # Segments run from one episode's start to the next's; the samples between
        # episodes are below the threshold, so each segment's maximum is its episode's.
        peaks = np.maximum.reduceat(excess[row], np.flatnonzero(starts[row]))
        out[row] = float(np.sort(peaks)[-ROUTINE_EPISODES])
    return out


def deviations(
    values: np.ndarray, baselines: Baselines, direction: Literal["up", "down"]
) -> np.ndarray:
    """Robust z of each row's value against its baseline, counting only the harmful
    direction (0 where either is missing), and capped: beyond Z_MAX a number says
    nothing more, and a printed "z 13,000,000,000" says something false."""
    z = (values - baselines.median) / baselines.scale
    z = z if direction == "up" else -z
    z = np.minimum(z, Z_MAX)
    return np.where(np.isfinite(z) & (baselines.count > 0), np.maximum(z, 0.0), 0.0)


def _harmful_first(values: np.ndarray, direction: Literal["up", "down"]) -> np.ndarray:
    """Rows sorted so the most harmful finite samples come first, missing ones last."""
    if direction == "up":
        return -np.sort(np.where(np.isfinite(values), -values, np.inf), axis=-1)
    return np.sort(np.where(np.isfinite(values), values, np.inf), axis=-1)


def sustained(values: np.ndarray, direction: Literal["up", "down"]) -> np.ndarray:
    """Each row's representative extreme: its second most harmful sample (the only
    one, if it has one; NaN if none).

    One outlier sample is common (a scrape hiccup); a fault holds for several.
    """
    ordered = _harmful_first(values, direction)
    count = np.isfinite(values).sum(axis=-1)
    pick = np.take_along_axis(ordered, np.minimum(count, 2)[..., None] - 1, axis=-1)[..., 0]
    return np.where(count > 0, pick, np.nan)


def rolling_sustained(
    values: np.ndarray, width: int, direction: Literal["up", "down"]
) -> np.ndarray:
    """`sustained` of every window of `width` consecutive samples of each row (NaN
    where a window holds fewer than two).

    Comparing the current window's extreme with the median sample would make
    every spiky-but-healthy series look broken; comparing it with the extremes
    of equally long baseline windows compares like with like.
    """
    if width < 2 or values.shape[1] < width:
        return values
    windows = np.lib.stride_tricks.sliding_window_view(values, width, axis=1)
    second = _harmful_first(windows, direction)[..., 1]
    return np.where(np.isfinite(windows).sum(axis=-1) >= 2, second, np.nan)


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


def poisson_z(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Signed deviance of counts against Poisson expectations, on a z scale.

    Near the expectation it matches (O - E) / sqrt(E); in the tails it stays
    honest where the normal approximation does not: a usual nine lines dropping
    to none (p ~ 1e-4) scores 4.2, not 3.
    """
    o = np.asarray(observed, dtype=np.float64)
    e = np.maximum(np.asarray(expected, dtype=np.float64), 1e-9)
    ratio = np.divide(o, e, out=np.ones_like(o), where=o > 0)
    deviance = 2.0 * (o * np.log(ratio) - (o - e))
    return np.sign(o - e) * np.sqrt(np.maximum(deviance, 0.0))


CHI2_1_MEDIAN = 0.4549


def count_dispersion(
    counts: np.ndarray, totals: np.ndarray, share: np.ndarray, floor: float
) -> np.ndarray:
    """How much each row's counts scatter beyond Poisson noise around `share` of
    `totals` (one column per bucket), as a variance factor (>= 1).

    A part whose share follows the request mix (one branch of a switch) comes and
    goes on its own; one on a fixed code path does not. The median Pearson
    residual ignores the minority of buckets an earlier incident disturbed.
    Expectations are floored at `floor` so a part that is usually absent is
    not judged on zeros.
    """
    expected = share[:, None] * totals
    pearson = (counts - expected) ** 2 / np.maximum(expected, floor)
    return np.maximum(1.0, np.median(pearson, axis=1) / CHI2_1_MEDIAN)
