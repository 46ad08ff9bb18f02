"""The page and its PagerDuty Events API v2 trigger."""

from __future__ import annotations

import pytest

from agent.draft import Suspect, write_draft
from agent.draft.lint import unfilled
from tests.draft.conftest import EV_CPU, EV_DEPLOY, EV_LOG, EV_TRACE, make_context, severity

EVENT_KEYS = {"event_action", "dedup_key", "client", "payload"}
PAYLOAD_KEYS = {
    "summary",
    "source",
    "severity",
    "timestamp",
    "component",
    "group",
    "class",
    "custom_details",
}


def _event(**overrides: object) -> dict[str, object]:
    return write_draft(make_context(**overrides), "page").payload


def test_payload_is_a_complete_trigger_event_without_routing_key() -> None:
    event = _event()
    payload = event["payload"]
    assert isinstance(payload, dict)

    assert set(event) == EVENT_KEYS
    assert "routing_key" not in event
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "inc-20261126-0042"
    assert set(payload) == PAYLOAD_KEYS
    assert payload["source"] == "payment-svc-7d9f8b6c4-x2kqz"
    assert payload["component"] == "payment-svc"
    assert payload["group"] == "payments"
    assert payload["class"] == "cpu"
    assert payload["timestamp"] == "2026-11-26T06:30:00+00:00"
    details = payload["custom_details"]
    assert details["evidence_ids"] == [EV_CPU, EV_LOG, EV_DEPLOY]
    assert details["incident_commander"] == "Aiko Tanaka"
    assert details["suspects"][0]["confidence"] == 0.82


@pytest.mark.parametrize(
    ("level", "expected"),
    [("SEV1", "critical"), ("SEV2", "error"), ("SEV3", "warning"), ("SEV4", "info")],
)
def test_severity_mapping(level: str, expected: str) -> None:
    payload = _event(severity=severity(level))["payload"]
    assert isinstance(payload, dict)
    assert payload["severity"] == expected


def test_summary_is_the_bounded_title() -> None:
    long_name = "svc-" + "a" * 300
    ctx = make_context(suspects=[Suspect(service=long_name, fault_type="cpu", confidence=0.9)])
    draft = write_draft(ctx, "page")
    payload = draft.payload["payload"]
    assert isinstance(payload, dict)

    assert len(draft.title) <= 120
    assert payload["summary"] == draft.title
    assert len(payload["summary"]) <= 1024


def test_an_unknown_war_room_link_is_said_never_left_as_a_placeholder() -> None:
    page = write_draft(make_context(), "page")
    assert "War room: not set (war_room_url in triage.yaml)" in page.body
    assert (
        "links" not in page.payload
        and page.payload["payload"]["custom_details"]["war_room"] is None
    )  # type: ignore[index]
    assert unfilled(page) == []

    url = "https://chat.example.com/war-room/42"
    linked = write_draft(make_context(war_room_url=url), "page")
    assert f"War room: {url}" in linked.body
    assert linked.payload["links"] == [{"href": url, "text": "War room"}]


def test_conclusive_page_names_suspect_fault_confidence_severity_ic_and_evidence() -> None:
    page = write_draft(make_context(), "page")

    assert page.title == "[SEV2] payment-svc: suspected CPU saturation (82%)"
    assert "Suspected cause: payment-svc (payment-svc-7d9f8b6c4-x2kqz): CPU saturation" in page.body
    assert "confidence 82%" in page.body
    assert "Severity: SEV2 (policy rule: tier1-user-facing)" in page.body
    assert "Incident commander: Aiko Tanaka (Payments team)" in page.body
    # Top three evidence sentences, the first suspect's first.
    assert page.evidence_ids == [EV_CPU, EV_LOG, EV_DEPLOY]
    for ev_id in page.evidence_ids:
        assert f"- [{ev_id}] " in page.body
    assert EV_TRACE not in page.body


def test_inconclusive_page_says_cause_unknown_and_lists_leading_suspects() -> None:
    page = write_draft(
        make_context(verdict="inconclusive", verdict_reason="signals disagree"), "page"
    )

    assert page.title == "[SEV2] Cause not yet known; leading suspects: payment-svc, checkout-api"
    assert (
        "Cause: not yet known (verdict: inconclusive; signals are weak or disagree:"
        " payment-svc leads at 82%, then checkout-api)" in page.body
    )
    assert (
        "Leading suspects: payment-svc (payment-svc-7d9f8b6c4-x2kqz): CPU saturation" in page.body
    )
    assert "checkout-api: network latency, confidence 11%" in page.body
    assert "Suspected cause" not in page.body


def test_inconclusive_page_in_japanese() -> None:
    page = write_draft(make_context(language="ja", verdict="inconclusive"), "page")

    assert page.title.startswith("[SEV2] 原因未特定（有力候補：payment-svc、checkout-api）")
    assert (
        "原因：未特定（判定：決め手なし、シグナルが弱いか食い違っています。"
        "首位はpayment-svc（確度 82%）、次点はcheckout-api）" in page.body
    )
    assert (
        "有力な候補：payment-svc (payment-svc-7d9f8b6c4-x2kqz)：CPU 高負荷（確度 82%）" in page.body
    )


def test_no_signal_page_says_so_and_invents_nothing() -> None:
    ctx = make_context(verdict="no-signal", suspects=[], evidence=[], verdict_reason="")
    page = write_draft(ctx, "page")
    payload = page.payload["payload"]
    assert isinstance(payload, dict)

    assert page.title == "[SEV2] Cause not yet known: HighErrorRate payment-svc"
    assert "Cause: not yet known (verdict: no clear signal)" in page.body
    assert "Leading suspects: none yet" in page.body
    assert "- none cited yet" in page.body
    assert "User-facing impact: unknown" in page.body
    assert page.evidence_ids == []
    assert payload["class"] == "unknown"
    assert payload["component"] == "payment-svc"  # the first affected service


def test_llm_analysis_is_labelled() -> None:
    assert "Analysis: deterministic engine" in write_draft(make_context(), "page").body
    llm = write_draft(make_context(analysis_by="llm"), "page")
    assert "Analysis: LLM-assisted; verify before acting" in llm.body


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("en", "Affected services: s0, s1, s2, s3, s4, +3 more"),
        ("ja", "影響を受けているサービス：s0、s1、s2、s3、s4、ほか3件"),
    ],
)
def test_a_wide_blast_radius_is_the_first_few_services_and_how_many_more(
    language: str, line: str
) -> None:
    harmed = severity("SEV1").model_copy(update={"harmed": [f"s{i}" for i in range(8)]})
    page = write_draft(make_context(language=language, severity=harmed), "page")
    assert line in page.body.splitlines()
