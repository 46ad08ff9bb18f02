"""Drafts for outside readers: public names, plain words, no internals, no guesses about cause."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.draft import Bilingual, ServiceRef, check_external, write_draft, write_drafts
from agent.draft.lint import is_outside
from agent.draft.models import Draft, Language
from tests.draft.conftest import evidence, make_context, routing, severity

OUTSIDE_KINDS = ("status_update", "exec_summary", "pr_statement")
CAUSE_WORDS = ("CPU", "cpu", "confidence", "確度", "suspect", "疑い", "deploy", "デプロイ", "%")
BREACH_WORDS = (
    "breach",
    "hack",
    "leak",
    "compromis",
    "attack",
    "漏洩",
    "漏えい",
    "不正アクセス",
    "攻撃",
)


def _outside(language: Language, **overrides: object) -> list[Draft]:
    sev = severity("SEV1", exec_summary=True, pr=True)
    ctx = make_context(language=language, severity=sev, **overrides)
    return [d for d in write_drafts(ctx) if d.kind in OUTSIDE_KINDS]


@pytest.mark.parametrize("security", [False, True])
@pytest.mark.parametrize("verdict", ["conclusive", "inconclusive", "no-signal"])
def test_outside_drafts_pass_the_lint(language: Language, security: bool, verdict: str) -> None:
    ctx = make_context(
        language=language,
        security=security,
        verdict=verdict,
        severity=severity("SEV1", exec_summary=True, pr=True),
    )
    drafted = [d.kind for d in write_drafts(ctx) if is_outside(d)]
    assert drafted == ([] if verdict == "no-signal" else list(OUTSIDE_KINDS))
    outside = [write_draft(ctx, kind) for kind in OUTSIDE_KINDS]  # redrafts on request
    for draft in outside:
        assert check_external(draft, ctx.internal_names(), allowed=ctx.public_terms()) == []
        assert draft.evidence_ids == []
        for item in evidence():
            assert item.id not in draft.body
            assert item.summary[:30] not in draft.body


def test_no_signal_drafts_nothing_for_outside_readers_beyond_the_page(language: Language) -> None:
    ctx = make_context(
        language=language,
        verdict="no-signal",
        severity=severity("SEV1", exec_summary=True, pr=True),
    )
    assert [d.kind for d in write_drafts(ctx)] == ["page", "responder_update"]


def test_status_update_and_pr_say_nothing_about_cause(language: Language) -> None:
    for draft in _outside(language):
        if draft.kind == "exec_summary":
            continue  # executives hear the line of investigation, without numbers
        text = draft.title + draft.body
        for word in CAUSE_WORDS:
            assert word not in text, (draft.kind, word)


def test_status_update_plain_language_en() -> None:
    draft = write_draft(make_context(), "status_update")

    assert draft.title == "Investigating: issue affecting Payments and Online checkout"
    assert draft.body.startswith(
        "We are investigating an issue affecting Payments and Online checkout."
    )
    assert "Impact: We are assessing the impact on customers." in draft.body
    assert "Next update: by 2026-11-26 07:10 UTC (16:10 JST)" in draft.body  # SEV2: every 30 min
    assert "Updates: https://status.example-shop.jp" in draft.body
    assert draft.payload["status"] == "investigating"
    assert draft.payload["components"] == ["Payments", "Online checkout"]
    assert draft.payload["approvals_required"] == []


def test_status_update_states_known_impact_in_customer_terms() -> None:
    impact = Bilingual(en="Some card payments fail.", ja="一部のカード決済が完了できません。")
    en = write_draft(make_context(impact_known=True, impact=impact), "status_update")
    ja = write_draft(make_context(language="ja", impact_known=True, impact=impact), "status_update")
    undescribed = write_draft(make_context(impact_known=True), "status_update")

    assert "Impact: Some card payments fail." in en.body
    assert "■影響：一部のカード決済が完了できません。" in ja.body
    assert "Impact: Customers using Payments and Online checkout are affected." in undescribed.body


def test_follow_up_and_cadence() -> None:
    due = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    draft = write_draft(make_context(status_updates_sent=2, next_update_due=due), "status_update")
    sev4 = write_draft(
        make_context(severity=severity("SEV4").model_copy(update={"status_every_min": 120})),
        "status_update",
    )

    assert draft.title.startswith("Update: ")
    assert draft.body.startswith("We are continuing to investigate")
    assert "Next update: by 2026-11-26 08:00 UTC (17:00 JST)" in draft.body
    assert "Next update: by 2026-11-26 08:40 UTC (17:40 JST)" in sev4.body


def test_service_without_public_name_is_never_named_outside(language: Language) -> None:
    affected = [ServiceRef(name="payment-svc"), ServiceRef(name="checkout-api")]
    vague = {"en": "some of our services", "ja": "一部のサービス"}[language]
    ctx = make_context(
        language=language, affected=affected, severity=severity("SEV1", exec_summary=True, pr=True)
    )

    for draft in (d for d in write_drafts(ctx) if is_outside(d)):
        assert vague in draft.body
        assert check_external(draft, ctx.internal_names(), allowed=ctx.public_terms()) == []


def test_security_drafts_need_legal_and_pr_and_confirm_no_breach(language: Language) -> None:
    drafts = {d.kind: d for d in _outside(language, security=True, impact_known=True)}

    for kind in ("status_update", "pr_statement"):
        draft = drafts[kind]
        assert draft.payload["security"] is True
        assert draft.payload["approvals_required"] == ["legal", "pr"]
        assert "legal and PR must approve" in str(draft.payload["approver_note"])
        text = (draft.title + draft.body).lower()
        for word in BREACH_WORDS:
            assert word not in text, (kind, word)
        assert "security" not in text
        assert "セキュリティ" not in text
    assert drafts["pr_statement"].payload["template"] == "security"
    exec_body = drafts["exec_summary"].body
    assert ("legal and PR approval" in exec_body) or ("法務および広報の承認" in exec_body)


def test_exec_summary_sections_and_unknowns() -> None:
    ctx = make_context(verdict="inconclusive", severity=severity("SEV1", exec_summary=True))
    body = write_draft(ctx, "exec_summary").body
    headings = [
        "Impact",
        "What we know",
        "What we don't know yet",
        "Who leads",
        "Next update",
        "Decisions needed",
    ]

    positions = [body.index(f"{h}\n") for h in headings]
    assert positions == sorted(positions)
    assert "- Unknown; the impact on customers is being assessed." in body
    assert "the leading line of investigation is CPU saturation in Payments" in body
    assert "- The cause.\n" in body
    assert "- When service will be fully restored." in body
    assert "- Aiko Tanaka (Payments team), incident commander." in body
    assert "- By 2026-11-26 07:10 UTC (16:10 JST)." in body
    assert "Decisions needed\n- none recorded yet" in body


def test_exec_summary_suspect_without_public_name_is_an_internal_component() -> None:
    affected = [
        ServiceRef(name="checkout-api", public=Bilingual(en="Online checkout", ja="購入手続き"))
    ]
    ctx = make_context(affected=affected, severity=severity("SEV1", exec_summary=True))
    body = write_draft(ctx, "exec_summary").body

    assert "CPU saturation in an internal component" in body
    assert "payment-svc" not in body


def test_teams_routing_requires_are_added_to_approvals() -> None:
    routed = routing().model_copy(update={"approvals_required": ["legal", "pr", "ciso"]})
    ctx = make_context(security=True, routing=routed, severity=severity("SEV1", pr=True))
    drafts = {d.kind: d for d in write_drafts(ctx)}

    assert drafts["status_update"].payload["approvals_required"] == ["legal", "pr", "ciso"]
    assert drafts["pr_statement"].payload["approvals_required"] == ["legal", "pr", "ciso"]
