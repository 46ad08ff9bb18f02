"""Ranking when the onset is uncertain: rank under each plausible onset, then average.

A late alert, or faults in quick succession, leave several onsets that could
explain the alert, and each window of the data indicts its own suspect. Picking
one onset makes the answer right or confidently wrong; averaging each suspect's
probability over the onsets (weighed by agent.isolation.window) keeps a suspect
every window points at likely and splits the probability when the windows
disagree. The calibration then maps the averaged top probability to a
confidence: it is fitted on averaged probabilities (evals/fit_ranking.py), so
"70 %" means the same whether one window or four were weighed. With one onset
this is exactly the ranking under it.

The windows travel with the isolation (`Isolation.windows`: raw scores per
window), so a later bonus (incident memory) is added inside each window's
ranking and averaged again, never to scores from different windows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from agent.isolation.models import WindowRanking
from agent.isolation.ranking import RankingModel, ordered


@dataclass(frozen=True, slots=True)
class Suspect:
    """A service's averaged confidence, with the window that contributes most to it
    (index into the windows; its score and evidence are read there)."""

    service: str
    score: float
    confidence: float
    window: int


def averaged(
    model: RankingModel,
    windows: Sequence[WindowRanking],
    bonus: Mapping[str, float] | None = None,
) -> list[Suspect]:
    """Every service, evidence-backed ones (in any window) first, by probability
    averaged over the windows, then calibrated; `bonus` is added to a service's score
    in every window."""
    extra = bonus or {}
    total: dict[str, float] = defaultdict(float)
    best: dict[str, tuple[float, float, int]] = {}
    backed: set[str] = set()
    for k, window in enumerate(windows):
        services = list(window.scores)
        if not services:
            continue
        raw = np.array([window.scores[s] + extra.get(s, 0.0) for s in services])
        shows = np.array([s in window.backed or extra.get(s, 0.0) > 0 for s in services])
        backed |= {s for s, b in zip(services, shows, strict=True) if b}
        for service, score, probability in ordered(services, raw, shows):
            share = window.weight * probability
            total[service] += share
            if service not in best or share > best[service][0]:
                best[service] = (share, score, k)
    order = sorted(total, key=lambda s: (s not in backed, -total[s]))
    ranked = model.calibrated([(s, best[s][1], total[s]) for s in order])
    return [Suspect(s, score, confidence, best[s][2]) for s, score, confidence in ranked]
