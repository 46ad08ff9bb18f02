"""`--out` of `triage simulate` and `triage drill new` replaces what it wrote before, and
nothing else: a mistyped folder is refused, its files kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from evals.drill.cli import register as register_drill
from evals.simulator.cli import register as register_simulate

SMALL = ["--seed", "3"]


def invoke(*args: str) -> tuple[int, str]:
    app = typer.Typer()
    register_simulate(app)
    register_drill(app)
    done = CliRunner().invoke(app, list(args))
    assert "Traceback" not in done.output
    return done.exit_code, done.output


@pytest.mark.parametrize(
    "command",
    [["simulate", "--cases", "1", "--faults", "cpu"], ["drill", "new", "--fault", "cpu"]],
)
def test_a_folder_that_is_no_dataset_is_not_deleted(tmp_path: Path, command: list[str]) -> None:
    precious = tmp_path / "work" / "notes.md"
    precious.parent.mkdir()
    precious.write_text("a week of notes", encoding="utf-8")
    target = precious.parent if command[0] == "simulate" else tmp_path
    if command[0] == "drill":
        (tmp_path / "dataset").mkdir()
        (tmp_path / "dataset" / "notes.md").write_text("kept", encoding="utf-8")
    code, output = invoke(*command, *SMALL, "--out", str(target))
    assert code == 2 and "refusing to replace it" in output, output
    assert precious.read_text(encoding="utf-8") == "a week of notes"
    assert command[0] == "simulate" or (tmp_path / "dataset" / "notes.md").exists()


def test_a_file_as_out_is_one_line_error(tmp_path: Path) -> None:
    existing = tmp_path / "alert.json"
    existing.write_text("{}", encoding="utf-8")
    code, output = invoke("simulate", "--cases", "1", "--faults", "cpu", "--out", str(existing))
    assert code == 2 and "not a folder" in output, output
    assert existing.read_text(encoding="utf-8") == "{}"


def test_a_dataset_written_before_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    for _ in range(2):
        code, output = invoke(
            "simulate", "--cases", "1", "--faults", "cpu", *SMALL, "--out", str(out)
        )
        assert code == 0, output
    assert (out / "dataset.json").is_file()
