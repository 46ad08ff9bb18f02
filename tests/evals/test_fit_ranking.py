"""The ranking fit: dataset shares, held-out models, calibration never on the cases scored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import evals.fit_ranking as fit
from agent.isolation.features import ServiceFeatures
from agent.isolation.ranking import (
    Calibration,
    HeldOutFit,
    RankingModel,
    build_case,
    scores,
    softmax,
)
from evals.fit_ranking import Corpus, Example, dataset_shares, fit_corpus
from tools.telemetry.models import ServiceNode, Topology

TOPOLOGY = Topology(
    services=[
        ServiceNode(name="web", kind="frontend", depends_on=["api", "cache"]),
        ServiceNode(name="api", depends_on=["db"]),
        ServiceNode(name="cache", kind="cache"),
        ServiceNode(name="db", kind="database"),
    ]
)


def test_real_datasets_share_equally_and_simulated_ones_at_most_a_tenth() -> None:
    shares = dataset_shares(["a", "b", "c", "sim"], simulated={"sim"})
    assert shares == pytest.approx({"a": 0.3, "b": 0.3, "c": 0.3, "sim": 0.1})
    two_sims = dataset_shares(["a", "s1", "s2"], simulated={"s1", "s2"})
    assert two_sims == pytest.approx({"a": 0.9, "s1": 0.05, "s2": 0.05})
    many = dataset_shares([f"r{i}" for i in range(19)] + ["sim"], simulated={"sim"})
    assert many["sim"] == pytest.approx(1 / 20)  # never above an equal split
    assert dataset_shares(["s1", "s2"], simulated={"s1", "s2"}) == {"s1": 0.5, "s2": 0.5}
    assert dataset_shares(["a", "b"], simulated=()) == {"a": 0.5, "b": 0.5}


def test_without_gives_the_held_out_weights_and_calibration() -> None:
    held = HeldOutFit(weights=[1.0], calibration=Calibration(slope=0.4), fitted_on=["b (3 cases)"])
    model = RankingModel(
        parameters=["m_latency"], weights=[2.0], priors=[2.0], held_out={"a": held}
    )
    out = model.without("a")
    assert out.weights == [1.0] and out.calibration.slope == 0.4
    assert out.fitted_on == ["b (3 cases)"] and out.held_out == {}
    assert model.weights == [2.0]  # the shipped model is untouched
    with pytest.raises(KeyError):
        model.without("b")


def _example(dataset: str, i: int, rng: np.random.Generator) -> Example:
    """A case whose culprit is loudest on latency, usually: the others show noise,
    and one case in four a louder decoy, so the fit is not certain."""
    services = ["api", "cache", "db", "web"]
    culprit = services[i % 4]
    table = {}
    for service in services:
        features = ServiceFeatures(service)
        strength = 0.8 if service == culprit else float(rng.uniform(0.0, 0.4))
        if service != culprit and i % 4 == 0 and service == services[(i + 1) % 4]:
            strength = 0.9
        features.raise_to("m_latency", strength, f"ev-{service}")
        table[service] = features
    case = build_case(table, TOPOLOGY, {"web"})
    return Example(dataset, f"{dataset}-{i}", case, case.services.index(culprit))


def _corpus() -> Corpus:
    rng = np.random.default_rng(5)
    examples = [_example(name, i, rng) for name in ("a", "b", "c") for i in range(8)]
    late = [_example(name, i, rng) for name in ("a", "b", "c") for i in range(8, 12)]
    return Corpus(examples, simulated=frozenset({"c"}), late=late)


def test_every_calibration_is_fitted_on_cases_its_weights_never_saw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trained_on: dict[int, frozenset[str]] = {}
    scored: list[tuple[frozenset[str], frozenset[str]]] = []
    real_fit, real_top = fit.fit_weights, fit.top_probabilities

    fitted_cases: set[str] = set()
    predicted_cases: set[str] = set()

    def spy_fit(corpus: Corpus) -> np.ndarray:
        weights = real_fit(corpus)
        trained_on[id(weights)] = frozenset(corpus.names)
        fitted_cases.update(ex.case_id for ex in corpus.examples)
        return weights

    def spy_top(weights: np.ndarray, examples: list[Example]):
        scored.append((trained_on[id(weights)], frozenset(ex.dataset for ex in examples)))
        predicted_cases.update(ex.case_id for ex in examples)
        return real_top(weights, examples)

    monkeypatch.setattr(fit, "fit_weights", spy_fit)
    monkeypatch.setattr(fit, "top_probabilities", spy_top)
    model = fit_corpus(_corpus())

    everything = frozenset({"a", "b", "c"})
    # Out-of-sample predictions only, except the shipped weights' in-sample notes.
    assert all(not (train & seen) for train, seen in scored if train != everything)
    in_sample = [seen for train, seen in scored if train == everything]
    assert sorted(in_sample) == [frozenset({n}) for n in "abc"]
    # The held-out model of `a` is calibrated on b and c, scored by weights without a and them.
    assert (frozenset({"c"}), frozenset({"b"})) in scored
    assert (frozenset({"b"}), frozenset({"c"})) in scored
    assert set(model.held_out) == {"a", "b", "c"}
    assert model.held_out["a"].fitted_on == ["b (8 cases)", "c (8 cases, simulated)"]
    assert model.held_out["a"].calibration != model.calibration
    assert any("share of the fit c: 0.100" in note for note in model.notes)
    # Late alerts are predicted for the calibration, never fitted on.
    late = {f"{n}-{i}" for n in "abc" for i in range(8, 12)}
    assert late <= predicted_cases and not late & fitted_cases


def test_predictions_average_the_windows_before_calibration() -> None:
    """The calibration is fitted on what the engine averages: each window's softmax
    probability weighed by the window's weight."""
    rng = np.random.default_rng(3)
    right, wrong = _example("a", 1, rng), _example("a", 2, rng)  # culprits cache, db
    weights = fit.priors()
    p_right = float(fit.top_probabilities(weights, [right])[0][0])
    p_other = float(softmax(scores(weights, wrong.case))[right.truth])
    mixed = Example("a", "mixed", right.case, right.truth, [(right.case, 0.8), (wrong.case, 0.2)])
    probs, hits = fit.top_probabilities(weights, [mixed])
    assert probs[0] == pytest.approx(0.8 * p_right + 0.2 * p_other)
    assert hits[0] == 1.0


def test_the_calibration_reads_every_case_again_with_its_alert_late(tiny: Path) -> None:
    corpus = fit.load_examples([tiny])
    assert {ex.case_id for ex in corpus.late} == {ex.case_id for ex in corpus.examples}
    assert all(
        ex.windows and sum(w for _, w in ex.windows) == pytest.approx(1.0)
        for ex in corpus.examples + corpus.late
    )
    assert len(corpus.predicted("tiny-shop")) == 2 * len(corpus.of("tiny-shop"))


def test_the_fit_command_writes_held_out_models_by_dataset_name(tiny: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-shop"
    shutil.copytree(tiny, other)
    info = json.loads((other / "dataset.json").read_text())
    (other / "dataset.json").write_text(json.dumps({**info, "name": "other-shop"}))
    out = tmp_path / "weights.json"

    fit.main([str(tiny), "--simulated", str(other), "--out", str(out)])

    model = RankingModel.model_validate_json(out.read_text())
    assert set(model.held_out) == {"tiny-shop", "other-shop"}
    assert model.fitted_on == ["other-shop (3 cases, simulated)", "tiny-shop (3 cases)"]
    assert model.held_out["tiny-shop"].fitted_on == ["other-shop (3 cases, simulated)"]
    assert len(model.held_out["tiny-shop"].weights) == len(model.weights)


def test_platt_scaling_recovers_how_overconfident_the_predictions_were() -> None:
    rng = np.random.default_rng(11)
    probs = rng.uniform(0.3, 0.999, 4000)
    logits = np.log(probs / (1 - probs))
    hits = (rng.uniform(size=4000) < 1 / (1 + np.exp(-(0.5 * logits + 0.3)))).astype(float)
    calibration = fit.fit_calibration({"a": (probs, hits)}, {"a": 1.0})
    assert calibration.slope == pytest.approx(0.5, abs=0.1)
    assert calibration.intercept == pytest.approx(0.3, abs=0.15)
    assert fit.fit_calibration({"a": (probs[:0], hits[:0])}, {"a": 1.0}) == Calibration()
