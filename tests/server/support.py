"""Helpers for server, chat and war-room tests: config, a live uvicorn, waiting."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

from agent.config import TriageConfig
from knowledge.records import PastIncident
from tests.support.synthetic import SyntheticDataset

T = TypeVar("T")
AM_TOKEN = "am-test-token"
DD_TOKEN = "dd-test-token"
GENERIC_SECRET = "generic-test-secret"
SLACK_SECRET = "slack-test-secret"
PD_KEY_ENV = "TRIAGE_TEST_PD_KEY"
ENV = {
    "TRIAGE_ALERTMANAGER_TOKEN": AM_TOKEN,
    "TRIAGE_DATADOG_TOKEN": DD_TOKEN,
    "TRIAGE_GENERIC_SECRET": GENERIC_SECRET,
    "SLACK_SIGNING_SECRET": SLACK_SECRET,
    PD_KEY_ENV: "test-routing-key",
}
BEARER = {"Authorization": f"Bearer {AM_TOKEN}"}


def server_config(
    dataset: Path | None, pagerduty_url: str | None = None, **server: Any
) -> TriageConfig:
    """Replay clock on the synthetic dataset, PagerDuty at a local receiver, no escalation job."""
    settings: dict[str, Any] = {
        "language": "en",
        "server": {"clock": "replay", "escalation_every_s": 0, **server},
        "dispatch": {"max_attempts": 1},
    }
    if dataset is not None:
        settings["telemetry"] = {"backend": "replay", "path": str(dataset)}
    if pagerduty_url is not None:
        settings["dispatch"]["pagerduty"] = {
            "events_url": pagerduty_url,
            "routing_key_env": PD_KEY_ENV,
        }
    return TriageConfig.model_validate(settings)


def case_body(synthetic: SyntheticDataset) -> bytes:
    """The synthetic case's Alertmanager webhook, as Alertmanager would POST it."""
    case = next(c for c in synthetic.open().cases() if c.id == synthetic.case_id)
    return json.dumps(case.alert.payload).encode()


def wait_until(check: Callable[[], T | None], timeout_s: float = 60.0, every_s: float = 0.05) -> T:
    """The first truthy value `check` returns; AssertionError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"not true within {timeout_s} s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """A real uvicorn serving `app` on 127.0.0.1 in a thread (lifespan included)."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", backlog=4096
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self._thread.start()
        wait_until(lambda: self._server.started, timeout_s=30)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


class LearningMemory:
    """A memory that only learns: what the desk teaches it, in order."""

    def __init__(self) -> None:
        self.learned: list[PastIncident] = []

    def recall(self, query: object) -> list[object]:
        return []

    def remember_resolved(self, record: PastIncident) -> None:
        self.learned.append(record)
