"""Ranking under several plausible onsets: probabilities averaged by the onsets' weights,
then calibrated once."""

from __future__ import annotations

import pytest

from agent.isolation.averaging import averaged
from agent.isolation.features import ServiceFeatures
from agent.isolation.models import WindowRanking
from agent.isolation.ranking import Calibration, RankingModel, build_case, load_model
from tools.telemetry.models import ServiceNode, Topology

TOPOLOGY = Topology(
    services=[
        ServiceNode(name="web", kind="frontend", depends_on=["cart", "search"]),
        ServiceNode(name="cart"),
        ServiceNode(name="search"),
    ]
)
MODEL = load_model()
UNCALIBRATED = MODEL.model_copy(update={"calibration": Calibration()})


def window(weight: float = 1.0, **strengths: float) -> WindowRanking:
    """One fault window as the engine ranks it: the named services' latency moved."""
    table = {}
    for service in ("web", "cart", "search"):
        feats = ServiceFeatures(service)
        if service in strengths:
            feats.raise_to("m_latency", strengths[service], f"ev-{service}")
        table[service] = feats
    scores, backed = MODEL.scored(build_case(table, TOPOLOGY, set()))
    return WindowRanking(onset=None, weight=weight, scores=scores, backed=backed)


def alone(one: WindowRanking, model: RankingModel = MODEL) -> dict[str, float]:
    """The confidences that window gives on its own (its probabilities, uncalibrated)."""
    whole = one.model_copy(update={"weight": 1.0})
    return {s.service: s.confidence for s in averaged(model, [whole])}


def test_one_window_ranks_exactly_as_the_model_does() -> None:
    table = {s: ServiceFeatures(s) for s in ("web", "cart", "search")}
    table["cart"].raise_to("m_latency", 0.9, "ev-cart")
    table["search"].raise_to("m_latency", 0.2, "ev-search")
    case = build_case(table, TOPOLOGY, set())
    ranked = averaged(MODEL, [window(cart=0.9, search=0.2)])
    assert [(s.service, s.score, s.confidence) for s in ranked] == MODEL.rank(case)
    assert {s.window for s in ranked} == {0}


def test_windows_that_disagree_split_the_confidence_by_their_weights() -> None:
    late, early = window(0.7, search=0.9), window(0.3, cart=0.9)
    ranked = averaged(MODEL, [late, early])
    by = {s.service: s for s in ranked}
    assert ranked[0].service == "search" and by["search"].window == 0
    assert by["cart"].window == 1
    probability = (
        0.7 * alone(late, UNCALIBRATED)["search"] + 0.3 * alone(early, UNCALIBRATED)["search"]
    )
    assert by["search"].confidence == pytest.approx(MODEL.calibration.apply(probability))
    # Less sure than the window alone, and the whole still sums to one.
    assert by["search"].confidence < alone(late)["search"]
    assert sum(s.confidence for s in ranked) == pytest.approx(1.0)


def test_windows_that_agree_keep_their_suspect_confident() -> None:
    ranked = averaged(MODEL, [window(0.5, cart=0.9), window(0.5, cart=0.8)])
    assert ranked[0].service == "cart"
    assert ranked[0].confidence >= alone(window(cart=0.8))["cart"]


def test_a_service_with_evidence_in_any_window_comes_before_one_with_none() -> None:
    ranked = averaged(MODEL, [window(0.1, cart=0.05), window(0.9)])
    assert ranked[0].service == "cart"


def test_a_bonus_is_added_inside_every_window_then_averaged() -> None:
    """Incident memory lifts a suspect within each window's softmax: scores from
    different windows are never compared with each other."""
    late, early = window(0.6, search=0.9), window(0.4, cart=0.9, search=0.3)
    plain = {s.service: s for s in averaged(MODEL, [late, early])}
    lifted = {s.service: s for s in averaged(MODEL, [late, early], {"cart": 1.0})}
    assert lifted["cart"].confidence > plain["cart"].confidence
    assert lifted["cart"].score == pytest.approx(plain["cart"].score + 1.0)
    assert sum(s.confidence for s in lifted.values()) == pytest.approx(1.0)
