"""Ranking mechanics: the call-graph context and the calibrated confidences."""

from __future__ import annotations

import numpy as np
import pytest

from agent.isolation.features import ServiceFeatures
from agent.isolation.ranking import (
    PARAMETERS,
    Calibration,
    RankingModel,
    _worst_relative,
    build_case,
    load_model,
)
from tools.telemetry.models import ServiceNode, Topology

TOPOLOGY = Topology(
    services=[
        ServiceNode(name="web", kind="frontend", depends_on=["api"]),
        ServiceNode(name="api", depends_on=["db"]),
        ServiceNode(name="db", kind="database"),
        ServiceNode(name="cdn", kind="external"),
    ]
)


def table(strengths: dict[str, float]) -> dict[str, ServiceFeatures]:
    out = {}
    for service in ("web", "api", "db", "cdn"):
        feats = ServiceFeatures(service)
        if service in strengths:
            feats.raise_to("m_latency", strengths[service], f"ev-{service}")
        out[service] = feats
    return out


def test_the_case_knows_who_is_below_whom_and_below_the_alert() -> None:
    case = build_case(table({"api": 0.5, "cdn": 0.5}), TOPOLOGY, {"web"})
    index = {s: i for i, s in enumerate(case.services)}
    assert case.below[index["web"], index["db"]] and not case.below[index["db"], index["web"]]
    # db is below the alert too, but shows nothing; cdn shows something but is not below.
    assert case.below_alert.tolist() == [1.0 if s == "api" else 0.0 for s in case.services]
    assert case.external[index["cdn"]] == 1.0


def test_worst_relative_looks_down_the_graph() -> None:
    reach = np.array([[False, True, True], [False, False, True], [False, False, False]])
    base = np.array([1.0, 3.0, 2.0])
    assert _worst_relative(base, reach, difference=True).tolist() == [2.0, 0.0, 0.0]
    assert _worst_relative(base, reach, difference=False).tolist() == [
        1.0,
        pytest.approx(2 / 3),
        0.0,
    ]


def test_the_shipped_model_ranks_the_loudest_service_first_with_calibrated_confidence() -> None:
    model = load_model()
    assert set(model.parameters) == set(PARAMETERS) and len(model.weights) == len(PARAMETERS)
    ranked = model.rank(build_case(table({"api": 0.9, "web": 0.3}), TOPOLOGY, {"web"}))
    assert [service for service, *_ in ranked[:2]] == ["api", "web"]  # evidence first
    assert sum(confidence for *_, confidence in ranked) == pytest.approx(1.0)


def test_calibration_is_monotone_and_bounded() -> None:
    calibration = Calibration(slope=0.8, intercept=0.5)
    values = [calibration.apply(p) for p in (0.0, 0.2, 0.5, 0.9, 1.0)]
    assert values == sorted(values) and all(0 < v < 1 for v in values)


def test_a_model_file_missing_a_parameter_weighs_it_zero() -> None:
    model = RankingModel(parameters=["m_latency"], weights=[2.0], priors=[2.0])
    assert model.vector()[PARAMETERS.index("m_latency")] == 2.0
    assert np.count_nonzero(model.vector()) == 1


def test_a_callee_logging_errors_explains_the_errors_and_cut_paths_of_its_callers() -> None:
    """A callee that returns errors shows it in its own error lines (often its only
    signal); the caller logs the failure too, stops logging what came after, and makes
    fewer onward calls. Those caller symptoms are passed up, not a second cause."""
    features = {s: ServiceFeatures(s) for s in ("web", "api", "db", "cdn")}
    features["api"].raise_to("l_error", 0.78, "ev-api-errors")
    for name, value in (("l_error", 0.77), ("l_vanished", 0.57), ("t_dropped", 0.32)):
        features["web"].raise_to(name, value, f"ev-web-{name}")
    case = build_case(features, TOPOLOGY, {"web"})
    index = {s: i for i, s in enumerate(case.services)}
    assert case.errors_explained[index["web"]] == 1.0
    assert not case.evidence[index["web"]].any()
    assert case.evidence[index["api"]].max() == pytest.approx(0.78)
    assert load_model().rank(case)[0][0] == "api"
