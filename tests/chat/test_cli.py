"""`triage chat` as a user runs it: one shot or a REPL, local or against a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from agent.server.app import Server, create_app
from tests.server.support import LiveServer
from tests.support.synthetic import SyntheticDataset


def triage(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=os.environ,
        check=False,
        timeout=300,
    )


def test_one_question_on_the_local_data_dir(
    tmp_path: Path, synthetic: SyntheticDataset, server: Server, incident_id: str
) -> None:
    config = tmp_path / "triage.yaml"
    settings = {
        "language": "en",
        "telemetry": {"backend": "replay", "path": str(synthetic.root)},
        "server": {"clock": "replay"},
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    done = triage(
        "chat", incident_id, "-q", "what changed in the last hour?", "--as", "aki",
        "--config", str(config), "--data-dir", str(server.ctx.home),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "chg-0003" in done.stdout and "cites: recent_changes(" in done.stdout
    timeline = server.ctx.store.get(incident_id).timeline
    assert ("aki", "what changed in the last hour?") in [(e.actor, e.text) for e in timeline]


def test_the_repl_against_a_server(server: Server, incident_id: str) -> None:
    with LiveServer(create_app(server, run_jobs=False)) as live:
        done = triage(
            "chat", incident_id, "--server", live.url, "--as", "riko",
            stdin="why payment?\n/action restarted payment-0\n/quit\n",
        )  # fmt: skip
        missing = triage("chat", "INC-19990101-0001", "-q", "hi", "--server", live.url)
    assert done.returncode == 0, done.stderr
    assert "I suspect payment" in done.stdout and "cites: ev-" in done.stdout
    assert "Noted as an action: restarted payment-0" in done.stdout
    assert missing.returncode == 2 and "404" in missing.stderr
    notes = [e for e in server.ctx.store.get(incident_id).timeline if e.actor == "riko"]
    assert [e.data.get("note_kind") for e in notes] == [None, "action"]
