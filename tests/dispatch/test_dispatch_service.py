"""dispatch(): refusals, idempotence, what is recorded, and the config it reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.approval.models import Approval
from agent.approval.service import approve, reject
from agent.dispatch.config import DispatchConfig, PagerDutyConfig, SlackConfig
from agent.dispatch.models import DispatchResult
from agent.dispatch.service import DispatchError, dispatch
from agent.draft.models import Draft
from agent.incident.models import Incident
from tests.approval.factories import LATER, PAGE, SLACK, STATUS, incident, state_of
from tests.support.receiver import Receiver


def _edited_after_approval(inc: Incident, draft_id: str) -> Incident:
    """What a later agent rewrite looks like: new body and revision, no new approval."""
    return inc.model_copy(
        update={
            "drafts": [
                d.model_copy(update={"body": "rewritten", "revision": d.revision + 1})
                if d.id == draft_id
                else d
                for d in inc.drafts
            ]
        }
    )


def test_a_pending_draft_is_refused_and_recorded(
    pagerduty: Receiver, config: DispatchConfig
) -> None:
    after = dispatch(incident(), PAGE, config, now=LATER)

    assert pagerduty.requests == []
    (result,) = after.dispatches
    assert result.status == "refused"
    assert "draft is pending, not approved" in result.detail
    entry = after.timeline[-1]
    assert (entry.kind, entry.actor) == ("dispatch", "system")
    assert entry.text.startswith("Refused to send page")
    assert state_of(after, PAGE) == "pending"


def test_a_rejected_draft_is_refused_with_the_reason(
    pagerduty: Receiver, config: DispatchConfig
) -> None:
    inc = reject(approve(incident(), PAGE, "Aiko", LATER), PAGE, "Ben", LATER, reason="dup")
    after = dispatch(inc, PAGE, config, now=LATER)
    assert pagerduty.requests == []
    assert after.dispatches[-1].status == "refused"
    assert "rejected by Ben: dup" in after.dispatches[-1].detail


def test_a_draft_edited_after_approval_is_refused(slack: Receiver, config: DispatchConfig) -> None:
    inc = _edited_after_approval(approve(incident(), SLACK, "Ben", LATER), SLACK)
    after = dispatch(inc, SLACK, config, now=LATER)
    assert slack.requests == []
    result = after.dispatches[-1]
    assert result.status == "refused"
    assert "no approval covers revision 2" in result.detail
    assert "Ben approved revision 1" in result.detail


def test_a_draft_changed_in_place_after_approval_is_refused(
    pagerduty: Receiver, config: DispatchConfig
) -> None:
    inc = approve(incident(), PAGE, "Aiko", LATER)
    changed = inc.model_copy(
        update={"drafts": [d.model_copy(update={"title": "sneaky"}) for d in inc.drafts]}
    )
    after = dispatch(changed, PAGE, config, now=LATER)
    assert pagerduty.requests == []
    assert "changed after Aiko approved it" in after.dispatches[-1].detail


def test_a_double_dispatch_sends_exactly_once(pagerduty: Receiver, config: DispatchConfig) -> None:
    once = dispatch(approve(incident(), PAGE, "Aiko", LATER), PAGE, config, now=LATER)
    twice = dispatch(once, PAGE, config, now=LATER)
    assert len(pagerduty.requests) == 1
    assert twice is once
    assert [d.status for d in twice.dispatches] == ["sent"]


def test_dispatch_leaves_the_input_incident_untouched(config: DispatchConfig) -> None:
    before = approve(incident(), STATUS, "Ben", LATER)
    snapshot = before.model_dump()
    dispatch(before, STATUS, config, now=LATER)
    assert before.model_dump() == snapshot


def test_an_unknown_draft_is_an_error(config: DispatchConfig) -> None:
    with pytest.raises(DispatchError, match=r"no draft 'd-nope'.*'d-page'"):
        dispatch(incident(), "d-nope", config)


class _Broken:
    def send(self, draft: Draft, approval: Approval) -> DispatchResult:
        raise RuntimeError("adapter bug")


def test_a_broken_adapter_is_recorded_as_failed(config: DispatchConfig) -> None:
    inc = approve(incident(), PAGE, "Aiko", LATER)
    after = dispatch(inc, PAGE, config, senders={"pagerduty": _Broken()}, now=LATER)
    result = after.dispatches[-1]
    assert (result.status, result.detail) == ("failed", "RuntimeError: adapter bug")
    assert state_of(after, PAGE) == "approved"


def test_without_now_the_clock_is_utc(config: DispatchConfig) -> None:
    after = dispatch(approve(incident(), STATUS, "Ben", LATER), STATUS, config)
    assert after.dispatches[-1].at.utcoffset() is not None
    assert after.updated_at >= LATER


def test_config_rejects_a_pasted_routing_key() -> None:
    with pytest.raises(ValidationError, match="not an environment variable name"):
        PagerDutyConfig(routing_key_env="e93facc04764012d7bfb002500d5d1a6")
    with pytest.raises(ValidationError, match="not an environment variable name"):
        PagerDutyConfig(team_routing_key_env={"payments": "e93facc04764012d7bfb002500d5d1a6"})


def test_config_only_sends_secrets_over_https() -> None:
    with pytest.raises(ValidationError, match="must be an https URL"):
        PagerDutyConfig(events_url="http://events.pagerduty.com/v2/enqueue")
    with pytest.raises(ValidationError, match="must be an https URL"):
        SlackConfig(webhook_url="http://hooks.slack.com/services/x")
    assert PagerDutyConfig(events_url="http://127.0.0.1:8080/v2/enqueue")


def test_slack_config_needs_exactly_one_source() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        SlackConfig()
    with pytest.raises(ValidationError, match="exactly one"):
        SlackConfig(webhook_url="https://hooks.slack.com/x", webhook_url_env="SLACK_WEBHOOK")


def test_config_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAGE_OUTBOX", str(tmp_path / "o.jsonl"))
    config = DispatchConfig()
    assert (config.pagerduty, config.slack) == (None, None)
    assert config.outbox_path == tmp_path / "o.jsonl"
    assert PagerDutyConfig().events_url == "https://events.pagerduty.com/v2/enqueue"
    assert PagerDutyConfig().key_env_for("anyone") == "PAGERDUTY_ROUTING_KEY"
    with pytest.raises(ValidationError):
        DispatchConfig.model_validate({"pagerduty": {"routing_key": "oops"}})
