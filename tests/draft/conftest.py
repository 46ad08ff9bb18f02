"""Hand-built draft contexts: a payments incident at 15:30 JST, no telemetry needed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agent.draft import (
    Bilingual,
    DraftContext,
    EvidenceItem,
    ResponderNote,
    ServiceRef,
    Suspect,
)
from agent.draft.models import Draft, DraftKind, Language
from agent.routing.models import Responder, Routing
from agent.severity.models import SeverityAssessment

OPENED = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)  # 15:30 JST
NOW = datetime(2026, 11, 26, 6, 40, tzinfo=UTC)  # 15:40 JST; next update at 16:10 JST
INTERNAL = ["payment-svc", "checkout-api"]
EV_CPU = "ev-metric-1a2b3c4d5e"
EV_LOG = "ev-log-0f9e8d7c6b"
EV_TRACE = "ev-trace-aa11bb22cc"
EV_DEPLOY = "ev-change-5555aaaa66"


def severity(
    level: str = "SEV2", *, exec_summary: bool = False, pr: bool = False
) -> SeverityAssessment:
    return SeverityAssessment(
        level=level,  # type: ignore[arg-type]
        rule="tier1-user-facing",
        reasons=["payment-svc is tier 1"],
        status_every_min=30,
        exec_summary=exec_summary,
        pr_statement=pr,
    )


def routing() -> Routing:
    ic = Responder(name="Aiko Tanaka", team="payments", role="incident-commander")
    oncall = Responder(
        name="Ken Sato", team="payments", role="on-call", contact="pd:ken@example.com"
    )
    return Routing(page_team="payments", paged=[oncall], incident_commander=ic)


def suspects() -> list[Suspect]:
    return [
        Suspect(
            service="payment-svc",
            instance="payment-svc-7d9f8b6c4-x2kqz",
            fault_type="cpu",
            confidence=0.82,
            evidence_ids=[EV_CPU, EV_LOG, EV_DEPLOY],
        ),
        Suspect(
            service="checkout-api",
            fault_type="network-delay",
            confidence=0.11,
            evidence_ids=[EV_TRACE],
        ),
    ]


def evidence() -> list[EvidenceItem]:
    return [
        EvidenceItem(
            id=EV_CPU,
            kind="metric",
            summary="container_cpu_usage_seconds_total of payment-svc rose to 0.98 against 0.31.",
        ),
        EvidenceItem(
            id=EV_LOG,
            kind="log",
            summary="payment-svc started logging a new ERROR line: db password=hunter2 rejected"
            " for ops@example.com at 10.0.3.7.",
        ),
        EvidenceItem(
            id=EV_TRACE, kind="trace", summary="Calls from checkout-api to payment-svc slowed."
        ),
        EvidenceItem(
            id=EV_DEPLOY,
            kind="change",
            summary="payment-svc v2.14.0 deployed 10 minutes before onset.",
        ),
    ]


def make_context(**overrides: Any) -> DraftContext:
    """A conclusive SEV2 CPU fault in payment-svc; override any field."""
    fields: dict[str, Any] = {
        "incident_id": "inc-20261126-0042",
        "title": "HighErrorRate payment-svc",
        "opened_at": OPENED,
        "now": NOW,
        "language": "en",
        "organisation": Bilingual(en="Example Shop", ja="株式会社エグザンプル"),
        "timezone": "Asia/Tokyo",
        "status_page_url": "https://status.example-shop.jp",
        "severity": severity(),
        "routing": routing(),
        "team_names": {"payments": Bilingual(en="Payments team", ja="決済チーム")},
        "suspects": suspects(),
        "evidence": evidence(),
        "verdict": "conclusive",
        "verdict_reason": "payment-svc leads at 82%.",
        "affected": [
            ServiceRef(name="payment-svc", public=Bilingual(en="Payments", ja="決済サービス")),
            ServiceRef(
                name="checkout-api",
                public=Bilingual(en="Online checkout", ja="オンライン購入手続き"),
            ),
        ],
        "notes": [
            ResponderNote(
                at=datetime(2026, 11, 26, 6, 36, tzinfo=UTC),
                author="Ken Sato",
                text="Rolled back payment-svc to v2.13.2",
            ),
            ResponderNote(
                at=datetime(2026, 11, 26, 6, 38, tzinfo=UTC),
                author="Aiko Tanaka",
                text="Freeze deploys",
                kind="decision",
            ),
        ],
    }
    fields.update(overrides)
    return DraftContext(**fields)


def by_kind(drafts: list[Draft]) -> dict[DraftKind, Draft]:
    return {d.kind: d for d in drafts}


@pytest.fixture(params=["en", "ja"])
def language(request: pytest.FixtureRequest) -> Language:
    return request.param  # type: ignore[no-any-return]
