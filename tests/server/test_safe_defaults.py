"""Safe defaults: the server will not open its API to the network unauthenticated, warns about
every unsafe setting at start, refuses SNS without a topic allow-list, refuses cross-site
state changes, keeps /docs off (no CDN), says what became of each draft, and answers every
error as JSON."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.config import TriageConfig
from agent.server.app import Server, build_server, create_app
from agent.server.preflight import preflight
from tests.server.support import BEARER, ENV, case_body, free_port, server_config, wait_until
from tests.support.receiver import Receiver
from tests.support.synthetic import SyntheticDataset


def _serve(*args: str) -> list[str]:
    return [sys.executable, "-m", "agent", "serve", *args]


def test_serve_refuses_a_network_address_without_api_authentication(tmp_path: Path) -> None:
    command = _serve("--host", "0.0.0.0", "--port", str(free_port()), "--data-dir", str(tmp_path))
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "server.api.token_env is not set" in done.stderr
    assert "refusing to serve" in done.stderr and "127.0.0.1" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_preflight_warns_about_each_unsafe_setting_on_loopback() -> None:
    config = TriageConfig.model_validate(
        {"server": {"sources": {"generic": {"auth": "none"}}, "docs": True}}
    )
    found = preflight(config, "127.0.0.1", {}.get)
    assert found.errors == []
    text = "\n".join(found.warnings)
    for expected in (
        "server.api.token_env is not set: the incidents API, approvals, edits and chat need no",
        "generic: auth none: anyone who can reach the port can post alerts",
        "cloudwatch: no topic_arns: every SNS message is refused",
        "alertmanager: $TRIAGE_ALERTMANAGER_TOKEN is not set",
        "slack: $SLACK_SIGNING_SECRET is not set",
        "no policy configured: the bundled fictional example",
        "no telemetry configured: alerts are triaged from the alert alone",
        "no dispatch.pagerduty: approved pages only reach the outbox file; nobody is paged",
        "server.docs is on: /docs loads Swagger UI from a CDN",
    ):
        assert expected in text, expected
    secured = TriageConfig.model_validate({"server": {"api": {"token_env": "T"}}})
    assert preflight(secured, "0.0.0.0", {"T": "secret"}.get).errors == []
    assert (
        preflight(secured, "0.0.0.0", {}.get)
        .errors[0]
        .startswith("server.api.token_env names $T but it is not set")
    )


def test_serve_prints_its_warnings_at_start(tmp_path: Path) -> None:
    """A real `triage serve` on loopback: it warns, then serves."""
    command = _serve("--port", str(free_port()), "--data-dir", str(tmp_path))
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "Application startup complete" in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert any("no telemetry configured" in w for w in warnings)
    assert any("need no authentication" in w for w in warnings)
    assert any("Application startup complete" in line for line in lines)


def test_sns_without_a_topic_allow_list_refuses_every_message(tmp_path: Path) -> None:
    server = build_server(TriageConfig(), tmp_path / "home", env=ENV.get)
    message = {
        "Type": "Notification",
        "TopicArn": "arn:aws:sns:us-east-1:999999999999:anyone",
        "Signature": "x",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/x.pem",
    }
    with TestClient(create_app(server, run_jobs=False)) as client:
        reply = client.post("/v1/alerts/cloudwatch", json=message)
    assert reply.status_code == 401
    assert "topic_arns" in reply.json()["detail"] and server.inbox.counts() == {}


def test_state_changes_from_another_origin_are_refused(
    client: TestClient, incident_id: str, pagerduty: Receiver
) -> None:
    url = f"/v1/incidents/{incident_id}/drafts/{incident_id}-page/approve"
    evil = client.post(url, json={"by": "aki"}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and evil.json()["error"] == "cross_origin"
    cross = client.post(url, json={"by": "aki"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert pagerduty.requests == []
    own = client.post(url, json={"by": "aki"}, headers={"Origin": "http://testserver"})
    assert own.status_code == 200 and own.json()["draft"]["state"] == "sent"


def test_docs_are_off_unless_asked_for_and_openapi_stays(tmp_path: Path) -> None:
    server = build_server(server_config(None), tmp_path / "a", env=ENV.get)
    with TestClient(create_app(server, run_jobs=False)) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        assert client.get("/openapi.json").status_code == 200
    on = build_server(server_config(None, docs=True), tmp_path / "b", env=ENV.get)
    with TestClient(create_app(on, run_jobs=False)) as client:
        assert client.get("/docs").status_code == 200


def test_a_huge_inbox_id_is_a_json_error_not_a_plain_500(client: TestClient) -> None:
    for path in ("/v1/inbox/99999999999999999999999", "/v1/inbox/0"):
        reply = client.get(path)
        assert reply.status_code == 422 and reply.json()["error"] == "invalid_request", path
    missing = client.get(f"/v1/inbox/{2**63 - 1}")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_draft_states_say_where_they_went(
    client: TestClient, incident_id: str, server: Server, pagerduty: Receiver
) -> None:
    html = client.get(f"/incidents/{incident_id}").text
    assert "goes to PagerDuty" in html
    assert "goes to the outbox file, for a person to publish" in html  # the status page
    page = f"/v1/incidents/{incident_id}/drafts/{incident_id}-page/approve"
    assert client.post(page, json={"by": "aki"}).status_code == 200
    status = f"/v1/incidents/{incident_id}/drafts/{incident_id}-status_update/approve"
    assert client.post(status, json={"by": "aki"}).status_code == 200
    html = client.get(f"/incidents/{incident_id}").text
    assert "delivered to PagerDuty" in html and "queued to the outbox" in html
    assert "sent via pagerduty" not in html.lower()


@pytest.fixture
def outbox_only(tmp_path: Path, synthetic: SyntheticDataset) -> Iterator[tuple[TestClient, str]]:
    """The synthetic case triaged by a server with no PagerDuty configured."""
    server = build_server(server_config(synthetic.root), tmp_path / "home", env=ENV.get)
    with TestClient(create_app(server)) as client:
        reply = client.post("/v1/alerts/alertmanager", content=case_body(synthetic), headers=BEARER)
        row = reply.json()["inbox_id"]
        done = wait_until(
            lambda: (i := client.get(f"/v1/inbox/{row}").json())["state"] == "done" and i
        )
        yield client, str(done["incident_id"])


def test_a_page_that_only_reached_the_outbox_says_nobody_was_paged(
    outbox_only: tuple[TestClient, str],
) -> None:
    client, incident_id = outbox_only
    html = client.get(f"/incidents/{incident_id}").text
    assert "goes to the outbox file only: PagerDuty is not configured, nobody is notified" in html
    page = f"/v1/incidents/{incident_id}/drafts/{incident_id}-page/approve"
    assert client.post(page, json={"by": "aki"}).status_code == 200
    html = client.get(f"/incidents/{incident_id}").text
    assert "queued to the outbox (PagerDuty not configured: nobody was notified)" in html
    timeline = client.get(f"/v1/incidents/{incident_id}/timeline").json()
    assert "nobody was notified" in timeline[-1]["text"]
