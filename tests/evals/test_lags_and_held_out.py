"""Late alerts and out-of-sample scoring through the harness, on the tiny dataset."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent.alert.models import Alert
from agent.isolation.models import Hypothesis, Isolation
from agent.isolation.ranking import Calibration, HeldOutFit, RankingModel, load_model
from evals.alert_intake import ON_TIME, AlertLag
from evals.harness import IN_SAMPLE_FILE, run_eval
from evals.models import IN_SAMPLE
from evals.triage import CaseResult
from tests.evals.conftest import make_fixed_engine
from tests.evals.test_harness import read_lines
from tests.evals.tiny_dataset import FAULTS
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import CaseRecord

LATE = AlertLag.parse("120")
TRUTH = {f.case_id: f.service for f in FAULTS}


def test_each_lag_moves_the_alert_and_the_clock_for_engine_and_baselines_alike(
    tiny: Path, tmp_path: Path
) -> None:
    calls: list[tuple[TelemetryBackend, list[Alert]]] = []
    out = tmp_path / "out"
    result = run_eval(
        [tiny], out, engine=make_fixed_engine(calls), with_baselines=True, lags=[ON_TIME, LATE]
    )

    late = timedelta(seconds=120)
    assert [b.now for b, _ in calls] == [f.now for f in FAULTS] + [f.now + late for f in FAULTS]
    assert [a[0].starts_at for _, a in calls[3:]] == [f.alert_at + late for f in FAULTS]
    engine = read_lines(out / "predictions.jsonl")
    assert [(p["lag"], p["alert_lag_s"]) for p in engine] == [("0 s", 0)] * 3 + [("120 s", 120)] * 3
    random = read_lines(out / "baselines" / "random.predictions.jsonl")
    assert [p["alert_at"] for p in random] == [p["alert_at"] for p in engine]

    assert result.scores is not None and result.scores.lags == ["0 s", "120 s"]
    assert [(h.lag, h.score.n) for h in result.scores.headline] == [("0 s", 3), ("120 s", 3)]
    assert {(r.lag, r.method) for r in result.scores.summary} >= {
        ("120 s", "engine"),
        ("120 s", "random"),
    }
    md = (out / "report.md").read_text()
    assert "| dataset | method | AC@1 at 0 s | AC@1 at 120 s |" in md
    assert "| tiny-shop | engine | 0.33 | 0.33 |" in md
    assert "| dataset | method | ECE at 0 s | ECE at 120 s |" in md
    assert md.index("## Headline") < md.index("## Scores")
    assert "| tiny-shop | tiny-02 | 120 s |" in md  # cases per lag


def _knowing_triage(seen: list[tuple[str, RankingModel | None]]):
    """Right on every case with the shipped model (as an overfitted fit would be), the
    fixed order cart, db, frontend with any other model."""

    def triage(dataset: ReplayDataset, case: CaseRecord, ranking: RankingModel | None):
        seen.append((case.id, ranking))
        shipped = ranking is not None and bool(ranking.held_out)
        order = [TRUTH[case.id]] if shipped else ["cart", "db", "frontend"]
        confidence = 0.9 if shipped else 0.7
        hypotheses = [Hypothesis(service=s, confidence=confidence) for s in order]
        return CaseResult(isolation=Isolation(hypotheses=hypotheses, verdict="conclusive"))

    return triage


def _fitted_on_tiny() -> RankingModel:
    shipped = load_model()
    held_out = HeldOutFit(
        weights=[0.0] * len(shipped.weights),
        calibration=Calibration(slope=0.5),
        fitted_on=["other-shop (9 cases)"],
    )
    return shipped.model_copy(update={"held_out": {"tiny-shop": held_out}})


def test_a_dataset_in_the_fit_is_headlined_by_its_held_out_model_in_sample_beside(
    tiny: Path, tmp_path: Path
) -> None:
    seen: list[tuple[str, RankingModel | None]] = []
    out = tmp_path / "out"
    shipped = _fitted_on_tiny()
    result = run_eval([tiny], out, triage=_knowing_triage(seen), ranking=shipped)

    assert result.run.methods[:2] == ["engine", IN_SAMPLE]
    held_out = [m for _, m in seen[::2]]
    assert all(m is not None and m.weights == [0.0] * len(m.weights) for m in held_out)
    assert all(m is not None and m.calibration.slope == 0.5 and not m.held_out for m in held_out)
    assert all(m is shipped for _, m in seen[1::2])
    assert {p["ranking_model"] for p in read_lines(out / "predictions.jsonl")} == {"held out"}
    assert {p["ranking_model"] for p in read_lines(out / IN_SAMPLE_FILE)} == {"shipped"}

    assert result.scores is not None
    (row,) = result.scores.headline
    assert row.ranking_model == "held out" and row.score.ac1 == pytest.approx(1 / 3)
    assert row.in_sample is not None and row.in_sample.ac1 == 1.0
    assert row.in_sample_calibration is not None
    assert row.in_sample_calibration.ece == pytest.approx(0.1)
    md = (out / "report.md").read_text()
    head = (
        "| dataset | alert lag | ranking model | n | AC@1 | AC@3 | Avg@5 | ECE | in-sample AC@1 |"
    )
    assert head in md
    assert "| tiny-shop | 0 s | held out (fitted without it) | 3 | 0.33 | 1.00 | 0.80 |" in md


def test_a_dataset_outside_the_fit_is_already_out_of_sample(tiny: Path, tmp_path: Path) -> None:
    seen: list[tuple[str, RankingModel | None]] = []
    shipped = load_model().model_copy(update={"held_out": {}})
    result = run_eval([tiny], tmp_path / "out", triage=_knowing_triage(seen), ranking=shipped)
    assert IN_SAMPLE not in result.run.methods
    assert [m for _, m in seen] == [shipped] * 3
    assert result.scores is not None
    (row,) = result.scores.headline
    assert row.ranking_model == "shipped" and row.in_sample is None
