"""Intent and note recognition, English and Japanese."""

from __future__ import annotations

import pytest

from agent.chat.intents import match_intent, span_minutes
from agent.chat.notes import recognise_note

SERVICES = {"payment": "payment", "checkout": "checkout", "frontend": "frontend"}
TEAMS = {"payments": "payments", "orders": "orders"}


@pytest.mark.parametrize(
    ("text", "intent", "service", "team", "minutes"),
    [
        ("what changed in the last hour?", "changes", None, None, 60),
        ("any deploys in the last 15m?", "changes", None, None, 15),
        ("why do you suspect payment?", "why", "payment", None, None),
        ("show payment errors", "errors", "payment", None, 30),
        ("checkout latency over the last 2 hours", "metrics", "checkout", None, 120),
        ("who is on call for payments?", "oncall", None, "payments", None),
        ("write a customer update", "customer_update", None, None, None),
        ("write an executive summary", "exec_summary", None, None, None),
        ("draft a responder update", "responder_update", None, None, None),
        ("where are we?", "status", None, None, None),
        ("what is the meaning of life", "unknown", None, None, None),
        ("直近1時間で何が変わった？", "changes", None, None, 60),
        ("なぜpaymentを疑っているの？", "why", "payment", None, None),
        ("paymentのエラーを見せて", "errors", "payment", None, 30),
        ("paymentsチームの当番は誰？", "oncall", None, "payments", None),
        ("顧客向けの更新を書いて", "customer_update", None, None, None),
        ("経営向けサマリーを書いて", "exec_summary", None, None, None),
        ("今の状況は？", "status", None, None, None),
        ("how many customers are affected?", "status", None, None, None),
        ("顧客への影響は何人ですか？", "status", None, None, None),
        ("what do we tell customers?", "customer_update", None, None, None),
    ],
)
def test_intents(
    text: str, intent: str, service: str | None, team: str | None, minutes: int | None
) -> None:
    found = match_intent(text, SERVICES, TEAMS)
    assert (found.name, found.service, found.team, found.minutes) == (
        intent,
        service,
        team,
        minutes,
    )
    assert found.language == ("ja" if any(ord(c) > 0x3000 for c in text) else "en")


def test_a_service_is_matched_as_a_whole_word() -> None:
    names = {"payment": "payment", "payments-api": "payments-api"}
    assert match_intent("show payments-api errors", names).service == "payments-api"
    assert match_intent("show repayment errors", {"payment": "payment"}).service is None
    assert span_minutes("nothing here") is None


@pytest.mark.parametrize(
    ("text", "kind", "note"),
    [
        ("/action rolled back payment", "action", "rolled back payment"),
        ("/decision fail over to tokyo-2", "decision", "fail over to tokyo-2"),
        ("/need DBA help", "need", "DBA help"),
        ("/要請 DBAの支援", "need", "DBAの支援"),
        ("rolled back payment to v2.3", "action", "rolled back payment to v2.3"),
        ("we restarted the pool", "action", "we restarted the pool"),
        ("decided to fail over", "decision", "decided to fail over"),
        ("need DBA help", "need", "need DBA help"),
        ("we need someone from networking", "need", "we need someone from networking"),
        (
            "paymentをv1.4.2にロールバックしました",
            "action",
            "paymentをv1.4.2にロールバックしました",
        ),
        (
            "東京2にフェイルオーバーすることにしました",
            "decision",
            "東京2にフェイルオーバーすることにしました",
        ),
        ("DBAの支援が必要です", "need", "DBAの支援が必要です"),
        ("決定：デプロイ凍結", "decision", "デプロイ凍結"),
        ("アクション: paymentをv3.25.7に戻した", "action", "paymentをv3.25.7に戻した"),
        ("Need: a DBA on the bridge", "need", "a DBA on the bridge"),
    ],
)
def test_notes(text: str, kind: str, note: str) -> None:
    found = recognise_note(text)
    assert found is not None and (found.kind, found.text) == (kind, note)


@pytest.mark.parametrize(
    "text",
    [
        "what changed in the last hour?",
        "did we roll back payment?",
        "write a customer update",
        "ロールバックしましたか？",
        "/need",
        "payment looks bad",
    ],
)
def test_questions_and_chatter_are_not_notes(text: str) -> None:
    assert recognise_note(text) is None
