"""The LLM investigation loop: tools in rounds, one submitted ranking, or a fallback.

    deterministic Isolation -> evidence-backed candidates -> prompt (redacted, fenced)
      -> up to max_steps model turns, each maybe running read-only tools
      -> submit_assessment -> validate -> merged Isolation (engine "llm:<model>")

Any failure on the way (exception, timeout, budget, invalid answer) returns the
deterministic result with a note saying why: the LLM can only ever re-rank what
the engine found, never make the answer worse than no LLM at all.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel, Field

from agent.alert.models import Alert
from agent.isolation.evidence import Evidence
from agent.isolation.models import Hypothesis, Isolation
from agent.llm import prompts
from agent.llm.assessment import SUBMIT_TOOL, Assessment
from agent.llm.binding import Toolbox
from agent.llm.budget import Budget, BudgetExceeded, Clock, LLMFailure, prompt_chars
from agent.llm.config import LLMConfig, chat_model
from agent.llm.validate import candidates, check, merge, parse
from tools.redact import redact
from tools.telemetry.backend import TelemetryBackend
from tools.toolset import ToolCall, ToolRegistry, ToolSession

DISABLED = "disabled"
REASON_MAX_CHARS = 300


class LLMOutcome(BaseModel):
    """What the LLM path produced: the Isolation to use, and whether the LLM's own."""

    isolation: Isolation
    used_llm: bool
    fallback_reason: str | None = None
    model: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    elapsed_s: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def llm_isolation(
    backend: TelemetryBackend,
    alerts: Sequence[Alert],
    deterministic: Isolation,
    config: LLMConfig,
    model: BaseChatModel | None = None,
    *,
    registry: ToolRegistry | None = None,
    clock: Clock = time.monotonic,
) -> LLMOutcome:
    """Let the LLM re-rank `deterministic`'s evidence-backed suspects, or say why not.

    Runs when `config.enabled` or a `model` is injected; builds the model from
    `config` otherwise. Never raises: every failure is a fallback with a reason.
    """
    if model is None and not config.enabled:
        return LLMOutcome(
            isolation=deterministic, used_llm=False, fallback_reason=DISABLED, model=config.model
        )
    allowed = candidates(deterministic, config.max_candidates)
    if not allowed:
        reason = "skipped: no suspect has evidence to re-rank"
        return _fallback(deterministic, config, reason, note=f"LLM not asked: {reason}")
    budget = Budget(config.max_steps, config.max_tokens, config.max_seconds, clock=clock)
    toolbox: Toolbox | None = None
    try:
        session = ToolSession(backend, registry)
        toolbox = Toolbox.of(session, config)
        chat = model if model is not None else chat_model(config)
        messages: list[BaseMessage] = [
            SystemMessage(prompts.system_prompt(config)),
            HumanMessage(prompts.user_message(alerts, allowed, _cited(deterministic, allowed))),
        ]
        assessment = converse(chat, messages, toolbox, budget)
        check(
            assessment,
            {h.service: h for h in allowed},
            deterministic.evidence_by_id() | toolbox.evidence,
        )
    except LLMFailure as failure:
        return _fallback(deterministic, config, failure.reason, budget, toolbox)
    except Exception as error:
        return _fallback(deterministic, config, error_reason(error), budget, toolbox)
    note = (
        f"re-ranked by LLM ({config.model}: {budget.steps} turns,"
        f" {len(toolbox.calls)} tool calls, {budget.tokens} tokens)"
    )
    merged = merge(
        deterministic, assessment, list(toolbox.evidence.values()), config.engine_name, note
    )
    return _outcome(merged, config, None, budget, toolbox)


def converse(
    chat: BaseChatModel, messages: list[BaseMessage], toolbox: Toolbox, budget: Budget
) -> Assessment:
    """Turns of model and tools until submit_assessment; raises LLMFailure otherwise."""
    bound = chat.bind_tools(toolbox.specs())
    while True:
        budget.start_step()
        if budget.last_step and budget.steps > 1:
            messages.append(HumanMessage(prompts.LAST_TURN_REMINDER))
        response = invoke(bound, messages, budget)
        budget.charge(response, prompt_chars(messages))
        messages.append(response)
        submitted = next((c for c in response.tool_calls if c["name"] == SUBMIT_TOOL), None)
        if submitted is not None:
            return parse(submitted["args"])
        if not response.tool_calls and not response.invalid_tool_calls:
            messages.append(HumanMessage(prompts.NO_SUBMIT_REMINDER))
            continue
        for call in response.tool_calls:
            messages.append(toolbox.run(call))
            budget.check_time()
        for bad in response.invalid_tool_calls:
            reason = f"arguments are not valid JSON: {bad.get('error') or 'unparsable'}"
            messages.append(toolbox.error(bad.get("id") or "", bad.get("name") or "", reason))


def invoke(
    bound: Runnable[Any, BaseMessage], messages: list[BaseMessage], budget: Budget
) -> AIMessage:
    """One model turn: not sent when its prompt would pass the token limit, abandoned when
    the time budget runs out (a hung call cannot hold the triage: the worker thread is a
    daemon and the SDK has its own timeout)."""
    budget.check_prompt(prompt_chars(messages))
    timeout = budget.remaining_seconds()
    if timeout <= 0:
        budget.check_time()
    box: dict[str, Any] = {}
    context = contextvars.copy_context()
    snapshot = list(messages)

    def call() -> None:
        try:
            box["result"] = context.run(bound.invoke, snapshot)
        except BaseException as error:
            box["error"] = error

    worker = threading.Thread(target=call, name="llm-turn", daemon=True)
    worker.start()
    worker.join(max(timeout, 0.001))
    if worker.is_alive():
        raise BudgetExceeded(f"{budget.max_seconds:g}s time limit exceeded (model call pending)")
    if "error" in box:
        raise box["error"]
    result = box.get("result")
    if not isinstance(result, AIMessage):
        raise LLMFailure(f"error: the model returned {type(result).__name__}, not a message")
    return result


def error_reason(error: BaseException) -> str:
    """`error` as a one-line fallback reason: an LLMFailure's own (it names its kind), AWS
    errors by their code, anything else by its type."""
    if isinstance(error, LLMFailure):
        return error.reason
    response = getattr(error, "response", None)
    details = response.get("Error") if isinstance(response, dict) else None
    if isinstance(details, dict) and details.get("Code"):
        text = f"{details['Code']}: {details.get('Message', '')}".rstrip(": ")
    else:
        text = f"{type(error).__name__}: {error}"
    return "error: " + redact(prompts.cut(text.replace("\n", " "), REASON_MAX_CHARS))


def llm_engine(
    config: LLMConfig, model: BaseChatModel | None = None
) -> Callable[[TelemetryBackend, list[Alert]], Isolation]:
    """An `(backend, alerts) -> Isolation` engine (the eval harness's shape): the
    deterministic engine, then the LLM over it, with the chat model built once."""
    from agent.isolation.engine import isolate

    built: list[BaseChatModel] = [model] if model is not None else []

    def engine(backend: TelemetryBackend, alerts: list[Alert]) -> Isolation:
        deterministic = isolate(backend, alerts)
        if not built and config.enabled:
            # On failure llm_isolation builds it again and reports why, case by case.
            with suppress(Exception):
                built.append(chat_model(config))
        chosen = built[0] if built else None
        return llm_isolation(backend, alerts, deterministic, config, chosen).isolation

    return engine


def _cited(isolation: Isolation, allowed: Sequence[Hypothesis]) -> list[Evidence]:
    """The evidence the candidates cite, each once, in the order they cite it."""
    by_id = isolation.evidence_by_id()
    ids = dict.fromkeys(i for h in allowed for i in h.evidence_ids)
    return [by_id[i] for i in ids if i in by_id]


def _fallback(
    deterministic: Isolation,
    config: LLMConfig,
    reason: str,
    budget: Budget | None = None,
    toolbox: Toolbox | None = None,
    *,
    note: str | None = None,
) -> LLMOutcome:
    failed = note is None  # a skip is not a failure: the model was never asked
    note = note or f"LLM failed: {reason}; deterministic result kept"
    kept = deterministic.model_copy(
        update={"notes": [*deterministic.notes, note], "llm_fallback": reason if failed else None}
    )
    return _outcome(kept, config, reason, budget, toolbox)


def _outcome(
    isolation: Isolation,
    config: LLMConfig,
    reason: str | None,
    budget: Budget | None,
    toolbox: Toolbox | None,
) -> LLMOutcome:
    return LLMOutcome(
        isolation=isolation,
        used_llm=reason is None,
        fallback_reason=reason,
        model=config.model,
        tool_calls=list(toolbox.calls) if toolbox else [],
        steps=budget.steps if budget else 0,
        input_tokens=budget.input_tokens if budget else 0,
        output_tokens=budget.output_tokens if budget else 0,
        elapsed_s=round(budget.elapsed(), 3) if budget else 0.0,
    )
