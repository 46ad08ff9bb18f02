"""A server killed with SIGKILL mid-triage resumes every accepted alert after a restart,
and each incident is triaged exactly once (`python -m agent serve` as a real process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from agent.service.build import STEP_DELAY_ENV
from tests.server.support import free_port, wait_until
from tests.support.synthetic import SyntheticDataset

ALERTS = 5


@contextmanager
def serving(config: Path, home: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, STEP_DELAY_ENV: "0.3"}
    command = [
        sys.executable, "-m", "agent", "serve", "--config", str(config),
        "--data-dir", str(home), "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log.open("ab") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def counts(base: str) -> dict[str, Any]:
    try:
        reply: dict[str, Any] = httpx.get(f"{base}/v1/inbox/counts", timeout=5).json()
    except httpx.TransportError:
        return {}
    return reply


def alert(k: int) -> dict[str, Any]:
    return {
        "name": f"ErrorBudgetBurn{k}",
        "starts_at": "2024-03-01T12:01:00Z",
        "service": f"batch-{k}",
        "system": "synthetic-shop",
    }


def test_a_killed_server_resumes_every_accepted_alert(
    tmp_path: Path, synthetic: SyntheticDataset
) -> None:
    config = tmp_path / "triage.yaml"
    settings = {
        "language": "en",
        "telemetry": {"backend": "replay", "path": str(synthetic.root)},
        "server": {
            "clock": "replay",
            "workers": 1,
            "escalation_every_s": 0,
            "sources": {"generic": {"auth": "none"}},
        },
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    home, log = tmp_path / "home", tmp_path / "server.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    with serving(config, home, port, log) as first:
        wait_until(lambda: counts(base) or None, timeout_s=60)
        for k in range(ALERTS):
            reply = httpx.post(f"{base}/v1/alerts/generic", json=alert(k), timeout=10)
            assert reply.status_code == 202, reply.text
        wait_until(lambda: counts(base)["states"].get("done", 0) >= 1, timeout_s=120)
        mid = counts(base)["states"]
        assert mid.get("running", 0) == 1, f"not mid-triage: {mid}"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)

    with serving(config, home, port, log):
        wait_until(
            lambda: counts(base).get("states", {}).get("done") == ALERTS or None, timeout_s=180
        )
        final = counts(base)
        incidents = httpx.get(f"{base}/v1/incidents", timeout=10).json()
        timelines = [
            httpx.get(f"{base}/v1/incidents/{i['id']}/timeline", timeout=10).json()
            for i in incidents
        ]

    assert final == {"states": {"done": ALERTS}, "alerts": ALERTS}, log.read_text()[-2000:]
    assert len(incidents) == ALERTS
    for timeline in timelines:
        kinds = [e["kind"] for e in timeline]
        assert kinds.count("opened") == 1, json.dumps(kinds)
        assert kinds.count("investigation") == 1, json.dumps(kinds)
        assert kinds.count("draft") == 1, json.dumps(kinds)
