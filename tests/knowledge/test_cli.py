"""`triage kb` through typer's CliRunner, as the entry point plugs it in."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from agent.kb_cli import register
from tests.knowledge.conftest import REPO, SEED

runner = CliRunner()


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("TRIAGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TRIAGE_CONFIG", raising=False)
    app = typer.Typer(name="triage", no_args_is_help=True)
    register(app)
    return app


def test_the_kb_command_is_registered_as_a_plugin() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["entry-points"]["triage.commands"]["kb"] == "agent.kb_cli:register"


def test_ingest_then_stats_then_search(app: typer.Typer, tmp_path: Path) -> None:
    done = runner.invoke(app, ["kb", "ingest", str(SEED)])
    assert done.exit_code == 0, done.output
    assert "incidents" in done.output and "runbooks" in done.output

    stats = runner.invoke(app, ["kb", "stats", "--json"])
    facts = json.loads(stats.output)
    assert facts["by_kind"]["incident"] >= 30 and facts["by_kind"]["runbook"] >= 10
    assert facts["by_service"]["payment"] >= 2
    assert "Universal Sentence Encoder multilingual" in facts["embedding"]
    assert facts["location"] == str(tmp_path / "home" / "memory")

    found = runner.invoke(
        app, ["kb", "search", "card payments fail after a deploy", "--service", "payment", "--json"]
    )
    rows = json.loads(found.output)
    assert rows and all("payment" in r["services"] for r in rows)
    assert rows[0]["reason"]

    text = runner.invoke(app, ["kb", "search", "disk full", "--fault-type", "disk", "--limit", "2"])
    assert text.exit_code == 0 and "why:" in text.output and "3." not in text.output


def test_bad_files_are_named_with_the_field_and_good_ones_are_kept(
    app: typer.Typer, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    good = (SEED / "postmortems").glob("INC-2025-0412*.md")
    (folder / "good.md").write_text(next(good).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "bad.md").write_text("---\nid: X\ntitle: t\nsurvices: [a]\n---\n", encoding="utf-8")
    done = runner.invoke(app, ["kb", "ingest", str(folder)])
    assert done.exit_code == 1
    assert "bad.md" in done.output and "survices: unknown field" in done.output
    assert "Traceback" not in done.output
    assert "ingested 1 incident from 2 file(s)" in done.output
    stats = json.loads(runner.invoke(app, ["kb", "stats", "--json"]).output)
    assert stats["records"] == 1


def test_broken_front_matter_is_one_line_saying_where(app: typer.Typer, tmp_path: Path) -> None:
    broken = tmp_path / "broken.md"
    broken.write_text("---\nid: RB-x\nkind: runbook\ntitle: [oops\n---\nbody\n", encoding="utf-8")
    done = runner.invoke(app, ["kb", "ingest", str(broken)])
    assert done.exit_code == 1 and "Traceback" not in done.output
    (said,) = [line for line in done.output.splitlines() if "broken.md" in line]
    assert "front matter is not valid YAML: line 4, column 13: expected" in said, done.output
