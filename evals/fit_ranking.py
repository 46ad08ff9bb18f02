"""Fit the ranking weights on replayed incidents with known root causes.

    python -m evals.fit_ranking DATASET_DIR... [--out agent/isolation/ranking_weights.json]

The model is a conditional logit: within each incident, a softmax over its
services of a linear score, maximised for the true root cause. Evidence
weights are kept non-negative (more anomaly never argues against a suspect)
and every weight is shrunk towards a hand-set prior, so signals the training
incidents never show (changes, memory) keep their prior, and call-graph
features only one dataset exercises (an alert naming a service, external
endpoints) start from domain knowledge rather than zero. The top suspect's
probability is then Platt-scaled so that "70 %" means right seven times in ten.
Leave-one-dataset-out scores are written into the file's notes, as the honest
estimate of how the weights do on a system they were not fitted on.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from agent.isolation.engine import investigate
from agent.isolation.features import EVIDENCE_FEATURES
from agent.isolation.ranking import (
    CONTEXT,
    PARAMETERS,
    WEIGHTS_FILE,
    Calibration,
    CaseMatrix,
    RankingModel,
    scores,
    softmax,
)
from evals.alert_intake import case_alerts
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import load_truth

# A security finding (an attack's traces in logs) must outweigh the ordinary
# noise of a busy estate: its detectors only fire far beyond the background.
EVIDENCE_PRIOR = {"change": 2.0, "memory": 1.0, "security": 6.0}
# Call-graph priors: a fault shows below the service that alerts, a node we
# neither run nor see inside (an external endpoint) is seldom what to fix, and
# a symptom a callee shows as badly is more likely the callee's.
CONTEXT_PRIOR = {
    "below_alert": 0.5,
    "external": -1.0,
    "errors_explained": -0.5,
    "latency_explained": -0.5,
}
DEFAULT_PRIOR = 2.0
# Features whose standout version starts at 0 (how a change or a memory compares
# with other services' says little).
STANDOUT_OFF = ("change", "memory")
SHRINK = 0.01


@dataclass(slots=True)
class Example:
    dataset: str
    case_id: str
    case: CaseMatrix
    truth: int


def load_examples(paths: list[Path]) -> list[Example]:
    """Investigate every case with a known root cause that the engine can see."""
    examples = []
    for path in paths:
        dataset = ReplayDataset.open(path.resolve())
        truth = load_truth(dataset.root) or {}
        for case in dataset.cases():
            if case.id not in truth:
                continue
            investigation = investigate(dataset.at(case.now), case_alerts(case))
            services = investigation.case.services
            culprit = truth[case.id].root_cause.service
            if culprit in services:
                examples.append(
                    Example(dataset.info.name, case.id, investigation.case, services.index(culprit))
                )
    return examples


def priors() -> np.ndarray:
    evidence = [EVIDENCE_PRIOR.get(f, DEFAULT_PRIOR) for f in EVIDENCE_FEATURES]
    standout = [0.0 if f in STANDOUT_OFF else DEFAULT_PRIOR for f in EVIDENCE_FEATURES]
    return np.array([*evidence, *standout, *(CONTEXT_PRIOR.get(c, 0.0) for c in CONTEXT)])


def _loss(weights: np.ndarray, examples: list[Example], prior: np.ndarray) -> float:
    """Mean negative log-likelihood per dataset, averaged over datasets (every
    system counts the same, however many cases it brings), plus the shrinkage."""
    per_dataset: dict[str, list[float]] = {}
    for ex in examples:
        s = scores(weights, ex.case)
        s = s - s.max()
        per_dataset.setdefault(ex.dataset, []).append(-(s[ex.truth] - np.log(np.exp(s).sum())))
    fit = float(np.mean([np.mean(losses) for losses in per_dataset.values()]))
    return fit + SHRINK * float(np.sum((weights - prior) ** 2))


def fit_weights(examples: list[Example]) -> np.ndarray:
    prior = priors()
    n_nonnegative = 2 * len(EVIDENCE_FEATURES)
    bounds = [(0.0, None)] * n_nonnegative + [(None, None)] * len(CONTEXT)
    result = minimize(
        _loss,
        prior,
        args=(examples, prior),
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 300},
    )
    return np.asarray(result.x)


def top_probabilities(
    weights: np.ndarray, examples: list[Example]
) -> tuple[np.ndarray, np.ndarray]:
    """Top suspect's softmax probability and whether it was right, per example."""
    probs, hits = [], []
    for ex in examples:
        p = softmax(scores(weights, ex.case))
        best = int(np.argmax(p))
        probs.append(p[best])
        hits.append(best == ex.truth)
    return np.array(probs), np.array(hits, dtype=np.float64)


def fit_calibration(probs: np.ndarray, hits: np.ndarray) -> Calibration:
    logits = np.log(np.clip(probs, 1e-6, 1 - 1e-6) / np.clip(1 - probs, 1e-6, 1))

    def loss(params: np.ndarray) -> float:
        p = 1 / (1 + np.exp(-(params[0] * logits + params[1])))
        p = np.clip(p, 1e-6, 1 - 1e-6)
        return -float(np.mean(hits * np.log(p) + (1 - hits) * np.log(1 - p)))

    result = minimize(loss, np.array([1.0, 0.0]), method="Nelder-Mead")
    return Calibration(slope=float(result.x[0]), intercept=float(result.x[1]))


def accuracy(weights: np.ndarray, examples: list[Example]) -> float:
    return float(top_probabilities(weights, examples)[1].mean()) if examples else 0.0


def leave_one_dataset_out(examples: list[Example]) -> dict[str, float]:
    names = sorted({ex.dataset for ex in examples})
    out = {}
    for name in names:
        train = [ex for ex in examples if ex.dataset != name]
        test = [ex for ex in examples if ex.dataset == name]
        if train and test:
            out[name] = accuracy(fit_weights(train), test)
    return out


def fit_model(paths: list[Path]) -> RankingModel:
    examples = load_examples(paths)
    if not examples:
        raise SystemExit("no cases with a root cause the engine can see: nothing to fit")
    weights = fit_weights(examples)
    calibration = fit_calibration(*top_probabilities(weights, examples))
    per_dataset = {
        name: accuracy(weights, [ex for ex in examples if ex.dataset == name])
        for name in sorted({ex.dataset for ex in examples})
    }
    lodo = leave_one_dataset_out(examples)
    return RankingModel(
        parameters=list(PARAMETERS),
        weights=[round(float(w), 4) for w in weights],
        priors=[float(p) for p in priors()],
        calibration=calibration,
        fitted_on=[
            f"{name} ({sum(ex.dataset == name for ex in examples)} cases)" for name in per_dataset
        ],
        fitted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        notes=[f"in-sample AC@1 {name}: {acc:.3f}" for name, acc in per_dataset.items()]
        + [f"leave-one-dataset-out AC@1 {name}: {acc:.3f}" for name, acc in lodo.items()]
        + [
            f"priors: evidence {DEFAULT_PRIOR} (overrides {EVIDENCE_PRIOR}), call graph "
            f"{CONTEXT_PRIOR}, others 0; shrinkage {SHRINK} per squared weight"
        ],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = parser.parse_args(argv)
    model = fit_model(args.datasets)
    args.out.write_text(json.dumps(model.model_dump(), indent=2) + "\n", encoding="utf-8")
    print("\n".join(model.notes))


if __name__ == "__main__":
    main()
