"""A recovery that no open incident holds opens nothing and pages no one, through a real
HTTP server: the row is kept with its outcome, and one log line says so."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.server.app import build_server, create_app
from tests.server.support import (
    BEARER,
    DD_TOKEN,
    ENV,
    LearningMemory,
    LiveServer,
    server_config,
    wait_until,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "alerts"
NOTHING_TO_DO = "recovery with no open incident: nothing to do"
RESOLVED = json.loads((FIXTURES / "alertmanager_resolved.json").read_text())


@pytest.fixture
def api(tmp_path: Path) -> Iterator[httpx.Client]:
    """A live embedded server (its worker running), no telemetry: every triage is quick."""
    server = build_server(server_config(None), tmp_path / "home", env=ENV.get)
    server.ctx.memory = LearningMemory()  # type: ignore[assignment]  # resolving teaches it
    with (
        LiveServer(create_app(server)) as live,
        httpx.Client(base_url=live.url, timeout=30) as client,
    ):
        yield client


def finished(client: httpx.Client, row: int) -> dict[str, Any]:
    """The inbox row once its triage is recorded (failing the test if it failed)."""

    def done() -> dict[str, Any] | None:
        item: dict[str, Any] = client.get(f"/v1/inbox/{row}").json()
        assert item["state"] != "failed", item["error"]
        return item if item["state"] == "done" else None

    return wait_until(done, timeout_s=60)


def firing(payload: dict[str, Any]) -> dict[str, Any]:
    """The firing notification the Alertmanager recovery `payload` ends."""
    fired = copy.deepcopy(payload)
    fired["status"] = "firing"
    for alert in fired["alerts"]:
        alert.update(status="firing", endsAt="0001-01-01T00:00:00Z")
    return fired


@pytest.mark.parametrize(
    ("source", "body", "headers"),
    [
        ("alertmanager", json.dumps(RESOLVED).encode(), BEARER),
        (
            "datadog",
            (FIXTURES / "datadog_recovered.json").read_bytes(),
            {"Authorization": f"Bearer {DD_TOKEN}"},
        ),
    ],
)
def test_a_recovery_no_open_incident_holds_opens_nothing_and_is_kept_with_its_outcome(
    api: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    source: str,
    body: bytes,
    headers: dict[str, str],
) -> None:
    with caplog.at_level(logging.INFO, logger="agent"):
        reply = api.post(f"/v1/alerts/{source}", content=body, headers=headers)
        assert reply.status_code == 202, reply.text
        item = finished(api, reply.json()["inbox_id"])
    assert api.get("/v1/incidents").json() == []
    assert (item["incident_id"], item["outcome"]) == (None, NOTHING_TO_DO)
    assert item["alerts"][0]["status"] == "resolved"
    listed = api.get("/v1/inbox").json()
    assert [(i["id"], i["outcome"]) for i in listed] == [(item["id"], NOTHING_TO_DO)]
    said = [r.getMessage() for r in caplog.records if NOTHING_TO_DO in r.getMessage()]
    assert len(said) == 1 and "\n" not in said[0], said
    assert f"inbox row {item['id']}" in said[0], said
    health = api.get("/v1/health").json()
    assert health["status"] == "ok", health


def _fired(api: httpx.Client) -> str:
    """The incident the firing copy of RESOLVED opened."""
    opened = api.post("/v1/alerts/alertmanager", json=firing(RESOLVED), headers=BEARER)
    return str(finished(api, opened.json()["inbox_id"])["incident_id"])


def _recovery_joins(api: httpx.Client, incident_id: str) -> None:
    """RESOLVED arrives, joins `incident_id` as a repeat, and opens nothing else."""
    ended = api.post("/v1/alerts/alertmanager", json=RESOLVED, headers=BEARER)
    item = finished(api, ended.json()["inbox_id"])
    assert (item["incident_id"], item["correlated"], item["outcome"]) == (
        incident_id,
        "duplicate",
        None,
    )
    assert [i["id"] for i in api.get("/v1/incidents").json()] == [incident_id]


def test_the_recovery_of_an_open_incident_s_alert_still_joins_it(api: httpx.Client) -> None:
    incident_id = _fired(api)
    _recovery_joins(api, incident_id)
    alerts = api.get(f"/v1/incidents/{incident_id}").json()["alerts"]
    assert [a["status"] for a in alerts] == ["resolved"]


def test_the_recovery_of_a_resolved_incident_s_alert_is_on_its_timeline_and_reopens_nothing(
    api: httpx.Client,
) -> None:
    """The alert ended after a responder resolved the incident: its timeline says so, and
    nothing is opened, paged or reopened."""
    incident_id = _fired(api)
    cause = {"by": "aki", "service": "api-gateway", "summary": "probe target restarted"}
    assert api.post(f"/v1/incidents/{incident_id}/resolve", json=cause).status_code == 200
    before = api.get(f"/v1/incidents/{incident_id}").json()
    _recovery_joins(api, incident_id)
    after = api.get(f"/v1/incidents/{incident_id}").json()
    assert after["status"] == "resolved"
    assert after["drafts"] == before["drafts"], "nothing new to approve or send"
    assert after["dispatches"] == before["dispatches"]
    assert after["timeline"][:-1] == before["timeline"]
    last = after["timeline"][-1]
    assert last["kind"] == "alert" and last["actor"] == "agent", last
    assert last["text"] == "Alert ProbeFailure resolved; the incident stays resolved.", last
    assert [a["status"] for a in after["alerts"]] == ["resolved"]


def test_a_recovery_that_does_not_say_when_it_began_ends_the_alert_it_recovers(
    api: httpx.Client,
) -> None:
    """Datadog's Recovered (like CloudWatch's OK over SNS) carries only its own time: it
    still ends the firing alert, which keeps its start, so nothing shows it firing on."""
    headers = {"Authorization": f"Bearer {DD_TOKEN}"}
    fired = api.post(
        "/v1/alerts/datadog",
        content=(FIXTURES / "datadog_triggered.json").read_bytes(),
        headers=headers,
    )
    incident_id = finished(api, fired.json()["inbox_id"])["incident_id"]
    recovery = (FIXTURES / "datadog_recovered.json").read_bytes()
    ended = api.post("/v1/alerts/datadog", content=recovery, headers=headers)
    assert finished(api, ended.json()["inbox_id"])["incident_id"] == incident_id
    alerts = api.get(f"/v1/incidents/{incident_id}").json()["alerts"]
    assert [(a["status"], a["starts_at"], a["ends_at"]) for a in alerts] == [
        ("resolved", "2024-03-14T09:55:02Z", "2024-03-14T10:15:02Z")
    ]
