"""Japanese drafts: business Japanese, keigo for customers, JST dates; English: UTC plus local."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from agent.draft import write_draft
from agent.draft.phrases import EN, JA
from agent.draft.text import format_time
from tests.draft.conftest import evidence, make_context, severity
from tools.telemetry.replay.format import FAULT_TYPES

JST = ZoneInfo("Asia/Tokyo")


def test_japanese_status_update_uses_keigo_and_jst() -> None:
    draft = write_draft(make_context(language="ja"), "status_update")

    assert draft.title == "【調査中】決済サービス、オンライン購入手続きの障害について"
    assert "いつも株式会社エグザンプルをご利用いただき、誠にありがとうございます。" in draft.body
    assert "ご不便をおかけしており、誠に申し訳ございません。" in draft.body
    assert "■検知日時：2026年11月26日 15:30 (JST)頃" in draft.body
    assert "■次回のお知らせ：2026年11月26日 16:10 (JST)までにお知らせいたします。" in draft.body
    assert "■影響：お客様への影響については、現在確認しております。" in draft.body
    assert "UTC" not in draft.body
    assert "payment-svc" not in draft.body


def test_japanese_follow_up_and_security_wording() -> None:
    follow = write_draft(make_context(language="ja", status_updates_sent=1), "status_update")
    secure = write_draft(make_context(language="ja", security=True), "status_update")

    assert follow.title.startswith("【続報】")
    assert "引き続き調査を行っております。" in follow.body
    assert "事象が発生しており" in secure.body
    assert "障害" not in secure.body
    assert "セキュリティ" not in secure.body


def test_japanese_page_and_exec_summary() -> None:
    page = write_draft(make_context(language="ja"), "page")
    ctx = make_context(language="ja", severity=severity("SEV1", exec_summary=True))
    summary = write_draft(ctx, "exec_summary")

    assert page.title == "[SEV2] payment-svcでCPU 高負荷の疑い（確度 82%）"
    assert "インシデントコマンダー：Aiko Tanaka（決済チーム）" in page.body
    assert "インシデント：inc-20261126-0042（2026年11月26日 15:30 (JST) 起票）" in page.body
    assert summary.title == "【SEV1】経営層向けサマリー：決済サービス、オンライン購入手続き"
    for heading in (
        "■影響",
        "■判明していること",
        "■未確認の事項",
        "■指揮",
        "■次回報告",
        "■必要な判断",
    ):
        assert heading in summary.body
    assert "2026年11月26日 16:10 (JST)までにご報告します。" in summary.body


def test_japanese_pr_statement_apologises() -> None:
    ctx = make_context(language="ja", severity=severity("SEV1", pr=True))
    body = write_draft(ctx, "pr_statement").body

    assert body.startswith("株式会社エグザンプルは、2026年11月26日 15:30 (JST)に")
    assert "深くお詫び申し上げます。" in body


@pytest.mark.parametrize(
    ("at", "zone", "ja", "en"),
    [
        (
            datetime(2026, 11, 26, 6, 30, tzinfo=UTC),
            "Asia/Tokyo",
            "2026年11月26日 15:30 (JST)",
            "2026-11-26 06:30 UTC (15:30 JST)",
        ),
        (
            datetime(2026, 11, 26, 16, 5, tzinfo=UTC),
            "Asia/Tokyo",
            "2026年11月27日 01:05 (JST)",
            "2026-11-26 16:05 UTC (2026-11-27 01:05 JST)",
        ),
        (
            datetime(2026, 11, 26, 6, 30, tzinfo=UTC),
            "UTC",
            "2026年11月26日 06:30 (UTC)",
            "2026-11-26 06:30 UTC",
        ),
    ],
)
def test_time_formats(at: datetime, zone: str, ja: str, en: str) -> None:
    assert format_time(at, "ja", ZoneInfo(zone)) == ja
    assert format_time(at, "en", ZoneInfo(zone)) == en


def test_other_organisation_time_zone_is_used() -> None:
    draft = write_draft(make_context(language="ja", timezone="Europe/London"), "status_update")
    assert "2026年11月26日 06:30 (GMT)頃" in draft.body


def test_phrase_tables_are_complete_in_both_languages() -> None:
    for f in fields(EN):
        en, ja = getattr(EN, f.name), getattr(JA, f.name)
        if isinstance(en, dict):
            assert set(en) == set(ja), f.name
            assert all(en.values()) and all(ja.values()), f.name
        elif f.name != "su_greeting":  # English status updates open without a greeting
            assert en and ja, f.name
    assert set(EN.fault) == set(FAULT_TYPES)


def test_japanese_drafts_use_the_engines_japanese_evidence_sentence() -> None:
    items = evidence()
    cpu = items[0].model_copy(
        update={"summary_ja": "payment-svcのCPU使用率が平常時の0.31から0.98に上昇しました。"}
    )
    items[0] = cpu
    for kind in ("page", "responder_update"):
        ja = write_draft(make_context(language="ja", evidence=items), kind).body
        en = write_draft(make_context(language="en", evidence=items), kind).body
        assert cpu.summary_ja in ja and cpu.summary not in ja
        assert cpu.summary in en and cpu.summary_ja not in en
        # An item the engine gave no Japanese sentence keeps its English one.
        assert items[3].summary in ja


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_conclusive_cause_line_states_its_confidence_once(language: str) -> None:
    """'推定原因：payment-svc：CPU 高負荷（確度 82%）（判定：確定的）', not the suspect and
    its confidence again inside the verdict's brackets."""
    for kind in ("page", "responder_update"):
        body = write_draft(make_context(language=language), kind).body
        (line,) = [ln for ln in body.splitlines() if "82%" in ln and "payment-svc" in ln][:1]
        assert line.count("82%") == 1, line
    ja = write_draft(make_context(language="ja"), "page").body
    assert "：CPU 高負荷（確度 82%）（判定：確定的）\n" in ja
