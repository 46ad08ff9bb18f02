"""Accuracy figures: pure functions from predictions and truth to numbers.

Scoring is at service level (the usual RCA benchmark convention, as in RCAEval's
"coarse-grained" accuracy): a ranking is cut down to the first appearance of each
service, so a method that lists two instances of one service does not push the
truth down a place. A case that raised, or whose ranking lacks the truth, is a miss.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np

from evals.calibration import by_verdict, summarize_calibration
from evals.models import (
    ALL_DATASETS,
    ENGINE,
    IN_SAMPLE,
    MEMORY,
    NO_LAG,
    CalibrationSummary,
    CaseScore,
    EvalRun,
    HeadlineRow,
    MemoryScore,
    Prediction,
    RankedSuspect,
    ScoreRow,
    Scores,
    TimingSummary,
    VerdictRow,
)
from tools.telemetry.replay.format import TruthRecord

AVG_K = 5
RECALL_K = 5
ENGINES = frozenset({ENGINE, IN_SAMPLE, MEMORY})


def service_ranking(ranking: Sequence[RankedSuspect]) -> list[str]:
    """Services in ranking order, each at its first (best) place."""
    seen: dict[str, None] = {}
    for suspect in ranking:
        seen.setdefault(suspect.service, None)
    return list(seen)


def rank_of(services: Sequence[str], truth: str) -> int | None:
    """1-based place of `truth` in `services`, None when it is absent."""
    try:
        return services.index(truth) + 1
    except ValueError:
        return None


def ac_at_k(ranks: Sequence[int | None], k: int) -> float:
    """AC@k: the share of cases whose truth is in the top k (None = a miss)."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def avg_at_k(ranks: Sequence[int | None], k: int = AVG_K) -> float:
    """Avg@k: the mean of AC@1..AC@k; rewards near misses that AC@1 ignores."""
    return sum(ac_at_k(ranks, j) for j in range(1, k + 1)) / k


def share_true(flags: Iterable[bool | None]) -> float | None:
    """The share of True among the judged flags (None = not judged); None when none were."""
    judged = [f for f in flags if f is not None]
    return sum(judged) / len(judged) if judged else None


def score_case(
    prediction: Prediction, truth: TruthRecord, candidates: int, judge_attributes: bool
) -> CaseScore:
    """Hold one prediction against its truth. `judge_attributes` says whether the
    method claims a fault type, severity and team at all (the baselines do not)."""
    services = service_ranking(prediction.ranking)
    top = prediction.ranking[0] if prediction.ranking else None
    return CaseScore(
        id=prediction.id,
        dataset=prediction.dataset,
        method=prediction.method,
        lag=prediction.lag,
        true_service=truth.root_cause.service,
        true_fault_type=truth.root_cause.fault_type,
        rank=rank_of(services, truth.root_cause.service),
        top=services[:3],
        confidence=top.confidence if top else None,
        fault_type=prediction.fault_type,
        fault_type_correct=(
            prediction.fault_type == truth.root_cause.fault_type if judge_attributes else None
        ),
        severity_correct=(
            prediction.severity == truth.severity
            if judge_attributes and truth.severity is not None
            else None
        ),
        page_team_correct=(
            prediction.page_team == truth.page_team
            if judge_attributes and truth.page_team is not None
            else None
        ),
        candidates=candidates,
        ranked=len(services),
        verdict=prediction.verdict,
        error=prediction.error,
    )


def score_row(
    cases: Sequence[CaseScore], dataset: str, method: str, fault_type: str | None = None
) -> ScoreRow:
    """AC@1/3/5, Avg@5 and attribute accuracies over `cases`."""
    ranks = [c.rank for c in cases]
    severity = [c.severity_correct for c in cases if c.severity_correct is not None]
    page_team = [c.page_team_correct for c in cases if c.page_team_correct is not None]
    chance = [1.0 / c.candidates for c in cases if c.candidates]
    return ScoreRow(
        dataset=dataset,
        method=method,
        lag=cases[0].lag if cases else NO_LAG,
        fault_type=fault_type,
        n=len(cases),
        errors=sum(1 for c in cases if c.error),
        empty=sum(1 for c in cases if not c.error and c.ranked == 0),
        ac1=ac_at_k(ranks, 1),
        ac3=ac_at_k(ranks, 3),
        ac5=ac_at_k(ranks, 5),
        avg5=avg_at_k(ranks),
        chance_ac1=sum(chance) / len(cases) if cases and len(chance) == len(cases) else None,
        fault_type_acc=share_true(c.fault_type_correct for c in cases),
        severity_acc=share_true(severity),
        severity_n=len(severity),
        page_team_acc=share_true(page_team),
        page_team_n=len(page_team),
    )


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else 0.0


def timing_summary(
    predictions: Sequence[Prediction], dataset: str, method: str, lag: str
) -> TimingSummary:
    times = [p.elapsed_s for p in predictions]
    return TimingSummary(
        dataset=dataset,
        method=method,
        lag=lag,
        n=len(times),
        median_s=percentile(times, 50),
        p95_s=percentile(times, 95),
        max_s=max(times, default=0.0),
        total_s=float(sum(times)),
    )


def run_timings(run: EvalRun) -> list[TimingSummary]:
    """Per-case wall time per (dataset, lag, method), plus all datasets pooled per
    lag and method."""
    pooled = len({p.dataset for p in run.predictions}) > 1
    groups: dict[tuple[str, str, str], list[Prediction]] = defaultdict(list)
    for p in run.predictions:
        groups[(p.dataset, p.lag, p.method)].append(p)
        if pooled:
            groups[(ALL_DATASETS, p.lag, p.method)].append(p)
    return [
        timing_summary(groups[(dataset, lag, method)], dataset, method, lag)
        for dataset, lag, method in sorted(groups, key=lambda k: _group_order(run, *k))
    ]


def _group_order(run: EvalRun, dataset: str, lag: str, method: str) -> tuple[int, int, int]:
    """Sort key: datasets in run order (pooled last), then lags, then methods, as run."""

    def place(value: str, order: Sequence[str]) -> int:
        return order.index(value) if value in order else len(order)

    datasets = [*(d.name for d in run.datasets), ALL_DATASETS]
    return place(dataset, datasets), place(lag, run.lags), place(method, run.methods)


def case_scores(run: EvalRun, truths: dict[str, dict[str, TruthRecord]]) -> list[CaseScore]:
    """Every prediction that has a truth, scored; only the engine is judged on attributes."""
    candidates = {d.name: d.services for d in run.datasets}
    return [
        score_case(p, truths[p.dataset][p.id], candidates.get(p.dataset, 0), p.method in ENGINES)
        for p in run.predictions
        if p.id in truths.get(p.dataset, {})
    ]


def recalled_same_cause(prediction: Prediction, truth: TruthRecord, k: int = RECALL_K) -> bool:
    """Whether the first k recalled incidents include one with the case's true cause."""
    cause = truth.root_cause
    incidents = [r for r in prediction.recalled if r.kind == "incident"][:k]
    return any(
        r.services[:1] == [cause.service] and r.fault_type == cause.fault_type for r in incidents
    )


def memory_score(
    predictions: Sequence[Prediction], truth: dict[str, TruthRecord], cases: Sequence[CaseScore]
) -> MemoryScore | None:
    """Recall@5 over the cases an earlier case shares its cause with; AC@1 with and without."""
    ordered = sorted(
        (p for p in predictions if p.method == MEMORY and p.id in truth and p.now),
        key=lambda p: (p.now, p.id),
    )
    if not ordered:
        return None
    first_seen: dict[tuple[str, str], datetime] = {}
    eligible = hits = 0
    for p in ordered:
        assert p.now is not None
        cause = truth[p.id].root_cause
        key = (cause.service, cause.fault_type)
        if key in first_seen and first_seen[key] < p.now:
            eligible += 1
            hits += recalled_same_cause(p, truth[p.id])
        first_seen.setdefault(key, p.now)
    ranks = {m: [c.rank for c in cases if c.method == m] for m in (ENGINE, MEMORY)}
    return MemoryScore(
        dataset=ordered[0].dataset,
        n=len(ordered),
        eligible=eligible,
        recalled=hits,
        recall_at_5=hits / eligible if eligible else None,
        ac1_without=ac_at_k(ranks[ENGINE], 1),
        ac1_with=ac_at_k(ranks[MEMORY], 1),
    )


def memory_scores(
    run: EvalRun, truths: dict[str, dict[str, TruthRecord]], cases: Sequence[CaseScore]
) -> list[MemoryScore]:
    """One MemoryScore per dataset with truth, in memory mode; none otherwise."""
    if MEMORY not in run.methods:
        return []
    rows = []
    for name, truth in truths.items():
        mine = [p for p in run.predictions if p.dataset == name]
        row = memory_score(mine, truth, [c for c in cases if c.dataset == name])
        if row is not None:
            rows.append(row)
    return rows


def score_run(run: EvalRun, truths: dict[str, dict[str, TruthRecord]]) -> Scores:
    """Every figure of the run, per dataset (and pooled), alert lag and method.
    `truths` maps dataset name to its truth by case id; a dataset missing from it
    (a blind one) gets timings but no accuracy rows."""
    cases = case_scores(run, truths)
    summary: list[ScoreRow] = []
    by_fault_type: list[ScoreRow] = []
    calibration: list[CalibrationSummary] = []
    verdicts: list[VerdictRow] = []
    scored = [d.name for d in run.datasets if d.name in truths]
    groups = [*scored, ALL_DATASETS] if len(scored) > 1 else scored
    for dataset in groups:
        for lag in run.lags:
            for method in run.methods:
                group = [
                    c
                    for c in cases
                    if c.method == method and c.lag == lag and dataset in (ALL_DATASETS, c.dataset)
                ]
                if not group:
                    continue
                summary.append(score_row(group, dataset, method))
                confident = [(c.confidence, c.hit1) for c in group if c.confidence is not None]
                if confident:
                    calibration.append(summarize_calibration(confident, dataset, method, lag))
                if method == ENGINE:
                    verdicts += by_verdict(group, dataset, lag)
                if dataset != ALL_DATASETS:
                    by_fault_type += [
                        score_row(
                            [c for c in group if c.true_fault_type == ft], dataset, method, ft
                        )
                        for ft in sorted({c.true_fault_type for c in group})
                    ]
    timing = run_timings(run)
    return Scores(
        started_at=run.started_at,
        datasets=run.datasets,
        methods=run.methods,
        lags=run.lags,
        headline=headline_rows(run, summary, calibration, timing),
        summary=summary,
        by_fault_type=by_fault_type,
        calibration=calibration,
        by_verdict=verdicts,
        timing=timing,
        cases=cases,
        memory=memory_scores(run, truths, cases),
        notes=run.notes,
    )


def headline_rows(
    run: EvalRun,
    summary: Sequence[ScoreRow],
    calibration: Sequence[CalibrationSummary],
    timing: Sequence[TimingSummary],
) -> list[HeadlineRow]:
    """The engine per dataset and lag: out of sample, the in-sample figures beside."""
    rows = {(r.dataset, r.lag, r.method): r for r in summary}
    calibrated = {(c.dataset, c.lag, c.method): c for c in calibration}
    timed = {(t.dataset, t.lag, t.method): t for t in timing}
    models = {d.name: d.ranking_model for d in run.datasets}
    pooled = sorted({d.ranking_model for d in run.datasets if d.error is None})
    headline = []
    for dataset, lag, method in rows:
        if method != ENGINE:
            continue
        key = (dataset, lag)
        headline.append(
            HeadlineRow(
                dataset=dataset,
                lag=lag,
                ranking_model=models.get(dataset) or " + ".join(pooled),
                score=rows[(*key, ENGINE)],
                calibration=calibrated.get((*key, ENGINE)),
                timing=timed.get((*key, ENGINE)),
                in_sample=rows.get((*key, IN_SAMPLE)),
                in_sample_calibration=calibrated.get((*key, IN_SAMPLE)),
            )
        )
    return headline
