"""What an eval run produces: predictions per case, scores, timings, the report's data.

Every file the harness writes (predictions.jsonl, scores.json) is one of these
models dumped as JSON, so a later tool can read a run back without guessing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from tools.telemetry.replay.format import FaultType, Severity

ENGINE = "engine"
IN_SAMPLE = "engine (in-sample)"
MEMORY = "engine+memory"
ALL_DATASETS = "(all)"
NO_LAG = "0 s"
# Which ranking model scored a dataset: the one fitted without it, or the shipped
# one (already out of sample when the dataset was not in its fit).
HELD_OUT = "held out"
SHIPPED = "shipped"


class RankedSuspect(BaseModel):
    """One entry of a ranking. `confidence` is None for methods that give no
    probability (the baselines), so they never enter the calibration figures."""

    service: str
    instance: str | None = None
    score: float = 0.0
    confidence: float | None = None
    fault_type: FaultType | None = None


class RecalledIncident(BaseModel):
    """A past incident a case recalled (memory mode), as its prediction records it."""

    id: str
    kind: str = "incident"
    services: list[str] = Field(default_factory=list)
    fault_type: str | None = None
    score: float = 0.0


class Prediction(BaseModel):
    """One line of predictions.jsonl: what a method said about one case.

    Holds the spec's prediction fields (docs/replay-format.md, "Blind runs") plus
    the method, the alert lag the case was replayed at, the ranking model, the
    verdict and the error of a case that raised (then the ranking is empty and the
    case scores as a miss).
    """

    id: str
    dataset: str
    method: str = ENGINE
    lag: str = Field(NO_LAG, description="The --alert-lag the case ran under, e.g. '300 s'.")
    alert_lag_s: int = Field(0, description="Seconds this case's alert and clock were moved.")
    ranking_model: str | None = Field(
        None, description="'held out' (fitted without this dataset) or 'shipped'; engines only."
    )
    ranking: list[RankedSuspect] = Field(default_factory=list)
    fault_type: FaultType | None = None
    severity: Severity | None = None
    page_team: str | None = None
    elapsed_s: float = 0.0
    verdict: str | None = None
    engine: str | None = Field(
        None, description="'deterministic' or 'llm:<model>' (fallbacks say so)."
    )
    alert_at: datetime | None = None
    now: datetime | None = None
    error: str | None = None
    recalled: list[RecalledIncident] = Field(
        default_factory=list, description="Memory mode: what the recall step returned."
    )


class CaseScore(BaseModel):
    """One case of one method held against its truth."""

    id: str
    dataset: str
    method: str
    lag: str = NO_LAG
    true_service: str
    true_fault_type: FaultType
    rank: int | None = Field(None, description="1-based service rank of the truth; None = absent.")
    top: list[str] = Field(default_factory=list, description="The top-3 services predicted.")
    confidence: float | None = Field(None, description="Top-1 confidence, if the method has one.")
    fault_type: FaultType | None = None
    fault_type_correct: bool | None = None
    severity_correct: bool | None = None
    page_team_correct: bool | None = None
    candidates: int = 0
    ranked: int = Field(0, description="How many services the ranking named.")
    verdict: str | None = Field(None, description="The engine's verdict on its ranking.")
    error: str | None = None

    @property
    def hit1(self) -> bool:
        return self.rank == 1


class ScoreRow(BaseModel):
    """Accuracy of one method over a group of cases (a dataset, or a dataset and fault type).

    AC@k is the share of cases whose true service is in the top k; Avg@5 is the
    mean of AC@1..AC@5. Accuracies over optional truth fields are None where no
    case in the group has that field; `*_n` says how many did.
    """

    dataset: str
    method: str
    lag: str = NO_LAG
    fault_type: str | None = None
    n: int
    errors: int = 0
    empty: int = Field(0, description="Cases answered with no suspect at all (no error).")
    ac1: float
    ac3: float
    ac5: float
    avg5: float
    chance_ac1: float | None = Field(None, description="AC@1 of a uniform random guess.")
    fault_type_acc: float | None = None
    severity_acc: float | None = None
    severity_n: int = 0
    page_team_acc: float | None = None
    page_team_n: int = 0


class CalibrationBin(BaseModel):
    lower: float
    upper: float
    n: int
    mean_confidence: float | None = None
    accuracy: float | None = None


class CalibrationSummary(BaseModel):
    """How well top-1 confidence matches top-1 accuracy for one method and dataset."""

    dataset: str
    method: str
    lag: str = NO_LAG
    n: int
    brier: float | None = None
    ece: float | None = None
    bins: list[CalibrationBin] = Field(default_factory=list)


class VerdictRow(BaseModel):
    """The engine's top suspects under one verdict: a confidence is honest only if a
    responder can read "inconclusive" as less likely right than "conclusive"."""

    dataset: str
    lag: str = NO_LAG
    verdict: str
    n: int
    mean_confidence: float | None = None
    hit_rate: float


class TimingSummary(BaseModel):
    """Wall time per case of one method on one dataset."""

    dataset: str
    method: str
    lag: str = NO_LAG
    n: int
    median_s: float
    p95_s: float
    max_s: float
    total_s: float


class MemoryScore(BaseModel):
    """Memory mode on one dataset: retrieval recall@5, and AC@1 with memory against without.

    A case is `eligible` when an earlier case of the dataset had the same true
    root-cause service and fault type; it is a hit when one such incident is
    among its recalled incidents.
    """

    dataset: str
    n: int
    eligible: int
    recalled: int
    recall_at_5: float | None = None
    ac1_without: float
    ac1_with: float


class DatasetRun(BaseModel):
    """One dataset as the run saw it: where, how long it took to open, whether it has truth."""

    name: str
    path: Path
    system: str = ""
    cases: int = 0
    services: int = Field(0, description="Services the dataset knows: the candidate set size.")
    has_truth: bool = False
    load_s: float = 0.0
    cache_built: bool = Field(False, description="True when open() parsed the raw files.")
    ranking_model: str = Field(
        SHIPPED,
        description="The engine's headline model here: 'held out' when the shipped model was"
        " fitted on this dataset (by its name), else 'shipped'.",
    )
    error: str | None = None


class EvalRun(BaseModel):
    """Everything one `triage eval` produced, before it is scored."""

    started_at: datetime
    out_dir: Path
    datasets: list[DatasetRun] = Field(default_factory=list)
    methods: list[str] = Field(default_factory=lambda: [ENGINE])
    lags: list[str] = Field(default_factory=lambda: [NO_LAG])
    predictions: list[Prediction] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    baseline_setup_s: float | None = Field(None, description="Importing the baselines, once.")


class HeadlineRow(BaseModel):
    """The engine on one dataset at one alert lag: out of sample first (the model
    fitted without the dataset, or the shipped one where it was not in the fit),
    the in-sample figures beside them where the dataset was in the fit."""

    dataset: str
    lag: str
    ranking_model: str
    score: ScoreRow
    calibration: CalibrationSummary | None = None
    timing: TimingSummary | None = None
    in_sample: ScoreRow | None = None
    in_sample_calibration: CalibrationSummary | None = None


class Scores(BaseModel):
    """scores.json: the run's figures, machine-readable."""

    started_at: datetime
    datasets: list[DatasetRun]
    methods: list[str]
    lags: list[str] = Field(default_factory=lambda: [NO_LAG])
    headline: list[HeadlineRow] = Field(default_factory=list)
    summary: list[ScoreRow] = Field(default_factory=list)
    by_fault_type: list[ScoreRow] = Field(default_factory=list)
    calibration: list[CalibrationSummary] = Field(default_factory=list)
    by_verdict: list[VerdictRow] = Field(default_factory=list)
    timing: list[TimingSummary] = Field(default_factory=list)
    cases: list[CaseScore] = Field(default_factory=list)
    memory: list[MemoryScore] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
