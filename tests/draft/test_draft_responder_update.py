"""The responder update: Conditions / Actions / Needs, internal names, evidence ids, unknowns."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.draft import ResponderNote, check_external, write_draft
from agent.draft.models import Language
from tests.draft.conftest import EV_CPU, EV_DEPLOY, EV_LOG, EV_TRACE, make_context

HEADINGS = {
    "en": ("*Conditions*", "*Actions*", "*Needs*"),
    "ja": ("*状況*", "*実施済みの対応*", "*必要な支援*"),
}


def test_sections_in_can_order(language: Language) -> None:
    body = write_draft(make_context(language=language), "responder_update").body

    positions = [body.index(h) for h in HEADINGS[language]]
    assert positions == sorted(positions)


def test_actions_decisions_and_needs_come_from_responder_notes() -> None:
    need = ResponderNote(
        at=datetime(2026, 11, 26, 6, 39, tzinfo=UTC),
        author="Ken Sato",
        text="DBA to check replica lag",
        kind="need",
    )
    ctx = make_context(notes=[*make_context().notes, need])
    body = write_draft(ctx, "responder_update").body
    actions = body.split("*Actions*")[1].split("*Needs*")[0]
    needs = body.split("*Needs*")[1]

    assert "- 06:36 UTC Ken Sato: Rolled back payment-svc to v2.13.2" in actions
    assert "- 06:38 UTC Aiko Tanaka: Decision: Freeze deploys" in actions
    assert "DBA to check replica lag" not in actions
    assert "- 06:39 UTC Ken Sato: DBA to check replica lag" in needs


def test_without_notes_says_none_recorded_yet(language: Language) -> None:
    body = write_draft(make_context(language=language, notes=[]), "responder_update").body
    none = {"en": "- none recorded yet", "ja": "- まだ記録されていません"}[language]

    assert body.count(none) == 2


def test_unknowns_are_stated_as_unknown() -> None:
    ctx = make_context(verdict="inconclusive", impact_known=False)
    body = write_draft(ctx, "responder_update").body

    assert "Cause: not yet known (verdict: inconclusive" in body
    assert "User-facing impact: unknown" in body
    assert "Time to recovery: unknown" in body


def test_cites_evidence_ids_and_names_internal_services() -> None:
    ctx = make_context()
    draft = write_draft(ctx, "responder_update")

    assert draft.evidence_ids == [EV_CPU, EV_LOG, EV_DEPLOY, EV_TRACE]
    for ev_id in draft.evidence_ids:
        assert f"[{ev_id}]" in draft.body
    assert "Affected services: payment-svc, checkout-api" in draft.body
    warnings = check_external(draft, ctx.internal_names(), allowed=ctx.public_terms())
    assert "internal service name 'payment-svc' in body" in warnings


def test_japanese_timeline_times_are_local() -> None:
    body = write_draft(make_context(language="ja"), "responder_update").body

    assert "- 15:36 Ken Sato：Rolled back payment-svc to v2.13.2" in body
    assert "- 15:38 Aiko Tanaka：決定事項：Freeze deploys" in body
    assert "次回ステータス更新期限：2026年11月26日 16:10 (JST)" in body
