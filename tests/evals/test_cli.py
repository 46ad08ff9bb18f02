"""`triage eval` through typer's CliRunner, as the entry point plugs it in."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import evals.triage
from evals.cli import register
from evals.triage import engine_only
from tests.evals.conftest import REPO, make_fixed_engine

runner = CliRunner()


def triage_app() -> typer.Typer:
    app = typer.Typer(name="triage", no_args_is_help=True)
    register(app)
    return app


def test_eval_command_replays_scores_and_prints_the_summary(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evals.triage, "graph_triage", lambda _: engine_only(make_fixed_engine()))
    out = tmp_path / "out"
    result = runner.invoke(
        triage_app(), ["eval", str(tiny), "--out", str(out), "--case", "tiny-02"]
    )
    assert result.exit_code == 0, result.output
    lines = (out / "predictions.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["tiny-02"]
    scores = json.loads((out / "scores.json").read_text())
    assert scores["summary"][0]["ac1"] == 0.0 and scores["summary"][0]["ac3"] == 1.0
    assert "AC@1" in result.output and "tiny-shop" in result.output
    assert "report.html" in result.output


def test_eval_command_runs_the_real_engine_without_dying(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(triage_app(), ["eval", str(tiny), "--out", str(out), "--limit", "2"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == 2
    for line in lines:  # either an answer or a recorded error, never a lost case
        assert line["ranking"] or line["error"]


def test_eval_command_with_the_scripted_llm_records_the_engine(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["eval", str(tiny), "--out", str(out), "--limit", "1", "--llm", "scripted"]
    result = runner.invoke(triage_app(), args)
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert line["engine"] == "llm:scripted" or line["error"]
    assert line["severity"] and line["page_team"]


def test_eval_command_rejects_a_missing_folder(tmp_path: Path) -> None:
    result = runner.invoke(
        triage_app(), ["eval", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code != 0
    assert not (tmp_path / "out").exists()


def test_the_eval_command_is_declared_as_a_triage_plugin() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    plugins = project["project"]["entry-points"]["triage.commands"]
    assert plugins["eval"] == "evals.cli:register"


def test_eval_command_runs_every_alert_lag_and_shows_them_side_by_side(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evals.triage, "graph_triage", lambda _: engine_only(make_fixed_engine()))
    out = tmp_path / "out"
    args = ["eval", str(tiny), "--out", str(out), "--alert-lag", "0", "--alert-lag", "60-120"]
    result = runner.invoke(triage_app(), [*args, "--seed", "3"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [line["lag"] for line in lines] == ["0 s"] * 3 + ["60-120 s"] * 3
    assert all(60 <= line["alert_lag_s"] <= 120 for line in lines[3:])
    assert "by method and alert lag" in result.output and "AC@1 at 60-120 s" in result.output


def test_eval_command_refuses_a_bad_alert_lag_in_one_line(tmp_path: Path, tiny: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        triage_app(), ["eval", str(tiny), "--out", str(out), "--alert-lag", "5m"]
    )
    assert result.exit_code != 0
    assert "expected SECONDS or MIN-MAX" in result.output and "Traceback" not in result.output
    assert not out.exists()
