"""Chat over the API: cited answers from the evidence and tools, notes into the drafts."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from agent.server.app import Server


def ask(client: TestClient, incident_id: str, text: str, author: str = "aki") -> dict[str, Any]:
    reply = client.post(f"/v1/incidents/{incident_id}/chat", json={"author": author, "text": text})
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def test_what_changed_runs_the_changes_tool_and_cites_it(
    client: TestClient, incident_id: str
) -> None:
    reply = ask(client, incident_id, "what changed in the last hour?")
    assert reply["intent"] == "changes" and reply["engine"] == "offline"
    assert "chg-0003" in reply["answer"] and "the top suspect's change" in reply["answer"]
    assert "api_key=abc123secret" not in reply["answer"], "tool output is redacted"
    assert reply["citations"][0] == 'recent_changes({"last": "60m", "limit": 10})'
    assert any(c.startswith("ev-change-") for c in reply["citations"])
    assert reply["tool_calls"][0]["tool"] == "recent_changes"


def test_why_cites_the_suspects_evidence(client: TestClient, incident_id: str) -> None:
    reply = ask(client, incident_id, "why do you suspect payment?")
    assert reply["answer"].startswith("I suspect payment")
    assert reply["citations"] and all(c.startswith("ev-") for c in reply["citations"])
    assert all(c in reply["answer"] for c in reply["citations"])
    other = ask(client, incident_id, "why redis?")  # the policy's alias of cache
    assert other["answer"].startswith("cache is not among the suspects")


def test_errors_oncall_and_status(client: TestClient, incident_id: str) -> None:
    errors = ask(client, incident_id, "show payment errors")
    assert "Timeout acquiring connection" in errors["answer"]
    assert errors["citations"][0].startswith("search_logs(")
    oncall = ask(client, incident_id, "who is on call for payments?")
    assert "Sakamoto Riko" in oncall["answer"] and oncall["citations"][0].startswith("policy:")
    status = ask(client, incident_id, "status?")
    assert incident_id in status["answer"] and status["citations"]


def test_japanese_questions_get_japanese_answers(client: TestClient, incident_id: str) -> None:
    changes = ask(client, incident_id, "直近1時間で何が変わった？")
    assert changes["language"] == "ja" and "直近 60 分の変更" in changes["answer"]
    why = ask(client, incident_id, "なぜpaymentを疑っているの？")
    assert "payment を疑っています" in why["answer"] and why["citations"]
    # The evidence is worded in Japanese too, not pasted in English.
    assert "against a normal of" not in why["answer"] and "since the onset" not in why["answer"]
    assert "平常時" in why["answer"] or "異常開始" in why["answer"]


def test_what_it_cannot_answer_it_says_plainly(client: TestClient, incident_id: str) -> None:
    reply = ask(client, incident_id, "what is the meaning of life")
    assert reply["intent"] == "unknown" and reply["answer"].startswith("I can't answer that")


def test_notes_flow_into_the_next_updates(
    client: TestClient, incident_id: str, server: Server
) -> None:
    ask(client, incident_id, "what changed in the last hour?")
    action = ask(client, incident_id, "rolled back payment to v1.4.2", author="riko")
    assert action["note"] == {"kind": "action", "text": "rolled back payment to v1.4.2"}
    ask(client, incident_id, "/decision fail over to the standby DB", author="aki")
    ask(client, incident_id, "need DBA help", author="aki")
    update = ask(client, incident_id, "write a responder update")
    draft = update["draft"]
    assert draft["kind"] == "responder_update" and draft["state"] == "pending"
    assert draft["revision"] == 2
    body = draft["body"]
    assert "riko: rolled back payment to v1.4.2" in body
    assert "fail over to the standby DB" in body and "need DBA help" in body
    assert "what changed" not in body, "a question is not a note"
    customer = ask(client, incident_id, "write a customer update")
    assert customer["draft"]["kind"] == "status_update"
    assert customer["draft"]["state"] == "pending" and customer["draft"]["revision"] == 2
    incident = server.ctx.store.get(incident_id)
    chat = [e for e in incident.timeline if e.kind == "chat"]
    assert {e.actor for e in chat} == {"aki", "riko", "agent"}
    assert [e.data.get("note_kind") for e in chat if e.actor == "riko"] == ["action"]


def test_a_new_revision_is_approved_and_sent(client: TestClient, incident_id: str) -> None:
    draft = ask(client, incident_id, "write an executive summary")["draft"]
    url = f"/v1/incidents/{incident_id}/drafts/{draft['id']}/approve"
    assert client.post(url, json={"by": "aki"}).json()["draft"]["state"] == "sent"


def test_chat_on_an_unknown_incident_is_404(client: TestClient) -> None:
    reply = client.post("/v1/incidents/INC-19990101-0001/chat", json={"author": "a", "text": "hi"})
    assert reply.status_code == 404


def test_a_noted_line_is_echoed_with_its_secrets_masked(
    client: TestClient, incident_id: str
) -> None:
    line = "/action rolled back payment password=hunter2 AKIAIOSFODNN7EXAMPLE a.b@example.com"
    reply = ask(client, incident_id, line)
    assert reply["intent"] == "note" and reply["answer"].startswith("Noted as an action")
    for secret in ("hunter2", "AKIAIOSFODNN7EXAMPLE", "a.b@example.com"):
        assert secret not in reply["answer"]
    assert "<AWS_KEY>" in reply["answer"] and "<EMAIL>" in reply["answer"]


def test_a_blank_line_is_refused_and_not_recorded(
    client: TestClient, incident_id: str, server: Server
) -> None:
    before = len(server.ctx.store.get(incident_id).timeline)
    reply = client.post(
        f"/v1/incidents/{incident_id}/chat", json={"author": "aki", "text": "  \n "}
    )
    assert reply.status_code == 422 and reply.json()["field"] == "text"
    assert len(server.ctx.store.get(incident_id).timeline) == before


def test_japanese_answers_word_states_faults_kinds_and_notes_in_japanese(
    client: TestClient, incident_id: str
) -> None:
    """A Japanese reply reads as Japanese: no status, fault type or draft kind id in it."""
    status = ask(client, incident_id, "今の状況は？")
    assert "[open]" not in status["answer"] and "bad-deploy" not in status["answer"]
    assert "発生中" in status["answer"] and "不具合のあるデプロイ" in status["answer"]
    assert status["citations"]
    why = ask(client, incident_id, "なぜpaymentを疑っているの？")
    assert "bad-deploy" not in why["answer"] and "確度 " in why["answer"]
    noted = ask(client, incident_id, "/対応 v1.4.2 にロールバックしました")
    assert noted["answer"].startswith("「対応」として記録しました：v1.4.2 にロールバックしました。")
    drafted = ask(client, incident_id, "対応状況の更新を書いて")
    assert drafted["answer"].startswith("対応状況の共有の新しい下書き（第2版）を作りました。")
    assert "responder_update" not in drafted["answer"].split("\n")[0]


def test_the_status_names_the_services_harmed(client: TestClient, incident_id: str) -> None:
    """「影響範囲は？」 is a status question; the status says which services show harm."""
    harmed = client.get(f"/v1/incidents/{incident_id}").json()["severity"]["harmed"]
    assert harmed
    ja = ask(client, incident_id, "影響範囲は？")
    assert ja["intent"] == "status"
    assert f"影響が出ているサービス：{'、'.join(harmed)}" in ja["answer"]
    en = ask(client, incident_id, "status?")
    assert f"Services harmed: {', '.join(harmed)}." in en["answer"]
