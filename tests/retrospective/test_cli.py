"""`triage demo`, then resolve and the postmortem, as a user runs them (real processes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agent.config import TriageConfig
from agent.context import build_context
from agent.incident.lifecycle import entry_ids
from tests.agent.test_cli import triage


def test_demo_resolve_then_postmortem_json(tmp_path: Path) -> None:
    assert triage("demo", "--data-dir", str(tmp_path)).returncode == 0
    home = ["--data-dir", str(tmp_path / "demo")]
    (listed,) = json.loads(triage("incidents", "--json", *home).stdout)
    incident = listed["incident_id"]
    done = triage("resolve", incident, "--cause", "payment", "--fault-type", "bad-deploy", *home)
    assert done.returncode == 0, done.stderr
    assert "ranked it #1" in done.stdout

    shown = triage("postmortem", incident, "--lang", "en", "--json", *home)
    assert shown.returncode == 0, shown.stderr
    postmortem = json.loads(shown.stdout)
    assert postmortem["state"] == "pending" and date_like(postmortem["due"])
    assert all(s["title"] and s["body"] for s in postmortem["sections"])
    stored = build_context(TriageConfig(), home=tmp_path / "demo").store.get(incident)
    assert stored.isolation is not None
    known = {e.id for e in stored.isolation.evidence} | entry_ids(stored)
    assert postmortem["cites"] and set(postmortem["cites"]) <= known

    japanese = json.loads(triage("postmortem", incident, "--lang", "ja", "--json", *home).stdout)
    assert japanese["sections"][0]["title"] == "概要" and japanese["language"] == "ja"
    # confidence is 確度 in every Japanese text, as in the page that was sent
    assert "確度" in japanese["markdown"] and "確信度" not in japanese["markdown"]

    stats = json.loads(triage("stats", "--json", *home).stdout)
    assert stats["engine"]["confirmed"] == 1 and stats["engine"]["top1"] == 1.0
    assert stats["by_severity"] == {"SEV1": 1} and stats["time_to_resolve"]["count"] == 1
    words = triage("stats", *home).stdout
    assert words.startswith("1 incident\n") and "engine on 1 confirmed cause:" in words, words
    assert "(1 incident)" in words and "1 incidents" not in words, words

    again = triage("resolve", incident, "--cause", "payment", *home)
    assert again.returncode == 2 and "cannot be resolved again" in again.stderr
    assert "Traceback" not in again.stderr


def date_like(text: str) -> bool:
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None


def test_an_incident_not_found_points_at_the_demos_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "demo").mkdir()
    monkeypatch.setenv("TRIAGE_HOME", str(tmp_path))
    done = triage("resolve", "INC-20260511-0001", "--cause", "payment")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"`triage demo` keeps its incidents in --data-dir {tmp_path / 'demo'}" in done.stderr
