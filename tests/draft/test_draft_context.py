"""DraftContext validation and building it from an incident record."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from agent.dispatch.models import DispatchResult
from agent.draft import Bilingual, Suspect
from agent.draft.from_incident import MissingFacts, context_from_incident
from agent.draft.models import Draft
from agent.incident.models import Incident, TimelineEntry
from agent.isolation.evidence import Evidence, EvidenceQuery
from agent.isolation.models import Hypothesis, Isolation
from tests.draft.conftest import NOW, OPENED, make_context, routing, severity

ORG = Bilingual(en="Example Shop", ja="株式会社エグザンプル")
PUBLIC = {"payment-svc": Bilingual(en="Payments", ja="決済サービス")}


def test_rejects_what_would_make_drafts_lie() -> None:
    with pytest.raises(ValidationError, match="impact_known"):
        make_context(impact=Bilingual(en="x", ja="x"), impact_known=False)
    with pytest.raises(ValidationError, match="time zone"):
        make_context(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="timezone"):
        make_context(now=datetime(2026, 11, 26, 6, 40))  # naive: which zone?
    with pytest.raises(ValidationError, match="at most 3"):
        make_context(suspects=[Suspect(service=f"s{i}") for i in range(4)])


def test_next_update_by_cadence_unless_given() -> None:
    assert make_context().next_update_at == NOW + timedelta(minutes=30)
    due = NOW + timedelta(minutes=5)
    assert make_context(next_update_due=due).next_update_at == due


def test_cited_evidence_in_suspect_order_then_the_rest() -> None:
    ids = [e.id for e in make_context().cited_evidence()]
    assert ids == [
        "ev-metric-1a2b3c4d5e",
        "ev-log-0f9e8d7c6b",
        "ev-change-5555aaaa66",
        "ev-trace-aa11bb22cc",
    ]


def test_internal_names_and_public_terms() -> None:
    ctx = make_context()
    assert ctx.internal_names() == ["payment-svc", "checkout-api", "payment-svc-7d9f8b6c4-x2kqz"]
    assert "Payments" in ctx.public_terms()
    assert "決済サービス" in ctx.public_terms()
    assert "https://status.example-shop.jp" in ctx.public_terms()


def _evidence(i: int, summary: str) -> Evidence:
    query = EvidenceQuery(tool="metrics.query", args={"i": i})
    return Evidence(
        id=f"ev-metric-{i:010d}", kind="metric", service="payment-svc", summary=summary, query=query
    )


def _incident(**overrides: object) -> Incident:
    evidence = [_evidence(i, f"fact {i}") for i in range(5)]
    hypotheses = [
        Hypothesis(
            service=f"svc-{i}",
            fault_type="cpu",
            confidence=0.5 - i / 10,
            evidence_ids=[evidence[i].id],
        )
        for i in range(4)
    ]
    hypotheses[0] = hypotheses[0].model_copy(update={"service": "payment-svc"})
    status = Draft(
        id="inc-1-status_update",
        incident_id="inc-1",
        kind="status_update",
        audience="customers",
        channel="statuspage",
        title="t",
        body="b",
        created_at=OPENED,
    )
    fields: dict[str, object] = {
        "id": "inc-1",
        "title": "HighErrorRate payment-svc",
        "opened_at": OPENED,
        "updated_at": NOW,
        "services": ["payment-svc", "checkout-api"],
        "isolation": Isolation(
            hypotheses=hypotheses, evidence=evidence, verdict="inconclusive", verdict_reason="weak"
        ),
        "severity": severity(),
        "routing": routing(),
        "drafts": [status],
        "dispatches": [
            DispatchResult(
                draft_id="inc-1-status_update",
                incident_id="inc-1",
                channel="statuspage",
                status="sent",
                at=OPENED + timedelta(minutes=5),
            ),
            DispatchResult(
                draft_id="inc-1-page",
                incident_id="inc-1",
                channel="pagerduty",
                status="sent",
                at=OPENED,
            ),
        ],
        "timeline": [
            TimelineEntry(at=OPENED, kind="opened", actor="agent", text="opened"),
            TimelineEntry(at=OPENED, kind="note", actor="agent", text="need: not a person"),
            TimelineEntry(
                at=OPENED + timedelta(minutes=2), kind="note", actor="Ken", text="Need: DBA on call"
            ),
            TimelineEntry(
                at=OPENED + timedelta(minutes=3),
                kind="chat",
                actor="Aiko",
                text="決定：デプロイ凍結",
            ),
            TimelineEntry(
                at=OPENED + timedelta(minutes=4),
                kind="chat",
                actor="Ken",
                text="restarted pods",
                data={"note_kind": "action"},
            ),
            TimelineEntry(
                at=OPENED + timedelta(minutes=4), kind="chat", actor="Ken", text="why payment?"
            ),
            TimelineEntry(
                at=OPENED + timedelta(minutes=5),
                kind="note",
                actor="Ken",
                text="ask",
                data={"note_kind": "need"},
            ),
        ],
    }
    fields.update(overrides)
    return Incident.model_validate(fields)


def test_context_from_incident() -> None:
    ctx = context_from_incident(
        _incident(), now=NOW, language="ja", organisation=ORG, public_names=PUBLIC
    )

    assert [s.service for s in ctx.suspects] == ["payment-svc", "svc-1", "svc-2"]
    assert [e.id for e in ctx.evidence] == [f"ev-metric-{i:010d}" for i in range(3)]
    assert ctx.verdict == "inconclusive"
    assert [(r.name, r.public) for r in ctx.affected] == [
        ("payment-svc", PUBLIC["payment-svc"]),
        ("checkout-api", None),
    ]
    assert [(n.author, n.kind, n.text) for n in ctx.notes] == [
        ("Ken", "need", "DBA on call"),
        ("Aiko", "decision", "デプロイ凍結"),
        ("Ken", "action", "restarted pods"),
        ("Ken", "need", "ask"),
    ]
    assert ctx.status_updates_sent == 1
    assert ctx.next_update_at == OPENED + timedelta(minutes=35)
    assert ctx.security is False
    assert ctx.analysis_by == "deterministic"
    assert ctx.impact_known is False


def test_security_and_llm_from_incident() -> None:
    incident = _incident()
    assert incident.isolation is not None
    isolation = incident.isolation.model_copy(update={"engine": "llm:claude"})
    csirt = severity().model_copy(update={"engage": ["csirt"]})
    ctx = context_from_incident(
        _incident(isolation=isolation, severity=csirt),
        now=NOW,
        language="en",
        organisation=ORG,
        public_names={},
    )

    assert ctx.security is True
    assert ctx.analysis_by == "llm"
    assert ctx.status_updates_sent == 1


def test_security_path_in_routing_makes_a_security_incident() -> None:
    routed = routing().model_copy(update={"approvals_required": ["legal", "pr"]})
    ctx = context_from_incident(
        _incident(routing=routed), now=NOW, language="en", organisation=ORG, public_names={}
    )

    assert ctx.security is True
    assert ctx.outside_approvers() == ["legal", "pr"]


def test_incident_without_severity_cannot_be_drafted() -> None:
    with pytest.raises(MissingFacts):
        context_from_incident(
            _incident(severity=None), now=NOW, language="en", organisation=ORG, public_names={}
        )


def test_new_incident_without_isolation() -> None:
    ctx = context_from_incident(
        _incident(isolation=None, dispatches=[]),
        now=NOW,
        language="en",
        organisation=ORG,
        public_names=PUBLIC,
    )
    assert (ctx.suspects, ctx.evidence, ctx.verdict) == ([], [], "no-signal")
    assert ctx.next_update_at == NOW + timedelta(minutes=30)
