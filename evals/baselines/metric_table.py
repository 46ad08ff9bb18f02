"""The backend's metric series as the wide table RCAEval's metric methods take.

RCAEval's BARO and NSigma read a pandas frame with a `time` column (here epoch
seconds) and one numeric column per series, split it at `inject_time` into a
normal and an anomalous part, and rank the columns. Samples of different
series rarely share a timestamp to the second (Nezha's pods are scraped a
second or two apart), so each sample is snapped to the nearest step of a grid
at the series' own sampling interval before the columns are lined up.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evals.models import RankedSuspect
from tools.telemetry.models import Series, SeriesKey

DEFAULT_STEP_S = 60.0


@dataclass
class MetricTable:
    """`frame` has `time` plus one column per series; `column_service` maps each back."""

    frame: pd.DataFrame
    column_service: dict[str, str] = field(default_factory=dict)

    def services_ranked(self, columns: list[str]) -> list[RankedSuspect]:
        """Services in the order of their best-ranked column.

        RCAEval returns an order, not scores, so `score` is the reciprocal rank of
        the service's best column (1.0 for the top one).
        """
        ranking: dict[str, RankedSuspect] = {}
        for place, column in enumerate(columns, start=1):
            service = self.column_service.get(column)
            if service is not None and service not in ranking:
                ranking[service] = RankedSuspect(service=service, score=1.0 / place)
        return list(ranking.values())


def sampling_step(series: list[Series]) -> float:
    """The typical gap between consecutive samples, over every series."""
    gaps = [np.diff(s.ts) for s in series if len(s.ts) > 1]
    positive = np.concatenate(gaps) if gaps else np.array([])
    positive = positive[positive > 0]
    return float(np.median(positive)) if len(positive) else DEFAULT_STEP_S


def column_names(keys: list[SeriesKey]) -> list[str]:
    """`<service>_<metric>`, as RCAEval's datasets name them; where one service
    has the same metric on several instances, `<service>_<instance>_<metric>`.
    A name that still repeats gets a `#n` suffix, so every column is one series."""
    clashes = Counter((k.service, k.metric) for k in keys)
    seen: Counter[str] = Counter()
    names = []
    for k in keys:
        name = (
            f"{k.service}_{k.metric}"
            if clashes[(k.service, k.metric)] == 1
            else f"{k.service}_{k.instance}_{k.metric}"
        )
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return names


def metric_table(series: list[Series]) -> MetricTable:
    """One row per grid step that has any sample (several samples in a step are
    averaged), gaps filled from neighbours; columns with no value at all are left out."""
    series = [s for s in series if len(s.ts)]
    if not series:
        return MetricTable(frame=pd.DataFrame({"time": []}))
    step = sampling_step(series)
    anchor = min(float(s.ts[0]) for s in series)
    names = column_names([s.key for s in series])

    column = np.concatenate([np.full(len(s.ts), i) for i, s in enumerate(series)])
    grid = np.rint((np.concatenate([s.ts for s in series]) - anchor) / step).astype(np.int64)
    values = np.concatenate([s.values for s in series]).astype(float)
    steps, row = np.unique(grid, return_inverse=True)
    known = ~np.isnan(values)
    sums = np.zeros((len(steps), len(series)))
    counts = np.zeros((len(steps), len(series)))
    np.add.at(sums, (row[known], column[known]), values[known])
    np.add.at(counts, (row[known], column[known]), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / counts, np.nan)

    wide = pd.DataFrame(means, columns=names).ffill().bfill().dropna(axis=1, how="all")
    wide.insert(0, "time", anchor + steps.astype(float) * step)
    column_service = {
        name: s.key.service for name, s in zip(names, series, strict=True) if name in wide
    }
    return MetricTable(frame=wide, column_service=column_service)
