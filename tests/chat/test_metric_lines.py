"""Chat's metric lines never print "None": what is unknown is said, or left out."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_metrics_over_a_span_with_no_baseline_say_so(client: TestClient, incident_id: str) -> None:
    reply = client.post(
        f"/v1/incidents/{incident_id}/chat",
        json={"author": "aki", "text": "metrics of payment over the last 3 hours"},
    ).json()
    assert reply["intent"] == "metrics", reply
    assert "None" not in reply["answer"]
    assert "no baseline before" in reply["answer"]
