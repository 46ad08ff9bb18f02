"""`triage drill score` with answers as a facilitator copies them from a whiteboard: names
in any case, a team's display name, times without a zone, and times that cannot be."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner, Result

from agent.policy.load import default_policy
from evals.drill.cli import register
from evals.drill.scenario import new_drill


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_drill(
        8, tmp_path_factory.mktemp("drill") / "drill", fault="bad-config", volume=0.2
    ).root


def truth(root: Path) -> dict[str, Any]:
    sealed: dict[str, Any] = json.loads((root / "sealed" / "truth.json").read_text())
    return sealed


def scored(root: Path, tmp_path: Path, answers: dict[str, object]) -> Result:
    app = typer.Typer()
    register(app)
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
    out = ["--out", str(tmp_path / "report")]
    return CliRunner().invoke(app, ["drill", "score", str(root), "--answers", str(path), *out])


def points(tmp_path: Path, label: str) -> str:
    """The team's points on the report's row `label`."""
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    row = next(line for line in report.splitlines() if line.startswith(f"| {label} |"))
    return row.split("|")[4].strip()


def test_right_answers_in_another_case_or_by_display_name_score(
    drill: Path, tmp_path: Path
) -> None:
    sealed = truth(drill)
    team = default_policy().team(sealed["page_team"])
    assert team is not None
    done = scored(
        drill,
        tmp_path,
        {
            "root_cause_service": f" {sealed['root_cause']['service'].upper()}",
            "fault_type": sealed["root_cause"]["fault_type"].upper(),
            "severity": sealed["severity"].lower(),
            "paged": [team.display_name.get("ja")],
        },
    )
    assert done.exit_code == 0, done.output
    assert points(tmp_path, "Root cause service") == "35"
    assert points(tmp_path, "Fault type") == "15"
    assert points(tmp_path, "Severity") == "15"
    assert points(tmp_path, "Team paged") == "15"


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The facilitator's laptop is in Japan."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("tokyo")
def test_times_without_a_zone_are_utc_as_documented(drill: Path, tmp_path: Path) -> None:
    onset = datetime.fromisoformat(truth(drill)["fault_start"].replace("Z", "+00:00"))
    naive = (onset + timedelta(minutes=80)).replace(tzinfo=None)
    done = scored(drill, tmp_path, {"detected_at": naive.isoformat()})
    assert done.exit_code == 0, done.output
    assert "80.0 min" in (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert points(tmp_path, "Time to detect (from onset)") == "0"


@pytest.mark.parametrize("field", ["detected_at", "first_status_update_at"])
def test_a_time_before_the_fault_began_is_refused_not_scored_in_full(
    drill: Path, tmp_path: Path, field: str
) -> None:
    onset = datetime.fromisoformat(truth(drill)["fault_start"].replace("Z", "+00:00"))
    done = scored(drill, tmp_path, {field: (onset - timedelta(hours=9)).isoformat()})
    assert done.exit_code == 2
    assert field in done.output and "before the fault began" in done.output
    assert "Traceback" not in done.output
    assert not (tmp_path / "report").exists()
