"""The loop's edges without a provider: disabled, nothing to re-rank, a hung call, bugs."""

from __future__ import annotations

import threading
import time
from typing import Any

from botocore.exceptions import ClientError
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from agent.isolation.models import Isolation
from agent.llm.config import LLMConfig
from agent.llm.investigate import error_reason, llm_isolation
from agent.llm.scripted import ScriptedChatModel
from tests.llm.conftest import Incident

ON = LLMConfig(enabled=True, model="scripted")


class Hanging(ScriptedChatModel):
    """A model call that never comes back in time."""

    release: Any = None

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.release.wait(5)
        return super()._generate(messages, stop, run_manager, **kw)


class Broken(ScriptedChatModel):
    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        raise RuntimeError("socket closed\nwith password=hunter2 in the trace")


def test_disabled_by_default_and_untouched(incident: Incident) -> None:
    outcome = llm_isolation(incident.backend, incident.alerts, incident.deterministic, LLMConfig())
    assert (outcome.used_llm, outcome.fallback_reason) == (False, "disabled")
    assert outcome.isolation is incident.deterministic


def test_nothing_to_rerank_skips_the_model(incident: Incident) -> None:
    empty = Isolation(hypotheses=[], evidence=[])
    outcome = llm_isolation(incident.backend, incident.alerts, empty, ON, Broken())
    assert outcome.fallback_reason == "skipped: no suspect has evidence to re-rank"
    assert outcome.steps == 0


def test_a_hung_call_is_abandoned_at_the_time_budget(incident: Incident) -> None:
    release = threading.Event()
    model = Hanging(release=release)
    started = time.monotonic()
    config = ON.model_copy(update={"max_seconds": 0.3})
    outcome = llm_isolation(
        incident.backend, incident.alerts, incident.deterministic, config, model
    )
    release.set()
    assert time.monotonic() - started < 3
    assert outcome.fallback_reason == "budget: 0.3s time limit exceeded (model call pending)"
    assert outcome.isolation.hypotheses == incident.deterministic.hypotheses


def test_an_exception_is_a_masked_one_line_reason(incident: Incident) -> None:
    outcome = llm_isolation(incident.backend, incident.alerts, incident.deterministic, ON, Broken())
    assert outcome.fallback_reason == (
        "error: RuntimeError: socket closed with password=<REDACTED> in the trace"
    )


def test_a_model_that_cannot_be_built_falls_back(incident: Incident) -> None:
    config = LLMConfig(enabled=True, model="nosuchprovider:some-model")
    outcome = llm_isolation(incident.backend, incident.alerts, incident.deterministic, config)
    assert not outcome.used_llm
    reason = outcome.fallback_reason or ""
    assert reason.startswith("error: ") and "nosuchprovider" in reason


def test_error_reason_names_aws_error_codes() -> None:
    body = {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}
    denied = ClientError(body, "Converse")  # type: ignore[arg-type]
    assert error_reason(denied) == "error: AccessDeniedException: not allowed"
    assert len(error_reason(ValueError("x" * 1000))) < 320
