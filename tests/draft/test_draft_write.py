"""write_drafts: which kinds, for whom, on which channel, in which language, with stable ids."""

from __future__ import annotations

import pytest

from agent.draft import kinds_for, write_draft, write_drafts
from agent.draft.models import Language
from agent.draft.text import MAX_BODY, MAX_TITLE
from tests.draft.conftest import NOW, by_kind, evidence, make_context, severity

ROUTES = {
    "page": ("on-call", "pagerduty"),
    "responder_update": ("responders", "slack"),
    "status_update": ("customers", "statuspage"),
    "exec_summary": ("executives", "email"),
    "pr_statement": ("media", "email"),
}


def test_every_kind_in_both_languages(language: Language) -> None:
    ctx = make_context(language=language, severity=severity("SEV1", exec_summary=True, pr=True))
    drafts = write_drafts(ctx)

    assert [d.kind for d in drafts] == list(ROUTES)
    for d in drafts:
        assert (d.audience, d.channel) == ROUTES[d.kind]
        assert d.language == language
        assert d.id == f"inc-20261126-0042-{d.kind}"
        assert d.incident_id == "inc-20261126-0042"
        assert d.state == "pending"
        assert d.created_at == NOW
        assert d.title
        assert d.body


@pytest.mark.parametrize(
    ("exec_summary", "pr", "extra"),
    [
        (False, False, []),
        (True, False, ["exec_summary"]),
        (False, True, ["pr_statement"]),
        (True, True, ["exec_summary", "pr_statement"]),
    ],
)
def test_exec_and_pr_drafts_only_when_severity_says_so(
    exec_summary: bool, pr: bool, extra: list[str]
) -> None:
    ctx = make_context(severity=severity("SEV1", exec_summary=exec_summary, pr=pr))

    kinds = [d.kind for d in write_drafts(ctx)]

    assert kinds == ["page", "responder_update", "status_update", *extra]
    assert kinds == kinds_for(ctx)


def test_ids_are_stable_across_redrafts_and_languages() -> None:
    first = write_drafts(make_context(severity=severity(exec_summary=True, pr=True)))
    later = make_context(
        language="ja", verdict="inconclusive", severity=severity(exec_summary=True, pr=True)
    )

    assert [d.id for d in first] == [d.id for d in write_drafts(later)]
    assert write_draft(later, "page").id == first[0].id


def test_titles_and_bodies_are_bounded() -> None:
    huge = [e.model_copy(update={"summary": "x " * 5000}) for e in evidence()]
    ctx = make_context(
        title="T" * 5000,
        evidence=huge,
        severity=severity("SEV1", exec_summary=True, pr=True),
    )

    for d in write_drafts(ctx):
        assert len(d.title) <= MAX_TITLE
        assert len(d.body) <= MAX_BODY
    page = by_kind(write_drafts(ctx))["page"]
    assert all(len(line) <= 400 for line in page.body.splitlines())
