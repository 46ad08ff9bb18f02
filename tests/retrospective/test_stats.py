"""The learning loop's numbers: counts, times from the timeline, and the engine's record
(top-1/top-3, calibration) on confirmed causes; the same through the API and the page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from agent.incident.models import EngineRecord
from agent.incident.scorecard import engine_score
from agent.server.app import Server


def record(rank: int | None, confidence: float) -> EngineRecord:
    return EngineRecord(ranking=["a", "b", "c"], rank=rank, top_confidence=confidence)


def test_top1_top3_and_calibration_from_confirmed_causes() -> None:
    score = engine_score(
        [record(1, 0.9), record(1, 0.85), record(2, 0.9), record(None, 0.3), None, record(1, 0.3)]
    )
    assert score.confirmed == 5 and score.top1 == 0.6 and score.top3 == 0.8
    high, low = score.calibration[-1], score.calibration[0]
    assert (high.count, high.accuracy) == (3, round(2 / 3, 4))
    assert (low.low, low.count, low.accuracy) == (0.2, 2, 0.5)
    expected = (3 * abs(0.8833 - 0.6667) + 2 * abs(0.3 - 0.5)) / 5
    assert abs((score.calibration_error or 0) - expected) < 1e-3
    assert engine_score([None]).top1 is None


def test_stats_over_the_api_and_on_the_overview_page(
    client: TestClient, server: Server, incident_id: str
) -> None:
    before = client.get("/v1/stats").json()
    assert before["incidents"] == 1 and before["engine"]["confirmed"] == 0
    base = f"/v1/incidents/{incident_id}"
    client.post(f"{base}/acknowledge", json={"by": "aki"})
    cause = {"by": "aki", "service": "checkout", "fault_type": "bad-deploy"}
    assert client.post(f"{base}/resolve", json=cause).status_code == 200
    stats = client.get("/v1/stats").json()
    assert stats["engine"]["confirmed"] == 1 and stats["engine"]["top1"] == 0.0
    assert stats["time_to_acknowledge"]["count"] == 1 and stats["by_stage"] == {"resolved": 1}
    assert (
        client.get("/v1/stats", params={"since": "2999-01-01T00:00:00Z"}).json()["incidents"] == 0
    )
    page = client.get("/overview")
    assert page.status_code == 200 and 'class="top1">0%<' in page.text
    assert "payments" in page.text
    assert 'class="incident-count">1</strong> incident.' in page.text
    assert "<strong>1</strong> confirmed cause:" in page.text
