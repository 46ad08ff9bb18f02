"""`triage` as a user runs it: a real process, real files, exit codes and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import load_config
from agent.context import build_context
from tests.support.synthetic import SyntheticDataset
from tools.telemetry.replay.format import CaseRecord


def triage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )


def test_run_json_carries_the_prediction_fields(
    tmp_path: Path, synthetic: SyntheticDataset, case: CaseRecord
) -> None:
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps(case.alert.payload), encoding="utf-8")
    done = triage(
        "run", str(alert), "--telemetry", str(synthetic.root), "--now", case.now.isoformat(),
        "--json", "--data-dir", str(tmp_path / "home"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ranking"][0]["service"] == "payment"
    assert 0.0 <= result["ranking"][0]["confidence"] <= 1.0
    for key in ("fault_type", "severity", "page_team", "elapsed_s", "incident_id", "ic", "paged"):
        assert key in result
    assert result["page_team"] == "payments"
    page = next(d for d in result["drafts"] if d["kind"] == "page")
    assert page["state"] == "pending" and page["evidence_ids"]
    assert set(page) >= {"id", "audience", "channel", "language", "state", "body", "evidence_ids"}


def test_a_malformed_alert_is_refused_naming_the_field(tmp_path: Path) -> None:
    alert = tmp_path / "bad.json"
    alert_entry = {"status": "firing", "labels": {"alertname": "X"}}
    payload = {"version": "4", "status": "firing", "alerts": [alert_entry]}
    alert.write_text(json.dumps(payload), encoding="utf-8")
    done = triage("run", str(alert), "--source", "alertmanager", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert "bad.json" in done.stderr and "alerts[0].startsAt" in done.stderr
    assert "Traceback" not in done.stderr


def test_without_telemetry_run_refuses_before_recording_anything(
    tmp_path: Path, case: CaseRecord
) -> None:
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps(case.alert.payload), encoding="utf-8")
    home = str(tmp_path / "home")
    done = triage("run", str(alert), "--data-dir", home)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no telemetry configured" in done.stderr and "--telemetry" in done.stderr
    listed = triage("incidents", "--data-dir", home)
    assert listed.returncode == 0 and "INC-" not in listed.stdout


def test_an_unknown_incident_is_a_clear_error(tmp_path: Path) -> None:
    done = triage("drafts", "INC-19990101-0001", "--data-dir", str(tmp_path / "home"))
    assert done.returncode == 2
    assert "INC-19990101-0001" in done.stderr and "Traceback" not in done.stderr


def test_help_lists_the_commands() -> None:
    done = triage("--help")
    assert done.returncode == 0
    for command in ("run", "replay", "demo", "drafts", "approve", "reject", "eval"):
        assert command in done.stdout


def test_run_on_a_recovery_no_open_incident_holds_says_so_and_opens_nothing(
    tmp_path: Path, synthetic: SyntheticDataset, case: CaseRecord
) -> None:
    payload = json.loads(json.dumps(case.alert.payload))
    payload["status"] = "resolved"
    for alert in payload["alerts"]:
        alert.update(status="resolved", endsAt=case.now.isoformat())
    alert_file = tmp_path / "resolved.json"
    alert_file.write_text(json.dumps(payload), encoding="utf-8")
    home = str(tmp_path / "home")
    done = triage(
        "run", str(alert_file), "--telemetry", str(synthetic.root), "--now", case.now.isoformat(),
        "--data-dir", home,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "recovery with no open incident: nothing to do", done.stdout
    listed = triage("incidents", "--json", "--data-dir", home)
    assert json.loads(listed.stdout) == [], listed.stderr


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("TRIAGE_LLM_MAX_STEPS", "0", "greater than or equal to 1"),
        ("TRIAGE_LLM_MAX_TOOL_CALLS", "many", "valid integer"),
    ],
)
def test_a_bad_llm_setting_in_the_environment_is_one_line(
    *,
    tmp_path: Path,
    case: CaseRecord,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    said: str,
) -> None:
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps(case.alert.payload), encoding="utf-8")
    monkeypatch.delenv("TRIAGE_CONFIG", raising=False)
    monkeypatch.setenv(name, value)
    done = triage("run", str(alert), "--data-dir", str(tmp_path / "home"))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: environment: {name}: ") and said in line, line


def test_an_edit_file_that_cannot_be_read_is_one_line_and_nothing_is_approved(
    tmp_path: Path, synthetic: SyntheticDataset, case: CaseRecord
) -> None:
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps(case.alert.payload), encoding="utf-8")
    home = ["--data-dir", str(tmp_path / "home")]
    ran = triage(
        "run", str(alert), "--telemetry", str(synthetic.root), "--now", case.now.isoformat(),
        "--json", *home,
    )  # fmt: skip
    incident = json.loads(ran.stdout)["incident_id"]
    page = f"{incident}-page"
    binary = tmp_path / "edited.docx"
    binary.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\xac\xff")
    for edited, says in ((binary, "not UTF-8 text"), (tmp_path / "gone.txt", "cannot read")):
        done = triage("approve", incident, page, "--edit", str(edited), *home)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.startswith(f"error: {edited}: {says}"), done.stderr
    drafts = json.loads(triage("drafts", incident, "--json", *home).stdout)
    assert next(d for d in drafts if d["id"] == page)["state"] == "pending"


@pytest.mark.parametrize(
    ("language", "label"), [("en", "Affected services: "), ("ja", "影響を受けているサービス：")]
)
def test_the_page_lists_the_services_severity_counted_as_harmed(
    tmp_path: Path, synthetic: SyntheticDataset, case: CaseRecord, language: str, label: str
) -> None:
    """The page's affected services are the blast radius the level was set by, not only
    the services the alert named."""
    alert, config, home = tmp_path / "alert.json", tmp_path / "triage.yaml", tmp_path / "home"
    alert.write_text(json.dumps(case.alert.payload), encoding="utf-8")
    config.write_text(f"language: {language}\n", encoding="utf-8")
    common = ("--config", str(config), "--data-dir", str(home))
    done = triage(
        "run", str(alert), "--telemetry", str(synthetic.root), "--now", case.now.isoformat(),
        "--json", *common,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    stored = build_context(load_config(config), home=home).store.get(result["incident_id"])
    top = stored.isolation.top() if stored.isolation else None
    assert top is not None and stored.isolation is not None and stored.isolation.harmed
    counted = dict.fromkeys([top.service, *stored.isolation.harmed])
    assert len(counted) > len(stored.services)  # more harmed than the alert names
    page = next(d["body"] for d in result["drafts"] if d["kind"] == "page")
    (line,) = [line for line in page.splitlines() if line.startswith(label)]
    assert all(name in line for name in counted), (line, counted)
