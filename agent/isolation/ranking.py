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

from agent.isolation.features import EVIDENCE_FEATURES, ServiceFeatures
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
    "errors_explained",
    "latency_explained",
)
# What a callee's failure or slowness passes up to its callers, as features:
# `*_SYMPTOMS` say how badly a service shows it, `*_PASSED_UP` are what a
# caller shows of it (discounted when a callee shows it at least as badly).
ERROR_SYMPTOMS = ("m_errors", "t_errors", "l_error")
ERROR_PASSED_UP = ("m_errors", "t_errors", "l_error", "l_vanished", "t_dropped")
LATENCY_SYMPTOMS = ("m_latency", "t_self", "t_edge")
# A callee that fails explains its callers' failures; so does one that got much slower:
# its callers time out and return errors (the callee, not the loudest caller, is the
# fault). A mild slowdown times nothing out, so slowness explains errors from SLOW_ENOUGH.
EXPLAINS_ERRORS = (*ERROR_SYMPTOMS, *LATENCY_SYMPTOMS)
SLOW_ENOUGH = 0.5
LATENCY_PASSED_UP = ("m_latency",)
# What load does to a service (discounted when a surge from above floods it).
LOAD_SYMPTOMS = tuple(
    f
    for f in EVIDENCE_FEATURES
    if f not in {"m_traffic", "m_surge", "change", "memory", "security"}
)
SURGE_RATIO = 1.5
# A strong security finding decides the suspect, as it decides the fault type:
# an attack explains the errors and load around it, and the incident runs as
# security. Not fitted: a fixed lead over any sum of ordinary symptoms.
SECURITY_DECIDES = 0.5
SECURITY_FIRST = 10.0
PARAMETERS: tuple[str, ...] = (*EVIDENCE_FEATURES, *STANDOUT, *CONTEXT)
WEIGHTS_FILE = Path(__file__).with_name("ranking_weights.json")
STRONG = 0.3
STANDOUT_CAP = 5.0
PEERS = 5


@dataclass(slots=True)
class CaseMatrix:
    """Everything the ranking needs about one incident, as arrays.

    `observed` holds each service's evidence features as collected; `evidence`
    is what the ranking reads: the same with the symptoms another service
    explains discounted. Errors and latency propagate up the call graph, so a
    caller's failures are discounted by how fully a service below it fails as
    badly (the deepest service showing a symptom is the likelier cause); and a
    service flooded by a traffic surge entering above it (its own inbound
    traffic rose too) has its symptoms discounted by the surge's strength.
    """

    services: list[str]
    observed: np.ndarray
    below: np.ndarray
    alert_names: np.ndarray
    below_alert: np.ndarray
    external: np.ndarray
    traffic: np.ndarray | None = None
    evidence: np.ndarray = field(init=False)
    standout: np.ndarray = field(init=False)
    modalities: np.ndarray = field(init=False)
    errors_explained: np.ndarray = field(init=False)
    latency_explained: np.ndarray = field(init=False)
    flooded: np.ndarray = field(init=False)
    attacked: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        observed = self.observed
        self.errors_explained = _explained(
            observed, self.below, ERROR_SYMPTOMS, EXPLAINS_ERRORS, cross_floor=SLOW_ENOUGH
        )
        self.latency_explained = _explained(
            observed, self.below, LATENCY_SYMPTOMS, LATENCY_SYMPTOMS
        )
        self.flooded = _flooded(observed, self.below, self.traffic)
        security = observed[:, EVIDENCE_FEATURES.index("security")] if observed.size else None
        self.attacked = (
            (security >= SECURITY_DECIDES).astype(np.float64)
            if security is not None
            else np.zeros(len(observed))
        )
        evidence = observed.copy()
        for columns, factor in (
            (ERROR_PASSED_UP, 1.0 - self.errors_explained),
            (LATENCY_PASSED_UP, 1.0 - self.latency_explained),
            (LOAD_SYMPTOMS, 1.0 - self.flooded),
        ):
            index = [EVIDENCE_FEATURES.index(f) for f in columns]
            evidence[:, index] *= factor[:, None]
        self.evidence = evidence
        # Each value relative to the mean of the top few services on that feature.
        top = np.sort(evidence, axis=0)[::-1][:PEERS].mean(axis=0)
        self.standout = np.minimum(evidence / (0.1 + top), STANDOUT_CAP) / STANDOUT_CAP
        groups = [
            [i for i, f in enumerate(EVIDENCE_FEATURES) if f.startswith(p)]
            for p in ("m_", "l_", "t_")
        ]
        present = [(evidence[:, g] > STRONG).any(axis=1) for g in groups]
        self.modalities = np.sum(present, axis=0).astype(np.float64)


def _explained(
    observed: np.ndarray,
    below: np.ndarray,
    features: tuple[str, ...],
    causes: tuple[str, ...],
    cross_floor: float = 0.0,
) -> np.ndarray:
    """How fully a service's symptom (`features`) is matched by a cause (`causes`) in a
    service below it (1 = a callee fails or slows at least as much). A cause of another
    kind than the symptom counts from `cross_floor`."""
    if observed.size == 0:
        return np.zeros(len(observed))
    own = observed[:, [EVIDENCE_FEATURES.index(f) for f in features]].max(axis=1)
    other = [f for f in causes if f not in features]
    cross = observed[:, [EVIDENCE_FEATURES.index(f) for f in other]].max(axis=1) if other else 0
    cause = np.maximum(own, np.where(cross >= cross_floor, cross, 0.0))
    worst_below = np.where(below, cause[None, :], 0.0).max(axis=1)
    ratio = np.divide(worst_below, own, out=np.zeros_like(own), where=own > 0)
    return np.where(own >= STRONG, np.minimum(1.0, ratio), 0.0)


def _flooded(observed: np.ndarray, below: np.ndarray, traffic: np.ndarray | None) -> np.ndarray:
    """For a service whose inbound traffic rose with a surge entering above it,
    that surge's strength; else 0."""
    if observed.size == 0 or traffic is None:
        return np.zeros(len(observed))
    surge = observed[:, EVIDENCE_FEATURES.index("m_surge")]
    # above[j, i]: service i sits below service j.
    from_above = np.where(below, surge[:, None], 0.0).max(axis=0)
    return np.where(traffic >= SURGE_RATIO, from_above, 0.0)


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
        observed=evidence,
        below=below,
        alert_names=np.array([s in alert_services for s in services], dtype=np.float64),
        # Below the alerting service *and* showing something: a service with no
        # evidence against it gains nothing from where it sits.
        below_alert=np.array([s in below_alert for s in services], dtype=np.float64)
        * evidence.any(axis=1),
        external=np.array([graph.kind(s) == "external" for s in services], dtype=np.float64),
        traffic=np.array([table[s].traffic_ratio for s in services], dtype=np.float64),
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
            case.errors_explained,
            case.latency_explained,
        ]
    )
    return base + context @ w_context + SECURITY_FIRST * case.attacked


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


def ordered(
    services: list[str], raw: np.ndarray, backed: np.ndarray
) -> list[tuple[str, float, float]]:
    """(service, score, softmax probability), best first: services with evidence against
    them (`backed`) by score, then the rest by score (where they sit in the call graph is
    no reason to suspect them before a service that shows something)."""
    probs = softmax(raw)
    order = np.lexsort((-raw, -np.asarray(backed, dtype=np.float64)))
    return [(services[i], float(raw[i]), float(probs[i])) for i in order]


class Calibration(BaseModel):
    """Platt scaling of the top suspect's probability, fitted on replayed incidents."""

    slope: float = 1.0
    intercept: float = 0.0

    def apply(self, p: float) -> float:
        p = min(max(p, 1e-6), 1 - 1e-6)
        logit = np.log(p / (1 - p))
        return float(1.0 / (1.0 + np.exp(-(self.slope * logit + self.intercept))))


class HeldOutFit(BaseModel):
    """Weights and calibration fitted without one dataset: how the model does on a
    system it never saw is measured with these (the eval's protocol, never the product's)."""

    weights: list[float]
    calibration: Calibration = Field(default_factory=Calibration)
    fitted_on: list[str] = Field(default_factory=list)


class RankingModel(BaseModel):
    """The fitted weights, with their provenance, and one held-out fit per dataset
    of the fit (`held_out`, keyed by dataset name) for out-of-sample evaluation."""

    parameters: list[str]
    weights: list[float]
    priors: list[float]
    calibration: Calibration = Field(default_factory=Calibration)
    fitted_on: list[str] = Field(default_factory=list)
    fitted_at: str = ""
    notes: list[str] = Field(default_factory=list)
    held_out: dict[str, HeldOutFit] = Field(default_factory=dict)

    def without(self, dataset: str) -> RankingModel:
        """The model as fitted without `dataset` (KeyError when the fit never saw it)."""
        fit = self.held_out[dataset]
        return self.model_copy(
            update={
                "weights": fit.weights,
                "calibration": fit.calibration,
                "fitted_on": fit.fitted_on,
                "notes": [f"held out: {dataset}"],
                "held_out": {},
            }
        )

    def vector(self) -> np.ndarray:
        """Weights in PARAMETERS order; a parameter the file lacks gets 0."""
        named = dict(zip(self.parameters, self.weights, strict=True))
        return np.array([named.get(p, 0.0) for p in PARAMETERS])

    def scored(self, case: CaseMatrix) -> tuple[dict[str, float], list[str]]:
        """Every service's raw score, and the services with evidence against them."""
        if not case.services:
            return {}, []
        raw = scores(self.vector(), case)
        shows = np.flatnonzero(np.asarray(case.observed.any(axis=1)))
        return (
            dict(zip(case.services, map(float, raw), strict=True)),
            [case.services[k] for k in shows],
        )

    def rank(self, case: CaseMatrix) -> list[tuple[str, float, float]]:
        """(service, score, calibrated confidence) of every service of the case, best first."""
        if not case.services:
            return []
        raw = scores(self.vector(), case)
        return self.calibrated(ordered(case.services, raw, np.asarray(case.observed.any(axis=1))))

    def calibrated(self, ranked: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
        """A ranking's probabilities as confidences: the top suspect's probability is
        calibrated; the others share the rest in proportion."""
        if not ranked:
            return []
        top = ranked[0][2]
        calibrated = self.calibration.apply(top)
        rest = (1.0 - calibrated) / (1.0 - top) if top < 1.0 else 0.0
        return [
            (service, score, calibrated if k == 0 else p * rest)
            for k, (service, score, p) in enumerate(ranked)
        ]

    def weight(self, parameter: str) -> float:
        """The fitted weight of one parameter (0 when the file lacks it)."""
        return dict(zip(self.parameters, self.weights, strict=True)).get(parameter, 0.0)


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
