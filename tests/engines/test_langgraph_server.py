"""`langgraph dev` (langgraph-cli with the in-memory runtime) serves the triage graph from
langgraph.json on 127.0.0.1: one alert runs to the approval interrupt over its HTTP API,
and a resume with the approval sends the page."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from agent.dispatch.outbox import read_outbox
from tests.server.support import free_port, wait_until

REPO = Path(__file__).resolve().parents[2]
LANGGRAPH = Path(sys.executable).with_name("langgraph")


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ok", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def langgraph_dev(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`langgraph dev` on a free port; the deployment's data directory beside it."""
    if not LANGGRAPH.exists():
        raise RuntimeError("langgraph-cli is not installed (pip install 'langgraph-cli[inmem]')")
    port, home = free_port(), tmp_path / "home"
    env = {**os.environ, "TRIAGE_HOME": str(home), "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
    env.pop("TRIAGE_CONFIG", None)
    command = [str(LANGGRAPH), "dev", "--config", str(REPO / "langgraph.json")]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload"]
    command += ["--allow-blocking"]  # the graph's steps are synchronous (SQLite, DuckDB)
    with (tmp_path / "langgraph.log").open("wb") as log:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: server.poll() is not None or _answers(url), timeout_s=120, every_s=0.5)
        assert server.poll() is None, (tmp_path / "langgraph.log").read_text()[-2000:]
        yield url, home
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_langgraph_dev_runs_an_alert_to_the_approval_and_resumes_it(
    langgraph_dev: tuple[str, Path],
) -> None:
    url, home = langgraph_dev
    now = datetime.now(UTC).isoformat()
    alert = {
        "source": "generic",
        "name": "CheckoutErrorRate",
        "fingerprint": "fp-served",
        "starts_at": now,
        "service": "checkout",
    }
    with httpx.Client(base_url=url, timeout=120) as client:
        thread = client.post("/threads", json={}).json()["thread_id"]
        first = {"run_id": "run-served-1", "alerts": [alert], "received_at": now}
        ran = client.post(
            f"/threads/{thread}/runs/wait",
            json={"assistant_id": "triage", "input": first, "context": {}},
        )
        assert ran.status_code == 200 and "__error__" not in ran.json(), ran.text
        waiting = client.get(f"/threads/{thread}/state").json()
        assert waiting["next"] == ["await_approval"]
        (question,) = [i["value"] for t in waiting["tasks"] for i in t["interrupts"]]
        incident_id = question["incident_id"]
        page = f"{incident_id}-page"
        assert page in [p["id"] for p in question["pending"]]
        decision = {"draft_id": page, "action": "approve", "by": "aki"}
        resumed = client.post(
            f"/threads/{thread}/runs/wait",
            json={"assistant_id": "triage", "command": {"resume": decision}, "context": {}},
        )
        assert resumed.status_code == 200 and "__error__" not in resumed.json(), resumed.text
        after = client.get(f"/threads/{thread}/state").json()["values"]["incident"]
    states = {d["id"]: d["state"] for d in after["drafts"]}
    assert states[page] == "sent"
    assert [m["draft_id"] for m in read_outbox(home / "outbox.jsonl")] == [page]
