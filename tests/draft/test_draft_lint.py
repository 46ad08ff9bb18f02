"""check_external: what it flags, what it lets through."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.draft import check_external
from agent.draft.models import Draft

INTERNAL = ["payment-svc", "checkout"]


def _draft(body: str, title: str = "Status", payload: dict[str, object] | None = None) -> Draft:
    return Draft(
        id="inc-7-status_update",
        incident_id="inc-7",
        kind="status_update",
        audience="customers",
        channel="statuspage",
        title=title,
        body=body,
        created_at=datetime(2026, 11, 26, tzinfo=UTC),
        payload=payload or {},
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Errors in payment-svc.", "internal service name 'payment-svc'"),
        ("Errors in Checkout.", "internal service name 'checkout'"),
        ("db-1.prod.internal is down", "hostname 'db-1.prod.internal'"),
        ("pod payment-7d9f8b6c4-x2kqz restarted", "pod-like name 'payment-7d9f8b6c4-x2kqz'"),
        ("kafka-0 lost its leader", "pod-like name 'kafka-0'"),
        ("host ip-10-0-1-23 rebooted", "pod-like name 'ip-10-0-1-23'"),
        ("instance i-0abc123def4567890 stopped", "instance id 'i-0abc123def4567890'"),
        ("from 10.0.3.7 only", "IP address '10.0.3.7'"),
        ("via fe80::1 link", "IP address 'fe80::1'"),
        ("http_requests_total rose", "metric-like token 'http_requests_total'"),
        ('rate(errors{job="api"}) rose', "metric selector"),
        ("We are 82% confident it is the database.", "confidence percentage"),
        ("The likely cause (confidence 0.82)", "confidence percentage"),
        ("原因はデータベースの可能性が高い（確度 82%）", "confidence percentage"),
        ("see ev-log-0f9e8d7c6b", "evidence id 'ev-log-0f9e8d7c6b'"),
        ("password=<REDACTED> rejected", "redaction marker '<REDACTED>'"),
        ("Details: https://grafana.internal/d/abc", "URL 'https://grafana.internal/d/abc'"),
    ],
)
def test_flags(text: str, expected: str) -> None:
    warnings = check_external(_draft(text), INTERNAL)
    assert any(w.startswith(expected) for w in warnings), warnings


@pytest.mark.parametrize(
    "text",
    [
        "We are investigating an issue affecting Payments. We apologise for the inconvenience.",
        "Next update: by 2026-11-26 07:10 UTC (16:10 JST)",
        "About 20% of card payments are failing.",  # impact, not confidence
        "現在、決済サービスにおいて障害が発生しており、調査を行っております。",
        "■次回のお知らせ：2026年11月26日 16:10 (JST)までにお知らせいたします。",
        "Incident inc-7 is being handled, e.g. by the payments team.",
        "Version v2.14 of the app, 99.9% uptime target.",
    ],
)
def test_plain_customer_text_passes(text: str) -> None:
    assert check_external(_draft(text), INTERNAL) == []


def test_allowed_public_terms_are_not_flagged() -> None:
    body = "Checkout is slow. Updates: https://status.example-shop.jp (status.example-shop.jp)"
    draft = _draft(body)

    assert check_external(draft, INTERNAL) != []
    assert (
        check_external(
            draft,
            INTERNAL,
            allowed=["Checkout", "https://status.example-shop.jp", "status.example-shop.jp"],
        )
        == []
    )


def test_title_and_payload_are_checked_too() -> None:
    draft = _draft("fine", title="payment-svc down", payload={"components": ["db-1.prod.internal"]})

    assert check_external(draft, INTERNAL) == [
        "internal service name 'payment-svc' in title",
        "hostname 'db-1.prod.internal' in payload.components[0]",
    ]


def test_each_finding_once_per_place() -> None:
    warnings = check_external(_draft("payment-svc, payment-svc and PAYMENT-SVC"), INTERNAL)
    assert warnings == ["internal service name 'payment-svc' in body"]
