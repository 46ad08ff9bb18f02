"""Scoring functions on hand-built inputs whose answers are worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evals.models import ALL_DATASETS, DatasetRun, EvalRun, Prediction, RankedSuspect
from evals.scoring import (
    ac_at_k,
    avg_at_k,
    rank_of,
    score_case,
    score_row,
    score_run,
    service_ranking,
    share_true,
)
from tools.telemetry.replay.format import TruthRecord


def suspects(*services: str) -> list[RankedSuspect]:
    return [RankedSuspect(service=s) for s in services]


def truth(case_id: str, service: str, fault_type: str = "cpu", **extra: object) -> TruthRecord:
    return TruthRecord.model_validate(
        {"id": case_id, "root_cause": {"service": service, "fault_type": fault_type}, **extra}
    )


def test_ac_at_k_counts_truth_within_the_top_k_and_absent_as_miss() -> None:
    ranks = [1, 2, 3, None, 6]
    assert ac_at_k(ranks, 1) == pytest.approx(1 / 5)
    assert ac_at_k(ranks, 2) == pytest.approx(2 / 5)
    assert ac_at_k(ranks, 3) == pytest.approx(3 / 5)
    assert ac_at_k(ranks, 5) == pytest.approx(3 / 5)
    assert ac_at_k(ranks, 6) == pytest.approx(4 / 5)
    assert ac_at_k([], 1) == 0.0


def test_avg_at_5_is_the_mean_of_ac_1_to_ac_5() -> None:
    # AC@1..5 = 1/4, 2/4, 2/4, 3/4, 3/4 -> mean 11/20
    ranks = [1, 2, 4, None]
    assert avg_at_k(ranks) == pytest.approx((0.25 + 0.5 + 0.5 + 0.75 + 0.75) / 5)
    assert avg_at_k([1, 1]) == 1.0
    assert avg_at_k([None]) == 0.0


def test_service_ranking_keeps_each_service_at_its_best_place() -> None:
    ranking = [
        RankedSuspect(service="db", instance="db-1"),
        RankedSuspect(service="cart"),
        RankedSuspect(service="db", instance="db-2"),
        RankedSuspect(service="frontend"),
    ]
    assert service_ranking(ranking) == ["db", "cart", "frontend"]
    assert rank_of(service_ranking(ranking), "frontend") == 3
    assert rank_of(["a", "b"], "z") is None


def test_score_case_judges_fault_type_severity_and_team_only_where_truth_has_them() -> None:
    prediction = Prediction(
        id="c1",
        dataset="d",
        ranking=[RankedSuspect(service="db", confidence=0.6), *suspects("cart")],
        fault_type="database",
        severity="SEV2",
        page_team=None,
    )
    scored = score_case(
        prediction,
        truth("c1", "cart", "database", severity="SEV2", page_team="payments"),
        candidates=4,
        judge_attributes=True,
    )
    assert scored.rank == 2
    assert scored.confidence == 0.6
    assert scored.fault_type_correct is True
    assert scored.severity_correct is True
    assert scored.page_team_correct is False
    assert scored.top == ["db", "cart"]

    without = score_case(prediction, truth("c1", "cart"), candidates=4, judge_attributes=True)
    assert without.severity_correct is None and without.page_team_correct is None
    assert without.fault_type_correct is False

    baseline = score_case(prediction, truth("c1", "cart"), candidates=4, judge_attributes=False)
    assert baseline.fault_type_correct is None


def test_score_row_aggregates_ranks_attributes_errors_and_empty_rankings() -> None:
    base = {"dataset": "d", "method": "engine", "true_service": "x", "true_fault_type": "cpu"}
    cases = [
        score_case(
            Prediction(id="a", dataset="d", ranking=suspects("x", "y"), fault_type="cpu"),
            truth("a", "x"),
            candidates=4,
            judge_attributes=True,
        ),
        score_case(
            Prediction(id="b", dataset="d", ranking=suspects("y", "z", "x"), fault_type="memory"),
            truth("b", "x", severity="SEV1"),
            candidates=4,
            judge_attributes=True,
        ),
        score_case(
            Prediction(id="c", dataset="d", error="RuntimeError: boom"),
            truth("c", "x"),
            candidates=4,
            judge_attributes=True,
        ),
        score_case(
            Prediction(id="e", dataset="d", ranking=[]),
            truth("e", "x"),
            candidates=4,
            judge_attributes=True,
        ),
    ]
    assert all(c.model_dump(include=set(base)) == base for c in cases)
    row = score_row(cases, "d", "engine")
    assert row.n == 4
    assert row.ac1 == pytest.approx(1 / 4)
    assert row.ac3 == pytest.approx(2 / 4)
    assert row.avg5 == pytest.approx((0.25 + 0.25 + 0.5 + 0.5 + 0.5) / 5)
    assert row.fault_type_acc == pytest.approx(1 / 4)
    assert row.severity_acc == 0.0 and row.severity_n == 1
    assert row.page_team_acc is None and row.page_team_n == 0
    assert row.errors == 1 and row.empty == 1
    assert row.chance_ac1 == pytest.approx(1 / 4)


def test_share_true_ignores_unjudged() -> None:
    assert share_true([True, None, False, True]) == pytest.approx(2 / 3)
    assert share_true([None, None]) is None


def _run(predictions: list[Prediction], *scored: str, blind: tuple[str, ...] = ()) -> EvalRun:
    """A run over datasets of two services each, `scored` ones with truth."""
    datasets = [
        DatasetRun(name=name, path=f"/{name}", services=2, has_truth=name in scored)
        for name in (*scored, *blind)
    ]
    return EvalRun(
        started_at=datetime(2024, 1, 1, tzinfo=UTC),
        out_dir="/tmp/x",
        datasets=datasets,
        predictions=predictions,
    )


def test_score_run_groups_by_dataset_fault_type_and_pools_all() -> None:
    predictions = [
        Prediction(id="a", dataset="d1", ranking=suspects("x", "y"), elapsed_s=1.0),
        Prediction(id="b", dataset="d1", ranking=suspects("x", "y"), elapsed_s=3.0),
        Prediction(id="c", dataset="d2", ranking=suspects("x", "y"), elapsed_s=2.0),
        Prediction(id="z", dataset="blind", ranking=suspects("x"), elapsed_s=5.0),
    ]
    run = _run(predictions, "d1", "d2", blind=("blind",))
    truths = {
        "d1": {"a": truth("a", "x", "cpu"), "b": truth("b", "y", "memory")},
        "d2": {"c": truth("c", "y", "cpu")},
    }
    scores = score_run(run, truths)
    rows = {r.dataset: r for r in scores.summary}
    assert set(rows) == {"d1", "d2", ALL_DATASETS}
    assert rows["d1"].ac1 == 0.5 and rows["d2"].ac1 == 0.0
    assert rows[ALL_DATASETS].ac1 == pytest.approx(1 / 3) and rows[ALL_DATASETS].n == 3
    by_type = {(r.dataset, r.fault_type): r.ac1 for r in scores.by_fault_type}
    assert by_type == {("d1", "cpu"): 1.0, ("d1", "memory"): 0.0, ("d2", "cpu"): 0.0}
    timing = {t.dataset: t for t in scores.timing}
    assert timing["d1"].median_s == 2.0 and timing["d1"].n == 2
    assert timing["blind"].n == 1  # timed although never scored
    assert {c.id for c in scores.cases} == {"a", "b", "c"}


def test_the_verdicts_are_scored_apart_per_dataset_and_pooled() -> None:
    """Two conclusive answers (one right) and one inconclusive miss: the report can
    show whether 'inconclusive' is right less often at the same confidence."""

    def said(case_id: str, dataset: str, confidence: float, verdict: str) -> Prediction:
        ranking = [RankedSuspect(service="x", confidence=confidence), RankedSuspect(service="y")]
        return Prediction(id=case_id, dataset=dataset, ranking=ranking, verdict=verdict)

    predictions = [
        said("a", "d1", 0.9, "conclusive"),
        said("b", "d1", 0.7, "conclusive"),
        said("c", "d2", 0.8, "inconclusive"),
    ]
    run = _run(predictions, "d1", "d2")
    truths = {"d1": {"a": truth("a", "x"), "b": truth("b", "y")}, "d2": {"c": truth("c", "y")}}
    rows = {(v.dataset, v.verdict): v for v in score_run(run, truths).by_verdict}
    assert set(rows) == {
        ("d1", "conclusive"),
        ("d2", "inconclusive"),
        (ALL_DATASETS, "conclusive"),
        (ALL_DATASETS, "inconclusive"),
    }
    pooled = rows[(ALL_DATASETS, "conclusive")]
    assert (pooled.n, pooled.mean_confidence, pooled.hit_rate) == (2, pytest.approx(0.8), 0.5)
    assert rows[(ALL_DATASETS, "inconclusive")].hit_rate == 0.0
