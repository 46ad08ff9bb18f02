"""The replay loop: every case of every dataset, blind, through the engine (and baselines).

A case is replayed the way a live triage would run: a backend bound to the
case's clock, the alert as its source sent it, nothing else. Truth is read
only after every prediction is written, and only for scoring; the one
exception is memory mode, where a case's truth is taught to the memory after
both of its predictions are made, as a responder would confirm it, and only
later cases can recall it. A case that raises is recorded with its error and
scored as a miss; the run goes on.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from evals.alert_intake import case_alerts
from evals.baselines import Baseline, load_baselines
from evals.memory import SequentialMemory, in_time_order
from evals.models import (
    ENGINE,
    MEMORY,
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
SCORES_FILE = "scores.json"
ERRORS_FILE = "errors.log"
BASELINES_DIR = "baselines"


class EvalResult(BaseModel):
    """What run_eval wrote, in memory."""

    run: EvalRun
    scores: Scores | None
    report: ReportData


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
    ) -> None:
        self.out_dir = out_dir
        self.triage = triage or graph_triage()
        self.baselines = list(baselines)
        self.observer = observer or _Silent()
        self.memory = memory
        self.memory_triage = (
            (memory_triage or graph_triage(memory=memory.memory)) if memory else None
        )
        engines = [ENGINE, MEMORY] if memory else [ENGINE]
        self.run = EvalRun(
            started_at=datetime.now(UTC),
            out_dir=out_dir,
            methods=[*engines, *(b.name for b in self.baselines)],
        )
        self._tracebacks: list[str] = []

    # -- replay --------------------------------------------------------------------
    def replay_dataset(
        self, path: Path, case_ids: Sequence[str] = (), limit: int | None = None
    ) -> dict[str, TruthRecord] | None:
        """Replay the chosen cases of one dataset; returns its truth (None when blind)."""
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
        truth = load_truth(dataset.root)
        name = dataset.info.name
        self.run.datasets.append(
            DatasetRun(
                name=name,
                path=dataset.root,
                system=dataset.info.system,
                cases=len(cases),
                services=len(dataset.services),
                has_truth=truth is not None,
                load_s=load_s,
                cache_built=dataset.store.built_now,
            )
        )
        self.observer.dataset_started(name, len(cases), len(self.run.methods))
        if self.memory is not None:
            cases = in_time_order(cases)
        for case in cases:
            prediction, _ = self._engine_prediction(dataset, name, case, self.triage)
            self.run.predictions.append(prediction)
            self.observer.case_done(name, ENGINE, case.id)
            if self.memory_triage is not None:
                self._memory_prediction(dataset, name, case, truth)
            for baseline in self.baselines:
                self.run.predictions.append(
                    self._baseline_prediction(baseline, dataset, name, case)
                )
                self.observer.case_done(name, baseline.name, case.id)
        return truth

    def _memory_prediction(
        self,
        dataset: ReplayDataset,
        name: str,
        case: CaseRecord,
        truth: dict[str, TruthRecord] | None,
    ) -> None:
        """The case with memory of the earlier ones; then its truth joins the memory."""
        assert self.memory is not None and self.memory_triage is not None
        prediction, result = self._engine_prediction(
            dataset, name, case, self.memory_triage, MEMORY
        )
        self.run.predictions.append(prediction)
        known = truth.get(case.id) if truth else None
        if result is not None and result.incident is not None and known is not None:
            self.memory.learn(dataset, case, result.incident, known)
        self.observer.case_done(name, MEMORY, case.id)

    def _engine_prediction(
        self,
        dataset: ReplayDataset,
        name: str,
        case: CaseRecord,
        triage: CaseTriage,
        method: str = ENGINE,
    ) -> tuple[Prediction, CaseResult | None]:
        prediction = Prediction(id=case.id, dataset=name, method=method, now=case.now)
        started = time.perf_counter()
        try:
            alerts = case_alerts(case)
            result = triage(dataset, case)
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

    def _baseline_prediction(
        self, baseline: Baseline, dataset: ReplayDataset, name: str, case: CaseRecord
    ) -> Prediction:
        prediction = Prediction(id=case.id, dataset=name, method=baseline.name, now=case.now)
        started = time.perf_counter()
        try:
            backend = dataset.at(case.now)
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
        """predictions.jsonl for the engine; baselines/<method>.predictions.jsonl for the rest."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for method in self.run.methods:
            path = (
                self.out_dir / PREDICTIONS_FILE
                if method == ENGINE
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
) -> EvalResult:
    """Replay, score where truth exists, write predictions, scores and reports.

    The result's scores are None (and scores.json is not written) when no
    dataset had truth: a blind run. With `memory` (evals.memory), cases run in
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
