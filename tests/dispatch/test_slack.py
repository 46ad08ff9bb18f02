"""Slack incoming webhook on the wire, against a real local HTTP server."""

from __future__ import annotations

import pytest

from agent.approval.service import approve
from agent.dispatch.config import DispatchConfig, SlackConfig
from agent.dispatch.service import dispatch
from agent.incident.models import Incident
from tests.approval.factories import LATER, SLACK, draft, incident, state_of
from tests.support.receiver import Receiver, Reply


def _approved(inc: Incident | None = None, **edit: str) -> Incident:
    return approve(inc or incident(), SLACK, "Ben", LATER, **edit)


def test_an_update_is_a_header_and_mrkdwn_sections(slack: Receiver, config: DispatchConfig) -> None:
    after = dispatch(_approved(), SLACK, config, now=LATER)

    (request,) = slack.requests
    assert request.method == "POST"
    assert request.path == "/services/T000/B000/secret-token"
    assert request.content_type.startswith("application/json")
    message = request.json()
    header, section, context = message["blocks"]
    assert header == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "payment: error rate 12% since deploy chg-0003",
            "emoji": True,
        },
    }
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"].startswith("payment errors rose from 0.1% to 12%")
    assert "approved by Ben" in context["elements"][0]["text"]
    assert message["text"].startswith("payment: error rate 12%")

    result = after.dispatches[-1]
    assert (result.status, result.response_code, result.detail) == ("sent", 200, "ok")
    assert state_of(after, SLACK) == "sent"


def test_the_webhook_secret_is_never_stored(slack: Receiver, config: DispatchConfig) -> None:
    after = dispatch(_approved(), SLACK, config, now=LATER)
    assert slack.requests
    assert "secret-token" not in after.model_dump_json()
    assert after.dispatches[-1].destination == "slack webhook 127.0.0.1"


def test_text_cannot_mention_or_link(slack: Receiver, config: DispatchConfig) -> None:
    inc = _approved(edited_body="<!channel> see <https://evil.example|dashboard> & rollback")
    dispatch(inc, SLACK, config, now=LATER)
    text = slack.requests[0].json()["blocks"][1]["text"]["text"]
    assert text == "&lt;!channel&gt; see &lt;https://evil.example|dashboard&gt; &amp; rollback"


def test_a_long_body_is_split_into_sections_within_slacks_limit(
    slack: Receiver, config: DispatchConfig
) -> None:
    body = "\n".join(f"line {i}: " + "x" * 90 for i in range(100))
    dispatch(_approved(edited_body=body), SLACK, config, now=LATER)
    sections = [b for b in slack.requests[0].json()["blocks"] if b["type"] == "section"]
    assert len(sections) > 1
    assert all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert "\n".join(s["text"]["text"] for s in sections) == body


def test_a_slack_error_is_recorded(slack: Receiver, config: DispatchConfig) -> None:
    slack.script(Reply(400, "invalid_payload"))
    after = dispatch(_approved(), SLACK, config, now=LATER)
    result = after.dispatches[-1]
    assert (result.status, result.response_code) == ("failed", 400)
    assert "invalid_payload" in result.detail
    assert len(slack.requests) == 1


def test_a_200_without_ok_is_not_sent(slack: Receiver, config: DispatchConfig) -> None:
    slack.script(Reply(200, "maybe"))
    after = dispatch(_approved(), SLACK, config, now=LATER)
    assert after.dispatches[-1].status == "failed"


def test_rate_limits_are_retried(slack: Receiver, config: DispatchConfig) -> None:
    slack.script(Reply(429, "rate_limited", headers={"Retry-After": "0"}))
    after = dispatch(_approved(), SLACK, config, now=LATER)
    assert len(slack.requests) == 2
    assert after.dispatches[-1].status == "sent"


def test_a_missing_webhook_env_var_fails_without_a_request(
    slack: Receiver, config: DispatchConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK")
    after = dispatch(_approved(), SLACK, config, now=LATER)
    assert slack.requests == []
    assert "$SLACK_WEBHOOK is not set" in after.dispatches[-1].detail


def test_a_plain_http_webhook_from_the_env_is_refused(
    slack: Receiver, config: DispatchConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK", "http://hooks.slack.example/services/x")
    after = dispatch(_approved(), SLACK, config, now=LATER)
    assert slack.requests == []
    assert "not an https URL" in after.dispatches[-1].detail


def test_a_webhook_url_in_config_works_too(slack: Receiver, config: DispatchConfig) -> None:
    direct = config.model_copy(update={"slack": SlackConfig(webhook_url=slack.url("/hook"))})
    dispatch(_approved(incident(draft(SLACK, channel="slack"))), SLACK, direct, now=LATER)
    assert slack.requests[0].path == "/hook"
