"""The replay loop: every case of every dataset, blind, through the engine (and baselines).

A case is replayed the way a live triage would run: a backend bound to the
case's clock, the alert as its source sent it, nothing else; at each alert
lag asked for, with the alert and the clock moved later together. Truth is read
only after every prediction is written, and only for scoring; the one
exception is memory mode, where a case's truth is taught to the memory after
both of its predictions are made, as a responder would confirm it, and only
later cases can recall it. A case that raises is recorded with its error and
scored as a miss; the run goes on.

Out of sample first: a dataset the shipped ranking model was fitted on (by its
name in dataset.json) is scored with the model fitted without it, and again
with the shipped model as the method "engine (in-sample)", labelled so.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from agent.isolation.ranking import RankingModel, load_model
from evals.alert_intake import ON_TIME, AlertLag, alert_lag_s, case_alerts
from evals.baselines import Baseline, load_baselines
from evals.memory import SequentialMemory, in_time_order
from evals.models import (
    ENGINE,
    HELD_OUT,
    IN_SAMPLE,
    MEMORY,
    SHIPPED,
    DatasetRun,
    EvalRun,
    Prediction,
    RankedSuspect,
    Scores,
)
from evals.report import ReportData, write_reports
from evals.scoring import score_run
from evals.triage import CaseResult, CaseTriage, Engine, engine_only, graph_triage
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import CaseRecord, TruthRecord, load_truth

PREDICTIONS_FILE = "predictions.jsonl"
IN_SAMPLE_FILE = "predictions.in-sample.jsonl"
SCORES_FILE = "scores.json"
ERRORS_FILE = "errors.log"
BASELINES_DIR = "baselines"


class EvalResult(BaseModel):
    """What run_eval wrote, in memory."""

    run: EvalRun
    scores: Scores | None
    report: ReportData


@dataclass(slots=True)
class _Replay:
    """One dataset being replayed: what all its cases share."""

    dataset: ReplayDataset
    truth: dict[str, TruthRecord] | None
    shipped: RankingModel
    in_fit: bool = field(init=False)

    def __post_init__(self) -> None:
        self.in_fit = self.name in self.shipped.held_out

    @property
    def name(self) -> str:
        return self.dataset.info.name

    @property
    def headline(self) -> RankingModel:
        """Out of sample: the model fitted without this dataset, if it was in the fit."""
        return self.shipped.without(self.name) if self.in_fit else self.shipped

    def model_name(self, model: RankingModel) -> str:
        return HELD_OUT if self.in_fit and model is not self.shipped else SHIPPED


class RunObserver(Protocol):
    """Told about progress, so a front end can show it; the harness prints nothing."""

    def dataset_started(self, name: str, cases: int, methods: int) -> None: ...

    def case_done(self, dataset: str, method: str, case_id: str) -> None: ...


class _Silent:
    def dataset_started(self, name: str, cases: int, methods: int) -> None:
        pass

    def case_done(self, dataset: str, method: str, case_id: str) -> None:
        pass


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class Harness:
    """One eval run: replays, then scores and reports into `out_dir`."""

    def __init__(
        self,
        out_dir: Path,
        triage: CaseTriage | None = None,
        baselines: Sequence[Baseline] = (),
        observer: RunObserver | None = None,
        *,
        memory: SequentialMemory | None = None,
        memory_triage: CaseTriage | None = None,
        lags: Sequence[AlertLag] = (ON_TIME,),
        seed: int = 0,
        ranking: RankingModel | None = None,
        in_sample: bool = True,
    ) -> None:
        if memory is not None and len(lags) > 1:
            raise ValueError("memory mode replays one alert lag at a time")
        self.out_dir = out_dir
        self.triage = triage or graph_triage()
        self.baselines = list(baselines)
        self.observer = observer or _Silent()
        self.memory = memory
        self.memory_triage = (
            (memory_triage or graph_triage(memory=memory.memory)) if memory else None
        )
        self.lags = list(dict.fromkeys(lags))
        self.seed = seed
        self.ranking = ranking or load_model()
        self.in_sample = in_sample
        engines = [ENGINE, MEMORY] if memory else [ENGINE]
        self.run = EvalRun(
            started_at=datetime.now(UTC),
            out_dir=out_dir,
            methods=[*engines, *(b.name for b in self.baselines)],
            lags=[lag.label for lag in self.lags],
        )
        self._tracebacks: list[str] = []

    # -- replay --------------------------------------------------------------------
    def replay_dataset(
        self, path: Path, case_ids: Sequence[str] = (), limit: int | None = None
    ) -> dict[str, TruthRecord] | None:
        """Replay the chosen cases of one dataset at every lag; returns its truth
        (None when blind)."""
        started = time.perf_counter()
        try:
            dataset = ReplayDataset.open(Path(path).resolve())
        except Exception as error:
            self.run.datasets.append(DatasetRun(name=Path(path).name, path=path, error=str(error)))
            self.run.notes.append(f"{path}: not opened: {_error_text(error)}")
            return None
        load_s = time.perf_counter() - started
        cases = dataset.cases()
        if case_ids:
            wanted = set(case_ids)
            cases = [c for c in cases if c.id in wanted]
        if limit is not None:
            cases = cases[:limit]
        replay = _Replay(dataset, load_truth(dataset.root), self.ranking)
        in_sample = self.in_sample and replay.in_fit
        if in_sample and IN_SAMPLE not in self.run.methods:
            self.run.methods.insert(1, IN_SAMPLE)
        self.run.datasets.append(
            DatasetRun(
                name=replay.name,
                path=dataset.root,
                system=dataset.info.system,
                cases=len(cases),
                services=len(dataset.services),
                has_truth=replay.truth is not None,
                load_s=load_s,
                cache_built=dataset.store.built_now,
                ranking_model=HELD_OUT if replay.in_fit else SHIPPED,
            )
        )
        methods = [m for m in self.run.methods if m != IN_SAMPLE or in_sample]
        self.observer.dataset_started(replay.name, len(cases) * len(self.lags), len(methods))
        engines = [(ENGINE, replay.headline)]
        if in_sample:
            engines.append((IN_SAMPLE, replay.shipped))
        for lag in self.lags:
            lagged = [lag.apply(case, self.seed) for case in cases]
            if self.memory is not None:
                lagged = in_time_order(lagged)
            for case in lagged:
                self._replay_case(replay, engines, lag, case)
        return replay.truth

    def _replay_case(
        self,
        replay: _Replay,
        engines: list[tuple[str, RankingModel]],
        lag: AlertLag,
        case: CaseRecord,
    ) -> None:
        """Every method on one case at one lag."""
        for method, model in engines:
            prediction, _ = self._engine_prediction(replay, case, self.triage, model, method)
            self._record(prediction, lag)
        if self.memory_triage is not None:
            self._memory_prediction(replay, engines[0][1], lag, case)
        for baseline in self.baselines:
            self._record(self._baseline_prediction(baseline, replay, case), lag)

    def _record(self, prediction: Prediction, lag: AlertLag) -> None:
        prediction.lag = lag.label
        self.run.predictions.append(prediction)
        self.observer.case_done(prediction.dataset, prediction.method, prediction.id)

    def _memory_prediction(
        self, replay: _Replay, model: RankingModel, lag: AlertLag, case: CaseRecord
    ) -> None:
        """The case with memory of the earlier ones; then its truth joins the memory."""
        assert self.memory is not None and self.memory_triage is not None
        prediction, result = self._engine_prediction(
            replay, case, self.memory_triage, model, MEMORY
        )
        self._record(prediction, lag)
        known = replay.truth.get(case.id) if replay.truth else None
        if result is not None and result.incident is not None and known is not None:
            self.memory.learn(replay.dataset, case, result.incident, known)

    def _engine_prediction(
        self,
        replay: _Replay,
        case: CaseRecord,
        triage: CaseTriage,
        model: RankingModel,
        method: str,
    ) -> tuple[Prediction, CaseResult | None]:
        prediction = self._prediction(case, replay.name, method)
        prediction.ranking_model = replay.model_name(model)
        started = time.perf_counter()
        try:
            alerts = case_alerts(case)
            result = triage(replay.dataset, case, model)
        except Exception as error:
            prediction.elapsed_s = time.perf_counter() - started
            return self._failed(prediction, error), None
        prediction.elapsed_s = time.perf_counter() - started
        prediction.alert_at = alerts[0].starts_at if alerts else None
        isolation = result.isolation
        prediction.severity = result.severity
        prediction.page_team = result.page_team
        prediction.engine = isolation.engine
        prediction.ranking = [
            RankedSuspect(
                service=h.service,
                instance=h.instance,
                score=h.score,
                confidence=h.confidence,
                fault_type=h.fault_type,
            )
            for h in isolation.hypotheses
        ]
        top = isolation.top()
        prediction.fault_type = top.fault_type if top else None
        prediction.verdict = isolation.verdict
        prediction.recalled = result.recalled
        return prediction, result

    @staticmethod
    def _prediction(case: CaseRecord, dataset: str, method: str) -> Prediction:
        return Prediction(
            id=case.id,
            dataset=dataset,
            method=method,
            now=case.now,
            alert_lag_s=alert_lag_s(case),
        )

    def _baseline_prediction(
        self, baseline: Baseline, replay: _Replay, case: CaseRecord
    ) -> Prediction:
        prediction = self._prediction(case, replay.name, baseline.name)
        started = time.perf_counter()
        try:
            backend = replay.dataset.at(case.now)
            alerts = case_alerts(case)
            if not alerts:
                raise ValueError("the case's alert payload holds no alert")
            prediction.alert_at = alerts[0].starts_at
            output = baseline.rank(backend, alerts[0].starts_at, case.id)
        except Exception as error:
            prediction.elapsed_s = time.perf_counter() - started
            return self._failed(prediction, error)
        prediction.elapsed_s = time.perf_counter() - started
        prediction.ranking = output.ranking
        prediction.verdict = output.verdict
        return prediction

    def _failed(self, prediction: Prediction, error: Exception) -> Prediction:
        prediction.error = _error_text(error)
        prediction.verdict = "error"
        self._tracebacks.append(
            f"== {prediction.dataset} {prediction.id} [{prediction.method}]\n"
            + "".join(traceback.format_exception(error))
        )
        return prediction

    # -- output --------------------------------------------------------------------
    def write_predictions(self) -> None:
        """predictions.jsonl for the engine (out of sample), predictions.in-sample.jsonl
        for the shipped model on its own fit data; baselines/<method>.predictions.jsonl
        for the rest."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        named = {ENGINE: PREDICTIONS_FILE, IN_SAMPLE: IN_SAMPLE_FILE}
        for method in self.run.methods:
            path = (
                self.out_dir / named[method]
                if method in named
                else self.out_dir / BASELINES_DIR / f"{method}.{PREDICTIONS_FILE}"
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8") as handle:
                for p in self.run.predictions:
                    if p.method == method:
                        handle.write(p.model_dump_json())
                        handle.write("\n")
        errors = self.out_dir / ERRORS_FILE
        if self._tracebacks:
            errors.write_text("\n".join(self._tracebacks), encoding="utf-8")
        else:
            errors.unlink(missing_ok=True)


def run_eval(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    with_baselines: bool = False,
    case_ids: Sequence[str] = (),
    limit: int | None = None,
    engine: Engine | None = None,
    triage: CaseTriage | None = None,
    observer: RunObserver | None = None,
    memory: SequentialMemory | None = None,
    memory_triage: CaseTriage | None = None,
    lags: Sequence[AlertLag] = (ON_TIME,),
    seed: int = 0,
    ranking: RankingModel | None = None,
    in_sample: bool = True,
) -> EvalResult:
    """Replay, score where truth exists, write predictions, scores and reports.

    The result's scores are None (and scores.json is not written) when no
    dataset had truth: a blind run. Every case runs at each of `lags` (a range
    drawn per case from `seed`). `ranking` is the shipped model (default: the
    file's); datasets in its fit are scored with their held-out model, and with
    it as well when `in_sample`. With `memory` (evals.memory), cases run in
    time order, each also with a memory of the earlier ones (method
    "engine+memory"), and each case's truth is taught to that memory once both
    predictions for it are made.
    """
    baselines: list[Baseline] = []
    notes: list[str] = []
    setup_s: float | None = None
    if with_baselines:
        started = time.perf_counter()
        baselines, notes = load_baselines()
        setup_s = time.perf_counter() - started
    chosen = triage or (engine_only(engine) if engine is not None else None)
    harness = Harness(
        out_dir,
        triage=chosen,
        baselines=baselines,
        observer=observer,
        memory=memory,
        memory_triage=memory_triage,
        lags=lags,
        seed=seed,
        ranking=ranking,
        in_sample=in_sample,
    )
    harness.run.notes.extend(notes)
    harness.run.baseline_setup_s = setup_s

    truths: dict[str, dict[str, TruthRecord]] = {}
    for path in paths:
        truth = harness.replay_dataset(path, case_ids, limit)
        if truth is not None:
            truths[harness.run.datasets[-1].name] = truth
    if case_ids:
        found = {p.id for p in harness.run.predictions}
        missing = [c for c in case_ids if c not in found]
        if missing:
            harness.run.notes.append(f"case id(s) not found in any dataset: {', '.join(missing)}")
    for d in harness.run.datasets:
        if not d.has_truth and d.error is None:
            harness.run.notes.append(f"{d.name}: no truth.jsonl (blind run): predictions only")

    harness.write_predictions()
    scores = score_run(harness.run, truths) if truths else None
    out_dir.mkdir(parents=True, exist_ok=True)
    scores_path = out_dir / SCORES_FILE
    if scores is not None:
        scores_path.write_text(scores.model_dump_json(indent=2), encoding="utf-8")
    else:
        scores_path.unlink(missing_ok=True)
    report = write_reports(harness.run, scores, out_dir)
    return EvalResult(run=harness.run, scores=scores, report=report)
