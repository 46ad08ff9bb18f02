"""War-room pages: rendered from the store, everything untrusted escaped, live events."""

from __future__ import annotations

from fastapi.testclient import TestClient

from agent.server.app import Server
from tests.server.support import BEARER, wait_until

HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


def post_hostile(client: TestClient) -> str:
    alert = {
        "status": "firing",
        "labels": {"alertname": HOSTILE, "service": "frontend"},
        "annotations": {"summary": HOSTILE},
        "startsAt": "2024-03-01T12:01:00Z",
    }
    body = {"version": "4", "status": "firing", "receiver": "triage", "alerts": [alert]}
    row = client.post("/v1/alerts/alertmanager", json=body, headers=BEARER).json()["inbox_id"]
    done = wait_until(
        lambda: (item := client.get(f"/v1/inbox/{row}").json())["state"] == "done" and item
    )
    return str(done["incident_id"])


def test_an_alert_name_with_a_script_is_shown_as_text(client: TestClient) -> None:
    incident_id = post_hostile(client)
    for path in ("/", f"/incidents/{incident_id}", f"/incidents/{incident_id}?partial=1"):
        page = client.get(path)
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
    scripts = client.get(f"/incidents/{incident_id}").text.count("<script")
    assert scripts == 1, "only the page's own script tag"


def test_the_incident_page_shows_suspects_people_plots_drafts_timeline(
    client: TestClient, incident_id: str
) -> None:
    html = client.get(f"/incidents/{incident_id}").text
    for part in ("Suspects", "payment", "Incident commander", "svg", "Drafts", "Timeline"):
        assert part in html
    assert f"/v1/incidents/{incident_id}/drafts/{incident_id}-page/approve" in html
    assert 'class="onset"' in html, "the plots mark the onset"


def test_events_say_when_an_incident_changed(
    client: TestClient, incident_id: str, server: Server
) -> None:
    with client.stream("GET", f"/v1/incidents/{incident_id}/events") as events:
        lines = events.iter_lines()
        first = next(line for line in lines if line.startswith("data:"))
        server.desk.record(incident_id, "note", "checking the pool", "aki")
        second = next(line for line in lines if line.startswith("data:"))
    assert first != second


def test_the_list_links_every_incident(client: TestClient, incident_id: str) -> None:
    html = client.get("/").text
    assert f'href="/incidents/{incident_id}"' in html
    assert "HighLatency" in html and "payment (bad-deploy" in html
