"""Rank suspects: a linear score over evidence and call-graph features, then a softmax.

The weights are fitted offline on replayed real incidents (evals/fit_ranking.py)
and shipped in ranking_weights.json with where they came from. Features that
the dev incidents never exercise (changes, incident memory) keep hand-set prior
weights there, and the fit is shrunk towards those priors, so the model cannot
forget what it was never shown.

Each evidence feature enters twice: as is, and as how far the service stands
out from the rest of the estate on that signal right now. A latency jump means
little when twenty services jumped with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from agent.hypothesis.features import EVIDENCE_FEATURES, ServiceFeatures
from tools.telemetry.models import Topology

STANDOUT = tuple(f"{f}_standout" for f in EVIDENCE_FEATURES)
CONTEXT = (
    "below_worse",
    "above_worse",
    "alert_names",
    "below_alert",
    "modalities",
    "below_similar",
    "external",
)
PARAMETERS: tuple[str, ...] = (*EVIDENCE_FEATURES, *STANDOUT, *CONTEXT)
WEIGHTS_FILE = Path(__file__).with_name("ranking_weights.json")
STRONG = 0.3
STANDOUT_CAP = 5.0
PEERS = 5


@dataclass(slots=True)
class CaseMatrix:
    """Everything the ranking needs about one incident, as arrays."""

    services: list[str]
    evidence: np.ndarray
    below: np.ndarray
    alert_names: np.ndarray
    below_alert: np.ndarray
    external: np.ndarray
    standout: np.ndarray = field(init=False)
    modalities: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        # Each value relative to the mean of the top few services on that feature.
        top = np.sort(self.evidence, axis=0)[::-1][:PEERS].mean(axis=0)
        self.standout = np.minimum(self.evidence / (0.1 + top), STANDOUT_CAP) / STANDOUT_CAP
        groups = [
            [i for i, f in enumerate(EVIDENCE_FEATURES) if f.startswith(p)]
            for p in ("m_", "l_", "t_")
        ]
        present = [(self.evidence[:, g] > STRONG).any(axis=1) for g in groups]
        self.modalities = np.sum(present, axis=0).astype(np.float64)


def build_case(
    table: dict[str, ServiceFeatures], topology: Topology, alert_services: set[str]
) -> CaseMatrix:
    services = sorted(table)
    index = {s: i for i, s in enumerate(services)}
    graph = _Graph(topology)
    below_alert = set().union(*(graph.descendants(a) for a in alert_services)) - alert_services
    evidence = np.array([table[s].vector() for s in services]).reshape(len(services), -1)

    # below[i, j]: service j is reachable by following calls down from service i.
    below = np.zeros((len(services), len(services)), dtype=bool)
    for i, service in enumerate(services):
        below[i, [index[n] for n in graph.descendants(service) if n in index]] = True
    return CaseMatrix(
        services=services,
        evidence=evidence,
        below=below,
        alert_names=np.array([s in alert_services for s in services], dtype=np.float64),
        # Below the alerting service *and* showing something: a service with no
        # evidence against it gains nothing from where it sits.
        below_alert=np.array([s in below_alert for s in services], dtype=np.float64)
        * evidence.any(axis=1),
        external=np.array([graph.kind(s) == "external" for s in services], dtype=np.float64),
    )


def scores(weights: np.ndarray, case: CaseMatrix) -> np.ndarray:
    """Linear scores of every service of the case under `weights` (PARAMETERS order)."""
    n_evidence = len(EVIDENCE_FEATURES)
    w_raw, w_standout = weights[:n_evidence], weights[n_evidence : 2 * n_evidence]
    w_context = weights[2 * n_evidence :]
    base = case.evidence @ w_raw + case.standout @ w_standout
    context = np.column_stack(
        [
            _worst_relative(base, case.below, difference=True),
            _worst_relative(base, case.below.T, difference=True),
            case.alert_names,
            case.below_alert,
            case.modalities,
            _worst_relative(base, case.below, difference=False),
            case.external,
        ]
    )
    return base + context @ w_context


def _worst_relative(base: np.ndarray, reach: np.ndarray, difference: bool) -> np.ndarray:
    """Per service, how much worse (difference) or how nearly as bad (ratio, capped
    at 1) the worst service it reaches (row of `reach`) looks."""
    if base.size == 0:
        return base
    worst = np.where(reach, base[None, :], -np.inf).max(axis=1)
    has = reach.any(axis=1)
    if difference:
        return np.where(has, np.maximum(0.0, worst - base), 0.0)
    ratio = np.divide(np.maximum(0.0, worst), base, out=np.zeros_like(base), where=base > 0)
    return np.where(has, np.minimum(1.0, ratio), 0.0)


def softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max())
    return shifted / shifted.sum()


class Calibration(BaseModel):
    """Platt scaling of the top suspect's probability, fitted on replayed incidents."""

    slope: float = 1.0
    intercept: float = 0.0

    def apply(self, p: float) -> float:
        p = min(max(p, 1e-6), 1 - 1e-6)
        logit = np.log(p / (1 - p))
        return float(1.0 / (1.0 + np.exp(-(self.slope * logit + self.intercept))))


class RankingModel(BaseModel):
    """The fitted weights, with their provenance."""

    parameters: list[str]
    weights: list[float]
    priors: list[float]
    calibration: Calibration = Field(default_factory=Calibration)
    fitted_on: list[str] = Field(default_factory=list)
    fitted_at: str = ""
    notes: list[str] = Field(default_factory=list)

    def vector(self) -> np.ndarray:
        """Weights in PARAMETERS order; a parameter the file lacks gets 0."""
        named = dict(zip(self.parameters, self.weights, strict=True))
        return np.array([named.get(p, 0.0) for p in PARAMETERS])

    def rank(self, case: CaseMatrix) -> list[tuple[str, float, float]]:
        """(service, score, calibrated confidence), best first: services with evidence
        against them by score, then the rest by score (where they sit in the call
        graph is no reason to suspect them before a service that shows something)."""
        if not case.services:
            return []
        raw = scores(self.vector(), case)
        probs = softmax(raw)
        order = np.lexsort((-raw, -case.evidence.any(axis=1).astype(np.float64)))
        top = float(probs[order[0]])
        calibrated = self.calibration.apply(top)
        rest = (1.0 - calibrated) / (1.0 - top) if top < 1.0 else 0.0
        return [
            (
                case.services[i],
                float(raw[i]),
                calibrated if k == 0 else float(probs[i]) * rest,
            )
            for k, i in enumerate(order)
        ]


@cache
def load_model(path: Path = WEIGHTS_FILE) -> RankingModel:
    return RankingModel.model_validate(json.loads(path.read_text(encoding="utf-8")))


class _Graph:
    """Topology with memoised reachability (called for every service of a case)."""

    def __init__(self, topology: Topology) -> None:
        self.callees = {s.name: list(s.depends_on) for s in topology.services}
        self.kinds = {s.name: s.kind for s in topology.services}
        self._down: dict[str, set[str]] = {}

    def kind(self, service: str) -> str:
        return self.kinds.get(service, "service")

    def descendants(self, service: str) -> set[str]:
        if service not in self._down:
            seen: set[str] = set()
            stack = list(self.callees.get(service, []))
            while stack:
                current = stack.pop()
                if current not in seen:
                    seen.add(current)
                    stack.extend(self.callees.get(current, []))
            self._down[service] = seen - {service}
        return self._down[service]
