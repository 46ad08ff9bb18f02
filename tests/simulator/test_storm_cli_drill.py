"""Alert storms, the CLI plug-ins, the demo dataset and drills end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from agent.alert.parse import parse_alert
from agent.policy.load import default_policy
from evals.drill.answers import TeamAnswers
from evals.drill.cli import register as register_drill
from evals.drill.report import write
from evals.drill.scenario import new_drill
from evals.drill.score import score
from evals.simulator.cli import register as register_simulate
from evals.simulator.demo import DEMO_DIR, DEMO_SEED, demo_plans
from evals.simulator.estate import Estate
from evals.simulator.generate import Options, generate
from tools.telemetry.replay.format import load_cases, load_truth


def test_a_5000_alert_storm(tmp_path: Path) -> None:
    out = tmp_path / "storm"
    generate(Options(out=out, seed=5, cases=1, faults=("psp-outage",), storm=5000, volume=0.1))
    case = load_cases(out)[0]
    lines = (out / "alerts" / f"{case.id}.jsonl").read_text().splitlines()
    assert len(lines) == 5000
    fingerprints, statuses = set(), set()
    for line in lines[::25]:
        item = json.loads(line)
        alerts = parse_alert(item["payload"], item["source"])
        fingerprints |= {a.fingerprint for a in alerts}
        statuses |= {a.status for a in alerts}
    assert len(fingerprints) >= 20
    assert statuses == {"firing", "resolved"}
    truth = load_truth(out)
    assert truth is not None and truth[case.id].model_extra["storm"]["alerts"] == 5000


def _app() -> typer.Typer:
    app = typer.Typer()
    register_simulate(app)
    register_drill(app)
    return app


def test_simulate_command(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        _app(),
        [
            "simulate",
            "--out",
            str(out),
            "--seed",
            "2",
            "--cases",
            "2",
            "--faults",
            "cpu,web-attack",
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(load_cases(out)) == 2
    bad = CliRunner().invoke(_app(), ["simulate", "--out", str(out), "--faults", "nope"])
    assert bad.exit_code != 0


def test_committed_demo_dataset() -> None:
    size = sum(p.stat().st_size for p in DEMO_DIR.rglob("*") if p.is_file())
    assert size <= 5_000_000
    case = next(c for c in load_cases(DEMO_DIR) if c.id == "demo-0001")
    truth = load_truth(DEMO_DIR)
    assert truth is not None and truth["demo-0001"].root_cause.fault_type == "bad-deploy"
    assert case.alert.source in {"alertmanager", "cloudwatch"}
    alert = parse_alert(case.alert.payload, case.alert.source)[0]
    service = default_policy().service(alert.service or "")
    assert service is not None and service.user_facing


def test_drill_round_trip(tmp_path: Path) -> None:
    drill = new_drill(8, tmp_path / "drill", fault="bad-config", volume=0.2)
    root = drill.root
    assert not (root / "dataset" / "truth.jsonl").exists()
    truth = json.loads((root / "sealed" / "truth.json").read_text())
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        yaml.safe_dump(
            {
                "team": "blue",
                "time_to_detect_min": 6,
                "root_cause_service": truth["root_cause"]["service"],
                "fault_type": "config",
                "severity": truth["severity"],
                "paged": truth["page_team"],
                "time_to_first_update_min": 20,
            }
        )
    )
    result = CliRunner().invoke(
        _app(),
        ["drill", "score", str(root), "--answers", str(answers), "--out", str(tmp_path / "report")],
    )
    assert result.exit_code == 0, result.output
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| **Total** |" in report and "blue" in report
    assert (tmp_path / "report" / "report.html").read_text().startswith("<!doctype html>")
    card = score(root, TeamAnswers(team="blue", root_cause_service="nope"))
    assert card.total("team") == 0
    assert write(card, tmp_path / "again")


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("answers.json", "not json", "answers.json: not valid JSON"),
        ("answers.yaml", "time_to_detect_min: -3\n", "time_to_detect_min: Input should be"),
        ("answers.yaml", "team: a\nguess: db\n", "answers.yaml: guess: Extra inputs"),
        ("answers.yaml", "- a list\n", "expected a mapping of answers"),
    ],
)
def test_bad_answers_get_a_clear_error(tmp_path: Path, name: str, text: str, says: str) -> None:
    answers = tmp_path / name
    answers.write_text(text)
    result = CliRunner().invoke(
        _app(), ["drill", "score", str(tmp_path), "--answers", str(answers)]
    )
    assert result.exit_code == 2
    assert says in result.output and "Traceback" not in result.output


def test_scoring_a_folder_that_is_no_drill_says_so(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("team: a\n")
    result = CliRunner().invoke(
        _app(), ["drill", "score", str(tmp_path), "--answers", str(answers)]
    )
    assert result.exit_code == 2 and "not a drill folder" in result.output


def test_sealed_truth_is_checked(tmp_path: Path) -> None:
    drill = new_drill(9, tmp_path / "drill", fault="cpu", volume=0.1)
    sealed = drill.root / "sealed" / "truth.json"
    sealed.write_text(sealed.read_text().replace('"SEV', '"XSEV'))
    try:
        score(drill.root, TeamAnswers())
    except ValueError as error:
        assert "edited after sealing" in str(error)
    else:
        raise AssertionError("a tampered truth was accepted")


def test_demo_regenerates_identically(tmp_path: Path) -> None:
    plans = demo_plans()[:1]
    options = Options(out=tmp_path / "demo", seed=DEMO_SEED, cases=1, prefix="demo")
    generate(options, Estate.from_policy(), plans)
    committed = (DEMO_DIR / "cases.jsonl").read_text().splitlines()[0]
    assert (tmp_path / "demo" / "cases.jsonl").read_text().splitlines()[0] == committed
    truth = (DEMO_DIR / "truth.jsonl").read_text().splitlines()[0]
    assert (tmp_path / "demo" / "truth.jsonl").read_text().splitlines()[0] == truth
