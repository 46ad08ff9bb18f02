"""The replay loop end to end on the tiny dataset, with engines whose answers are known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.alert.models import Alert
from agent.isolation.models import Isolation
from evals.harness import run_eval
from tests.evals.conftest import FIXED_ORDER, make_fixed_engine
from tests.evals.tiny_dataset import FAULTS, blind_copy
from tools.telemetry.backend import TelemetryBackend

SPEC_FIELDS = {"id", "ranking", "fault_type", "severity", "page_team", "elapsed_s"}


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_replays_every_case_blind_and_writes_spec_prediction_lines(
    tiny: Path, tmp_path: Path
) -> None:
    calls: list[tuple[TelemetryBackend, list[Alert]]] = []
    out = tmp_path / "out"
    run_eval([tiny], out, engine=make_fixed_engine(calls))

    lines = read_lines(out / "predictions.jsonl")
    assert [line["id"] for line in lines] == [f.case_id for f in FAULTS]
    for line in lines:
        assert set(line) >= SPEC_FIELDS
        assert line["dataset"] == "tiny-shop"
        assert line["verdict"] == "conclusive"
        assert [r["service"] for r in line["ranking"]] == list(FIXED_ORDER)
        assert [r["confidence"] for r in line["ranking"]] == [0.7, 0.2, 0.1]
        assert line["fault_type"] == "cpu"
        assert line["severity"] is None and line["page_team"] is None
        assert line["elapsed_s"] > 0
        assert line["error"] is None

    # The engine saw each case through a backend bound to the case's clock, and the
    # alert its source sent (the CloudWatch timestamp included).
    assert [backend.now for backend, _ in calls] == [f.now for f in FAULTS]
    assert [alerts[0].starts_at for _, alerts in calls] == [f.alert_at for f in FAULTS]
    assert [alerts[0].source for _, alerts in calls] == [f.source for f in FAULTS]
    assert calls[2][1][0].service == "frontend"  # from the alarm's Service dimension


def test_scores_match_the_hand_worked_answers(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_eval([tiny], out, engine=make_fixed_engine())

    # Fixed order cart, db, frontend; truths cart, db, frontend -> ranks 1, 2, 3.
    scores = json.loads((out / "scores.json").read_text())
    (row,) = scores["summary"]
    assert row["dataset"] == "tiny-shop" and row["method"] == "engine" and row["n"] == 3
    assert row["ac1"] == pytest.approx(1 / 3)
    assert row["ac3"] == pytest.approx(1.0)
    assert row["avg5"] == pytest.approx((1 / 3 + 2 / 3 + 1 + 1 + 1) / 5)
    assert row["chance_ac1"] == pytest.approx(1 / 3)
    # top-1 fault type is always cpu; only tiny-01 is a cpu fault
    assert row["fault_type_acc"] == pytest.approx(1 / 3)
    # only tiny-01 has a severity and a team in truth; the engine gives neither yet
    assert (row["severity_acc"], row["severity_n"]) == (0.0, 1)
    assert (row["page_team_acc"], row["page_team_n"]) == (0.0, 1)

    by_type = {r["fault_type"]: r["ac1"] for r in scores["by_fault_type"]}
    assert by_type == {"cpu": 1.0, "database": 0.0, "code-exception": 0.0}

    (calibration,) = scores["calibration"]
    # every top-1 confidence is 0.7; one hit in three
    assert calibration["brier"] == pytest.approx((0.3**2 + 0.7**2 + 0.7**2) / 3)
    assert calibration["ece"] == pytest.approx(abs(1 / 3 - 0.7))
    assert [b["n"] for b in calibration["bins"]][7] == 3

    (timing,) = scores["timing"]
    assert timing["n"] == 3 and 0 < timing["median_s"] <= timing["p95_s"]
    (dataset,) = scores["datasets"]
    assert dataset["has_truth"] and dataset["cases"] == 3 and dataset["services"] == 3
    assert dataset["load_s"] > 0 and dataset["cache_built"] is True
    assert [c["rank"] for c in scores["cases"]] == [1, 2, 3]
    assert result.scores is not None and result.scores.summary[0].ac1 == pytest.approx(1 / 3)


def test_reports_hold_the_tables_and_embedded_plots(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_eval([tiny], out, engine=make_fixed_engine())

    md = (out / "report.md").read_text()
    for heading in (
        "## Scores",
        "## By true fault type",
        "## Calibration",
        "### By verdict",
        "## Timing",
        "## Cases",
    ):
        assert heading in md
    assert "| tiny-shop | engine | 3 | 0.33 | 1.00 | 1.00 | 0.80 |" in md
    assert "| tiny-shop | conclusive | 3 | 0.70 | 0.33 |" in md
    assert "| tiny-shop | tiny-02 | db (database) | cart, db, frontend | 0.70 | 2 | miss |" in md
    assert (out / "reliability.png").read_bytes().startswith(b"\x89PNG")

    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2  # accuracy bars + reliability diagram
    assert '<td class="hit">hit</td>' in html and "tiny-03" in html
    assert 'src="reliability.png"' not in html  # self-contained


def test_a_case_that_raises_is_recorded_as_a_miss_and_the_run_goes_on(
    tiny: Path, tmp_path: Path
) -> None:
    fixed = make_fixed_engine()
    broken_now = FAULTS[1].now

    def flaky(backend: TelemetryBackend, alerts: list[Alert]) -> Isolation:
        if backend.now == broken_now:
            raise RuntimeError("engine exploded")
        return fixed(backend, alerts)

    out = tmp_path / "out"
    result = run_eval([tiny], out, engine=flaky)

    lines = {line["id"]: line for line in read_lines(out / "predictions.jsonl")}
    assert len(lines) == 3
    assert lines["tiny-02"]["error"] == "RuntimeError: engine exploded"
    assert lines["tiny-02"]["ranking"] == [] and lines["tiny-02"]["verdict"] == "error"
    assert lines["tiny-01"]["error"] is None and lines["tiny-03"]["ranking"]
    assert result.scores is not None
    (row,) = result.scores.summary
    assert row.errors == 1
    assert row.ac3 == pytest.approx(2 / 3)  # tiny-02 (rank 2 otherwise) is a miss
    assert "engine exploded" in (out / "errors.log").read_text()
    assert "RuntimeError: engine exploded" in (out / "report.md").read_text()


def test_a_blind_dataset_gets_predictions_and_no_scores(tiny: Path, tmp_path: Path) -> None:
    blind = blind_copy(tiny, tmp_path / "blind-shop")
    out = tmp_path / "out"
    result = run_eval([blind], out, engine=make_fixed_engine())

    assert len(read_lines(out / "predictions.jsonl")) == 3
    assert not (out / "scores.json").exists()
    assert result.scores is None
    md = (out / "report.md").read_text()
    assert "blind run" in md and "## Scores" not in md
    assert "## Timing" in md and "no (blind)" in md
    assert (out / "report.html").exists()


def test_case_and_limit_pick_the_cases(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "one"
    run_eval([tiny], out, engine=make_fixed_engine(), case_ids=["tiny-03", "nope"])
    assert [line["id"] for line in read_lines(out / "predictions.jsonl")] == ["tiny-03"]
    assert "not found in any dataset: nope" in (out / "report.md").read_text()

    out = tmp_path / "two"
    run_eval([tiny], out, engine=make_fixed_engine(), limit=2)
    assert [line["id"] for line in read_lines(out / "predictions.jsonl")] == ["tiny-01", "tiny-02"]


def test_a_folder_that_is_no_dataset_is_reported_not_fatal(tiny: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    result = run_eval([empty, tiny], out, engine=make_fixed_engine())
    assert [d.name for d in result.run.datasets] == ["empty", "tiny-shop"]
    assert result.run.datasets[0].error
    assert len(read_lines(out / "predictions.jsonl")) == 3
