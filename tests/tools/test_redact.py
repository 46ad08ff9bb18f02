"""Secrets and personal data are masked; ordinary numbers and words are not."""

from __future__ import annotations

import pytest

from tools.redact import redact, redact_counted, redact_data, rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("login for alice.smith@example.com ok", "login for <EMAIL> ok"),
        ("Authorization: Bearer sk_live_abcdef123456", "Authorization: Bearer <TOKEN>"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic <TOKEN>"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature_x", "jwt <JWT>"),
        ("key AKIAIOSFODNN7EXAMPLE loaded", "key <AWS_KEY> loaded"),
        ("password=hunter2 user=bob", "password=<REDACTED> user=bob"),
        ("DB_PASSWORD: hunter2", "DB_PASSWORD: <REDACTED>"),
        ('{"api_key": "abc123", "user": "bob"}', '{"api_key": "<REDACTED>", "user": "bob"}'),
        ("client_secret=xyz&grant=code", "client_secret=<REDACTED>&grant=code"),
        ("postgres://app:s3cret@db:5432/x", "postgres://app:<REDACTED>@db:5432/x"),
        ("redis://:hunter2@cache:6379/0", "redis://:<REDACTED>@cache:6379/0"),
        ("clone with ghp_16C7e42F292c6912E7710c838347Ae178B4a", "clone with <TOKEN>"),
        ("pat github_pat_11ABCDEFG0123456789_abcdefghij", "pat <TOKEN>"),
        ("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKl", "slack <TOKEN>"),
        ("charge with sk_live_51HxYzAbCdEfGhIjKlMn failed", "charge with <TOKEN> failed"),
        ("gitlab glpat-AbCdEfGhIjKlMnOpQrSt", "gitlab <TOKEN>"),
        ("maps AIzaSyA1234567890abcdefghijklmnopqrstuv", "maps <TOKEN>"),
        ("llm sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "llm <TOKEN>"),
        ("card 4111 1111 1111 1111 declined", "card <CARD> declined"),
        ("card 5555-5555-5555-4444 declined", "card <CARD> declined"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "<PRIVATE_KEY>"),
        ("call 090-1234-5678.", "call <PHONE>."),
        ("電話：03-1234-5678まで", "電話：<PHONE>まで"),
        ("toll-free 0120-123-456", "toll-free <PHONE>"),
        ("reach +81-90-1234-5678 or +1 415 555 0100", "reach <PHONE> or <PHONE>"),
        ("sms to +819012345678 queued", "sms to <PHONE> queued"),  # E.164, as SMS APIs log it
        ("phone=09012345678 user=7", "phone=<PHONE> user=7"),
        ('{"customer_phone": "(03) 1234-5678"}', '{"customer_phone": "<PHONE>"}'),
        ("dial tel:09012345678", "dial tel:<PHONE>"),
    ],
)
def test_masks(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 1661144400000 created",  # epoch milliseconds are not cards
        "ids 4111111111111112 and 1234567890123",  # Luhn fails / no issuer prefix
        "tokens_used=42 token count low",
        "Bearer token missing",
        "GET /checkout 200 in 35 ms from 10.0.0.12",
        "version v1.5.0 deployed by ci-bot",
        "trace 12345678-0123-4567-8901-123456789012",  # a UUID's digit groups
        "released 2026-12-07, build 0-1-2345, order 0123-45-678",  # dates, too few digits
        "task-scheduler sk-learn ghp_short https://docs.example/a:b@c",  # no vendor token
        "telemetry: 20260511 hotel=12345678 +1234",  # not phone fields, too short for E.164
    ],
)
def test_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text


def test_ip_masking_is_opt_in() -> None:
    assert redact("from 10.0.0.12") == "from 10.0.0.12"
    assert redact("from 10.0.0.12", rules(ips=True)) == "from <IP>"


def test_redaction_is_idempotent() -> None:
    text = (
        "user a@b.io password=x Bearer abcdefgh123 card 4111111111111111 AKIAIOSFODNN7EXAMPLE"
        " tel 090-1234-5678"
    )
    once = redact(text)
    assert redact(once) == once
    assert redact_counted(once)[1] == 0


def test_counts_every_masked_span() -> None:
    text, count = redact_counted("a@b.io and c@d.io, password=x, card 4111111111111111")
    assert count == 4
    assert "4111" not in text


def test_redact_data_walks_json() -> None:
    payload = {"user": "a@b.io", "items": ["password=x", 3], "nested": {"ok": True}}
    assert redact_data(payload) == {
        "user": "<EMAIL>",
        "items": ["password=<REDACTED>", 3],
        "nested": {"ok": True},
    }
