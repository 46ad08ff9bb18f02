"""1,000 alerts posted concurrently to a real uvicorn on 127.0.0.1 are all stored, none lost.

Intake only (the worker is not started), so this measures what the webhook can
accept: the rate is printed (pytest -s) and written to test-artifacts/intake-rate.json.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from agent.server.app import build_server, create_app
from tests.server.support import BEARER, ENV, LiveServer, server_config

ALERTS = 1_000
CLIENTS = 32
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"


def webhook(k: int) -> dict[str, object]:
    alert = {
        "status": "firing",
        "labels": {"alertname": f"Load{k}", "service": f"svc-{k % 50}", "instance": f"i-{k}"},
        "annotations": {"summary": f"load test alert {k}"},
        "startsAt": "2024-03-01T12:01:00Z",
        "fingerprint": f"load-{k:05d}",
    }
    return {"version": "4", "status": "firing", "receiver": "triage", "alerts": [alert]}


def test_a_thousand_concurrent_alerts_are_all_stored(tmp_path: Path) -> None:
    server = build_server(server_config(None), tmp_path / "home", env=ENV.get)
    with (
        LiveServer(create_app(server, run_jobs=False)) as live,
        httpx.Client(
            base_url=live.url,
            headers=BEARER,
            timeout=60,
            limits=httpx.Limits(max_connections=CLIENTS),
        ) as client,
    ):
        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = list(
                pool.map(
                    lambda k: client.post("/v1/alerts/alertmanager", json=webhook(k)).status_code,
                    range(ALERTS),
                )
            )
        elapsed = time.perf_counter() - started
    assert statuses.count(202) == ALERTS, {s: statuses.count(s) for s in set(statuses)}
    assert server.inbox.alerts_stored() == ALERTS
    assert server.inbox.counts() == {"queued": ALERTS}
    rate = ALERTS / elapsed
    ARTIFACTS.mkdir(exist_ok=True)
    result = {
        "alerts": ALERTS,
        "clients": CLIENTS,
        "seconds": round(elapsed, 3),
        "per_s": round(rate, 1),
    }
    (ARTIFACTS / "intake-rate.json").write_text(json.dumps(result), encoding="utf-8")
    print(f"\nintake: {ALERTS} alerts in {elapsed:.2f} s = {rate:.0f} alerts/s ({CLIENTS} clients)")
