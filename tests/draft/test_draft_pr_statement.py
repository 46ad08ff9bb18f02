"""The PR holding statement is the approved wording with only safe blanks filled."""

from __future__ import annotations

from string import Template

import pytest

from agent.draft import write_draft
from agent.draft.models import Language
from agent.draft.phrases import (
    APPROVED_PR_TEMPLATES,
    APPROVED_PR_VERSION,
    SAFE_BLANKS,
    approved_digest,
)
from tests.draft.conftest import make_context, severity

# Changing the approved wording needs PR (and, for "security", legal) sign-off:
# then bump APPROVED_PR_VERSION and record the new digest here (docs/drafts.md).
APPROVED_DIGEST = "8a1251887426f1d51c67f08a3e44365dd21c3f38ae0fe9a482d12321f2a1f9dc"

DETECTED = {"en": "2026-11-26 06:30 UTC (15:30 JST)", "ja": "2026年11月26日 15:30 (JST)"}
NEXT = {"en": "2026-11-26 07:10 UTC (16:10 JST)", "ja": "2026年11月26日 16:10 (JST)"}
ORG = {"en": "Example Shop", "ja": "株式会社エグザンプル"}
SERVICES = {"en": "Payments and Online checkout", "ja": "決済サービス、オンライン購入手続き"}


def test_approved_wording_is_unchanged() -> None:
    assert APPROVED_PR_VERSION == "2026-01"
    assert approved_digest() == APPROVED_DIGEST


def test_templates_use_only_safe_blanks() -> None:
    for language, templates in APPROVED_PR_TEMPLATES.items():
        assert set(templates) == {"disruption", "security", "status_page"}, language
        for text in templates.values():
            template = Template(text)
            assert template.is_valid()
            assert set(template.get_identifiers()) <= SAFE_BLANKS


@pytest.mark.parametrize("security", [False, True])
def test_body_is_exactly_the_filled_template(language: Language, security: bool) -> None:
    ctx = make_context(language=language, security=security, severity=severity("SEV1", pr=True))
    draft = write_draft(ctx, "pr_statement")
    templates = APPROVED_PR_TEMPLATES[language]
    main = Template(templates["security" if security else "disruption"]).substitute(
        organisation=ORG[language],
        services=SERVICES[language],
        detected_at=DETECTED[language],
        next_update=NEXT[language],
    )
    link = Template(templates["status_page"]).substitute(
        status_page_url="https://status.example-shop.jp"
    )

    assert draft.body == f"{main}\n\n{link}"
    assert draft.payload["template"] == ("security" if security else "disruption")
    assert draft.payload["template_version"] == APPROVED_PR_VERSION
    assert draft.payload["template_sha256"] == APPROVED_DIGEST
    assert draft.payload["approvals_required"] == (["legal", "pr"] if security else ["pr"])


def test_without_status_page_the_link_sentence_is_dropped() -> None:
    ctx = make_context(status_page_url=None, severity=severity("SEV1", pr=True))
    body = write_draft(ctx, "pr_statement").body

    assert "status page" not in body
    assert body.endswith("our next update is planned by 2026-11-26 07:10 UTC (16:10 JST).")
