"""The incidents API: read, decide (through the graph, so dispatch happens), acknowledge,
resolve; errors as JSON; OpenAPI documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.config import TriageConfig
from agent.server.app import Server, build_server, create_app
from tests.server.support import ENV, LearningMemory, server_config
from tests.support.receiver import Receiver
from tests.support.synthetic import SyntheticDataset


def drafts_of(client: TestClient, incident_id: str) -> dict[str, dict[str, object]]:
    return {d["kind"]: d for d in client.get(f"/v1/incidents/{incident_id}/drafts").json()}


def test_reading_an_incident(client: TestClient, incident_id: str) -> None:
    (summary,) = client.get("/v1/incidents").json()
    assert summary["id"] == incident_id and summary["suspect"] == "payment"
    assert summary["pending_drafts"] >= 3
    timeline = client.get(f"/v1/incidents/{incident_id}/timeline").json()
    assert [e["kind"] for e in timeline][:5] == [
        "opened", "investigation", "severity", "routing", "draft",
    ]  # fmt: skip
    hypotheses = client.get(f"/v1/incidents/{incident_id}/hypotheses").json()
    cited = set(hypotheses["hypotheses"][0]["evidence_ids"])
    assert cited <= {e["id"] for e in hypotheses["evidence"]}
    assert client.get(f"/v1/incidents/{incident_id}/similar").json() == []


def test_approving_the_page_pages_exactly_once(
    client: TestClient, incident_id: str, pagerduty: Receiver
) -> None:
    page = drafts_of(client, incident_id)["page"]
    url = f"/v1/incidents/{incident_id}/drafts/{page['id']}/approve"
    reply = client.post(url, json={"by": "aki"})
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert result["draft"]["state"] == "sent"
    assert result["dispatches"][0]["approval_by"] == "aki"
    assert page["id"] not in result["pending"]
    (request,) = pagerduty.wait_for(1)
    assert request.json()["payload"]["custom_details"]["approved_by"] == "aki"
    again = client.post(url, json={"by": "aki"})
    assert again.status_code == 409 and again.json()["error"] == "decision_refused"
    assert len(pagerduty.requests) == 1


def test_an_edit_is_sent_as_edited_and_a_rejection_needs_a_reason(
    client: TestClient, incident_id: str, server: Server
) -> None:
    drafts = drafts_of(client, incident_id)
    update = drafts["responder_update"]["id"]
    edit = f"/v1/incidents/{incident_id}/drafts/{update}/edit"
    reply = client.post(edit, json={"by": "aki", "body": "Rolled back payment to v1.4.2."})
    assert reply.json()["draft"]["state"] == "sent"
    assert "Rolled back payment" in Path(server.ctx.dispatch.outbox_path).read_text()
    status = drafts["status_update"]["id"]
    reject = f"/v1/incidents/{incident_id}/drafts/{status}/reject"
    missing = client.post(reject, json={"by": "aki"})
    assert missing.status_code == 422 and missing.json()["field"] == "reason"
    rejected = client.post(reject, json={"by": "aki", "reason": "too early"}).json()
    assert rejected["draft"]["state"] == "rejected"


def test_who_decides_must_be_named(client: TestClient, incident_id: str) -> None:
    page = drafts_of(client, incident_id)["page"]["id"]
    reply = client.post(f"/v1/incidents/{incident_id}/drafts/{page}/approve", json={})
    assert reply.status_code == 422 and reply.json()["field"] == "by"


def test_unknown_ids_are_404_json(client: TestClient, incident_id: str) -> None:
    assert client.get("/v1/incidents/INC-19990101-0001").json()["error"] == "not_found"
    reply = client.post(f"/v1/incidents/{incident_id}/drafts/nope/approve", json={"by": "a"})
    assert reply.status_code == 409 and "known drafts" in reply.json()["detail"]


def test_a_note_made_while_waiting_survives_the_next_decision(
    client: TestClient, incident_id: str, server: Server
) -> None:
    """The run holds its own copy of the incident; the desk hands it the stored one."""
    client.post(f"/v1/incidents/{incident_id}/chat", json={"author": "aki", "text": "/need DBA"})
    page = drafts_of(client, incident_id)["page"]["id"]
    client.post(f"/v1/incidents/{incident_id}/drafts/{page}/approve", json={"by": "aki"})
    kinds = [e.kind for e in server.ctx.store.get(incident_id).timeline]
    assert "chat" in kinds and kinds[-1] == "dispatch"


def test_acknowledge_and_resolve(client: TestClient, incident_id: str, server: Server) -> None:
    memory = LearningMemory()
    server.ctx.memory = memory  # type: ignore[assignment]
    acked = client.post(f"/v1/incidents/{incident_id}/acknowledge", json={"by": "aki"}).json()
    assert acked["status"] == "acknowledged"
    cause = {
        "by": "aki",
        "service": "payment",
        "fault_type": "bad-deploy",
        "summary": "v1.5.0 exhausted the DB pool",
        "resolution": "rolled back to v1.4.2",
    }
    resolved = client.post(f"/v1/incidents/{incident_id}/resolve", json=cause).json()
    assert resolved["status"] == "resolved"
    incident = server.ctx.store.get(incident_id)
    assert incident.root_cause is not None and incident.root_cause.service == "payment"
    assert [e.kind for e in incident.timeline][-3:] == ["acknowledged", "resolved", "draft"]
    (record,) = memory.learned
    assert (record.id, record.resolution) == (incident_id, cause["resolution"])
    assert record.services[0] == "payment" and record.root_cause == cause["summary"]
    assert "corrected" not in record.tags, "the agent's top suspect was right"


def test_resolving_withdraws_what_was_pending_and_tells_customers_it_is_resolved(
    client: TestClient, incident_id: str, server: Server
) -> None:
    """Nothing written while it was open may go out once it is resolved (a page, a second
    "investigating"); customers who were told get a "resolved" update, held for approval."""
    drafts = drafts_of(client, incident_id)
    status, page = drafts["status_update"]["id"], drafts["page"]["id"]
    sent = client.post(f"/v1/incidents/{incident_id}/drafts/{status}/approve", json={"by": "aki"})
    assert sent.json()["draft"]["state"] == "sent"
    cause = {"by": "aki", "service": "payment", "fault_type": "bad-deploy"}
    assert client.post(f"/v1/incidents/{incident_id}/resolve", json=cause).status_code == 200
    after = drafts_of(client, incident_id)
    assert {k for k, d in after.items() if d["state"] == "pending"} == {
        "status_update",
        "postmortem",
    }
    assert "page" not in after and "responder_update" not in after
    update = after["status_update"]
    assert update["revision"] == 2 and update["payload"]["status"] == "resolved"
    assert update["payload"]["next_update_at"] is None
    assert "assessing" not in update["body"], "no 'we are assessing the impact' once resolved"
    assert "Resolved" in update["title"] or "復旧" in update["title"]
    late = client.post(f"/v1/incidents/{incident_id}/drafts/{page}/approve", json={"by": "aki"})
    assert late.status_code == 409
    resolved = next(e for e in server.ctx.store.get(incident_id).timeline if e.kind == "resolved")
    assert "Withdrawn, never sent: page" in resolved.text
    assert page in resolved.data["withdrawn"]


def test_resolving_when_customers_were_never_told_drafts_no_status_update(
    client: TestClient, incident_id: str
) -> None:
    cause = {"by": "aki", "service": "payment", "fault_type": "bad-deploy"}
    client.post(f"/v1/incidents/{incident_id}/resolve", json=cause)
    assert set(drafts_of(client, incident_id)) == {"postmortem"}


def test_a_cause_no_one_knows_is_refused_and_nothing_is_resolved(
    client: TestClient, incident_id: str, server: Server
) -> None:
    """A typo must not teach the memory and the scorecard a service that does not exist."""
    cause = {"by": "aki", "service": "paymnet", "fault_type": "bad-deploy"}
    reply = client.post(f"/v1/incidents/{incident_id}/resolve", json=cause)
    assert reply.status_code == 422, reply.text
    problem = reply.json()
    assert problem["error"] == "unknown_service" and problem["field"] == "service"
    assert "'paymnet'" in problem["detail"] and "payment" in problem["detail"]
    incident = server.ctx.store.get(incident_id)
    assert incident.status == "open" and incident.root_cause is None


def test_command_is_handed_over_and_pending_drafts_name_the_new_commander(
    client: TestClient, incident_id: str, server: Server
) -> None:
    (summary,) = client.get("/v1/incidents").json()
    before = summary["incident_commander"]
    to = next(n for n in ("Inoue Akiko", "Matsumoto Hiroshi") if n != before)
    update = drafts_of(client, incident_id)["responder_update"]
    url = f"/v1/incidents/{incident_id}/command"
    reply = client.post(url, json={"by": "aki", "to": to.upper()})
    assert reply.status_code == 200, reply.text
    assert reply.json()["incident_commander"] == to
    redrafted = drafts_of(client, incident_id)["responder_update"]
    assert redrafted["revision"] == update["revision"] + 1 and to in redrafted["body"]
    entry = [e for e in server.ctx.store.get(incident_id).timeline if e.kind == "command"][-1]
    assert entry.actor == "aki" and entry.data == {"from": before, "to": to}
    unknown = client.post(url, json={"by": "aki", "to": "Nobody Here"})
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_person"
    assert unknown.json()["field"] == "to" and "Kimura Shun" in unknown.json()["detail"]
    cause = {"by": "aki", "service": "payment", "fault_type": "bad-deploy"}
    client.post(f"/v1/incidents/{incident_id}/resolve", json=cause)
    late = client.post(url, json={"by": "aki", "to": before})
    assert late.status_code == 409 and late.json()["error"] == "stage_refused"


def test_the_api_token_guards_incidents_and_decisions(
    tmp_path: Path, synthetic: SyntheticDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = server_config(synthetic.root, api={"token_env": "TRIAGE_API_TOKEN"})
    env = {**ENV, "TRIAGE_API_TOKEN": "api-secret"}
    server = build_server(config, tmp_path / "home", env=env.get)
    with TestClient(create_app(server, run_jobs=False)) as client:
        assert client.get("/v1/incidents").status_code == 401
        assert client.get("/").status_code == 401
        ok = client.get("/v1/incidents", headers={"Authorization": "Bearer api-secret"})
        assert ok.status_code == 200
        login = client.post("/login", content="token=api-secret", follow_redirects=False)
        assert login.status_code == 303
        assert client.get("/v1/incidents").status_code == 200, "the cookie lets the page in"
        assert client.get("/v1/health").status_code == 200


def test_openapi_documents_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    tags = {t["name"] for t in spec["tags"]}
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            assert set(operation.get("tags", [])) <= tags and operation["tags"], path
    approve = spec["paths"]["/v1/incidents/{incident_id}/drafts/{draft_id}/approve"]["post"]
    assert approve["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "DecisionResult"
    )


def test_config_file_carries_the_server_section(tmp_path: Path) -> None:
    config = TriageConfig.model_validate({"server": {"port": 9000, "clock": "replay"}})
    assert config.server.port == 9000 and config.server.sources["cloudwatch"].auth == "sns"


def test_the_configured_incident_memory_learns_the_resolution(
    client: TestClient, incident_id: str, server: Server
) -> None:
    cause = {
        "by": "aki",
        "service": "payment",
        "fault_type": "bad-deploy",
        "summary": "v1.5.0 exhausted the DB pool",
        "resolution": "rolled back to v1.4.2",
    }
    assert client.post(f"/v1/incidents/{incident_id}/resolve", json=cause).status_code == 200
    timeline = server.ctx.store.get(incident_id).timeline
    assert [e.kind for e in timeline][-2:] == ["resolved", "draft"]  # the postmortem
    assert not any("could not learn" in e.text for e in timeline)


def test_the_lifecycle_records_who_and_when_and_the_engine_beside_the_cause(
    client: TestClient, incident_id: str, server: Server
) -> None:
    base = f"/v1/incidents/{incident_id}"
    assert client.post(f"{base}/acknowledge", json={"by": "aki"}).json()["status"] == "acknowledged"
    mitigated = client.post(f"{base}/mitigate", json={"by": "ben", "note": "rolled back"})
    assert mitigated.json()["status"] == "mitigated"
    cause = {"by": "aki", "service": "payment", "fault_type": "bad-deploy", "change_id": "d-42"}
    assert client.post(f"{base}/resolve", json=cause).json()["status"] == "resolved"
    life = client.get(f"{base}/lifecycle").json()
    assert [(s["name"], s["by"]) for s in life["stages"]] == [
        ("triggered", "agent"), ("acknowledged", "aki"), ("mitigated", "ben"), ("resolved", "aki"),
    ]  # fmt: skip
    assert 0 <= life["time_to_acknowledge_s"] <= life["time_to_mitigate_s"]
    assert life["time_to_mitigate_s"] <= life["time_to_resolve_s"]
    root = server.ctx.store.get(incident_id).root_cause
    assert root is not None and root.change_id == "d-42" and root.by == "aki"
    assert root.engine is not None and root.engine.rank == 1 and root.engine.ranking[0] == "payment"
    again = client.post(f"{base}/mitigate", json={"by": "ben"})
    assert again.status_code == 409 and "resolved" in again.json()["detail"]


def test_validation_errors_name_the_field_or_the_body(client: TestClient, incident_id: str) -> None:
    update = drafts_of(client, incident_id)["responder_update"]["id"]
    edit = f"/v1/incidents/{incident_id}/drafts/{update}/edit"
    empty = client.post(edit, json={"by": "aki", "body": ""}).json()
    assert empty["field"] == "body" and empty["detail"].startswith("body: ")
    garbled = client.post(edit, content=b"not json", headers={"Content-Type": "application/json"})
    assert garbled.status_code == 422 and garbled.json()["field"] is None
    assert garbled.json()["detail"].startswith("the request body: ")
    listed = client.post(edit, json=[1, 2]).json()
    assert listed["field"] is None and not listed["detail"].startswith("None")


def test_the_status_page_url_is_not_flagged_when_a_status_update_is_approved(
    client: TestClient, incident_id: str, server: Server
) -> None:
    status = drafts_of(client, incident_id)["status_update"]
    assert "https://status.sakuramart.example" in status["body"]
    url = f"/v1/incidents/{incident_id}/drafts/{status['id']}/approve"
    assert client.post(url, json={"by": "aki"}).json()["draft"]["state"] == "sent"
    approval = server.ctx.store.get(incident_id).approvals[-1]
    assert approval.draft_id == status["id"]
    assert not [w for w in approval.warnings if "status.sakuramart.example" in w]


def test_a_decision_on_a_revision_the_reviewer_did_not_read_is_refused(
    client: TestClient, incident_id: str
) -> None:
    read = drafts_of(client, incident_id)["responder_update"]
    client.post(f"/v1/incidents/{incident_id}/chat", json={"author": "bob", "text": "/need CFO"})
    client.post(
        f"/v1/incidents/{incident_id}/chat",
        json={"author": "bob", "text": "write a responder update"},
    )
    url = f"/v1/incidents/{incident_id}/drafts/{read['id']}"
    for action, extra in (
        ("approve", {}),
        ("edit", {"body": read["body"]}),
        ("reject", {"reason": "x"}),
    ):
        stale = client.post(f"{url}/{action}", json={"by": "aki", "revision": 1, **extra})
        assert stale.status_code == 409, action
        assert "changed since you read revision 1 (now revision 2)" in stale.json()["detail"]
    assert drafts_of(client, incident_id)["responder_update"]["state"] == "pending"
    fresh = client.post(f"{url}/approve", json={"by": "aki", "revision": 2})
    assert fresh.json()["draft"]["state"] == "sent" and "CFO" in fresh.json()["draft"]["body"]
