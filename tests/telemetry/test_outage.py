"""Done when: Prometheus down, then up. A real `triage serve` app with metrics from a real
Prometheus whose port is dead: the alert still becomes an incident with an inconclusive page
that says metrics were unavailable, /v1/health is degraded; then Prometheus starts on that
port and the incident is re-investigated by itself, the fault found."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.config import TriageConfig
from agent.server.app import build_server, create_app
from tests.server.support import BEARER, ENV, free_port, wait_until
from tests.telemetry.conftest import Shifted
from tests.telemetry.support.load import prometheus_blocks
from tests.telemetry.support.servers import NO_PROMETHEUS, PROMETHEUS, PROMTOOL, prometheus_server

pytestmark = pytest.mark.skipif(PROMETHEUS is None or PROMTOOL is None, reason=NO_PROMETHEUS)


def test_prometheus_down_then_up_degrades_then_finds_the_fault(
    shifted: Shifted, tmp_path: Path
) -> None:
    assert PROMTOOL is not None
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = TriageConfig.model_validate(
        {
            "language": "en",
            "telemetry": {
                "backend": "prometheus",
                "topology_file": str(shifted.root / "topology.json"),
                "prometheus": {"url": url, "metrics": [{"match": '{service!=""}'}], "timeout_s": 5},
            },
            "reinvestigate": {"retry_first_s": 0.5, "retry_max_s": 1},
            "server": {"clock": "wall", "escalation_every_s": 0},
        }
    )
    server = build_server(config, tmp_path / "home", env=ENV.get, clock=lambda: shifted.case.now)
    body = shifted.case.alert.payload
    with TestClient(create_app(server)) as client:
        row = client.post("/v1/alerts/alertmanager", json=body, headers=BEARER).json()
        item = wait_until(
            lambda: (
                (i := client.get(f"/v1/inbox/{row['inbox_id']}").json())["state"] == "done" and i
            )
        )
        incident_id = item["incident_id"]
        blind = client.get(f"/v1/incidents/{incident_id}").json()
        assert list(blind["telemetry_gaps"]) == ["metrics"]
        assert f"Prometheus at {url} unreachable" in blind["telemetry_gaps"]["metrics"]
        assert blind["isolation"]["verdict"] == "inconclusive"
        assert blind["isolation"]["hypotheses"][0]["confidence"] <= 0.15
        page = next(d for d in blind["drafts"] if d["kind"] == "page")
        assert page["state"] == "pending" and "inconclusive" in page["body"]
        assert f"Telemetry unavailable: metrics (Prometheus at {url} unreachable" in page["body"]
        health = wait_until(lambda: (h := client.get("/v1/health").json())["reasons"] and h)
        assert health["status"] == "degraded"
        assert health["reasons"] == [f"metrics unavailable: {blind['telemetry_gaps']['metrics']}"]

        data = prometheus_blocks(shifted.dataset, PROMTOOL, tmp_path)
        with prometheus_server(data, tmp_path / "prometheus.log", port=port):
            found = wait_until(
                lambda: (
                    (i := client.get(f"/v1/incidents/{incident_id}").json())["telemetry_gaps"] == {}
                    and i["timeline"][-1]["kind"] == "reinvestigation"
                    and i
                ),
                timeout_s=120,
            )
            assert client.get("/v1/health").json()["status"] == "ok"
    isolation = found["isolation"]
    assert isolation["verdict"] == "conclusive"
    assert isolation["hypotheses"][0]["service"] == "payment"
    assert found["routing"]["page_team"] == "payments"
    line = found["timeline"][-1]["text"]
    assert line.startswith("Re-investigated (metrics answered again)")
    assert "metrics readable again" in line and "verdict inconclusive → conclusive" in line
    page = next(d for d in found["drafts"] if d["kind"] == "page")
    assert page["state"] == "pending" and page["revision"] == 2
    assert "payment" in page["title"] and "Telemetry unavailable" not in page["body"]
