"""`triage eval-memory`: the retrieval benchmark's plumbing, on a few of its own questions."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import typer
import yaml
from typer.testing import CliRunner

from evals.memory_bench.bench import load_queries
from evals.memory_bench.cli import register
from tests.knowledge.conftest import REPO


def test_the_bundled_questions_are_bilingual_and_name_seed_records() -> None:
    queries = load_queries()
    assert len(queries) >= 60
    assert {q.lang for q in queries} == {"en", "ja"}
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    entry = project["project"]["entry-points"]["triage.commands"]["eval-memory"]
    assert entry == "evals.memory_bench.cli:register"


def test_eval_memory_scores_each_direction_and_lists_misses(tmp_path: Path) -> None:
    asked = [
        {"lang": "ja", "expect": "INC-2025-1002", "q": "在庫のPodがOOMKilledで再起動を繰り返す"},
        {"lang": "en", "expect": "INC-2025-0603", "q": "lunch peak, all stuck on a table lock"},
        {"lang": "en", "expect": "INC-2026-0409", "q": "quarterly revenue forecast spreadsheet"},
    ]
    questions = tmp_path / "q.yaml"
    questions.write_text(yaml.safe_dump({"queries": asked}, allow_unicode=True), "utf-8")
    app = typer.Typer()
    register(app)
    app.callback()(lambda: None)
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["eval-memory", "--queries", str(questions), "--out", str(out)])
    assert done.exit_code == 0, done.output
    scores = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    rows = {row["direction"]: row for row in scores["scores"]}
    assert set(rows) == {"JA->EN", "EN->JA", "all"}
    assert rows["JA->EN"]["recall_at_1"] == 1.0 and rows["EN->JA"]["n"] == 2
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| JA->EN | 1 | 1.00 | 1.00 | 1.00 |" in report
    assert "quarterly revenue forecast" in report, "a miss is listed with what came first"
