"""Local stand-ins for PagerDuty and Slack, and configs pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.dispatch.config import DispatchConfig, PagerDutyConfig, SlackConfig
from tests.support.receiver import Receiver, Reply

PD_KEY = "R0UT1NGKEY0PAYMENTS0000000000001"
PD_DEFAULT_KEY = "R0UT1NGKEY0DEFAULT00000000000002"
PD_ACCEPTED = Reply.json(202, {"status": "success", "message": "Event processed", "dedup_key": "x"})


@pytest.fixture
def pagerduty() -> Iterator[Receiver]:
    with Receiver(default=PD_ACCEPTED) as receiver:
        yield receiver


@pytest.fixture
def slack() -> Iterator[Receiver]:
    with Receiver(default=Reply(200, "ok")) as receiver:
        yield receiver


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "state" / "outbox.jsonl"


@pytest.fixture
def config(
    pagerduty: Receiver, slack: Receiver, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> DispatchConfig:
    """Both adapters configured against the local receivers; retries without waiting."""
    monkeypatch.setenv("PD_KEY_PAYMENTS", PD_KEY)
    monkeypatch.setenv("PD_KEY_DEFAULT", PD_DEFAULT_KEY)
    monkeypatch.setenv("SLACK_WEBHOOK", slack.url("/services/T000/B000/secret-token"))
    return DispatchConfig(
        pagerduty=PagerDutyConfig(
            events_url=pagerduty.url("/v2/enqueue"),
            routing_key_env="PD_KEY_DEFAULT",
            team_routing_key_env={"payments": "PD_KEY_PAYMENTS"},
        ),
        slack=SlackConfig(webhook_url_env="SLACK_WEBHOOK"),
        outbox_path=outbox,
        timeout_s=2.0,
        max_attempts=3,
        backoff_s=0.0,
    )
