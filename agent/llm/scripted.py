"""A deterministic fake chat model, so CI can run the whole LLM path offline.

`ScriptedChatModel` plays a well-behaved investigator: it reads the candidates
from the incident message (proving the prompt carries them), calls one real
tool about the top suspect, then submits the deterministic ranking citing the
given evidence plus the evidence id its tool call returned. Same messages in,
same answer out, with token usage reported so the budgets are exercised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool

from agent.llm import prompts
from agent.llm.assessment import SUBMIT_TOOL

PREFERRED_TOOL = "summarize_metric"
_EVIDENCE_ID = re.compile(r'"evidence_id":\s*"(ev-[\w-]+)"')


class ScriptedChatModel(BaseChatModel):
    """Turn 1: one tool call on the top candidate. Turn 2: submit the given ranking."""

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        names = [convert_to_openai_tool(t)["function"]["name"] for t in tools]
        return self.bind(tool_names=names, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools: list[str] = list(kwargs.get("tool_names") or [])
        message = _turn(messages, tools)
        prompt_chars = sum(len(str(m.content)) for m in messages)
        output_chars = len(json.dumps(message.tool_calls))
        message.usage_metadata = {
            "input_tokens": prompt_chars // 4,
            "output_tokens": output_chars // 4,
            "total_tokens": prompt_chars // 4 + output_chars // 4,
        }
        return ChatResult(generations=[ChatGeneration(message=message)])


def _turn(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
    incident = next((str(m.content) for m in messages if isinstance(m, HumanMessage)), "")
    ranked: list[dict[str, Any]] = prompts.read_fence(incident, "candidates") or []
    results = [m for m in messages if isinstance(m, ToolMessage)]
    data_tools = [t for t in tools if t != SUBMIT_TOOL]
    if not results and ranked and data_tools:
        tool = PREFERRED_TOOL if PREFERRED_TOOL in data_tools else data_tools[0]
        args = {"service": ranked[0]["service"]} if tool == PREFERRED_TOOL else {}
        return _call(tool, args, "scripted-1")
    found = [m.group(1) for r in results if (m := _EVIDENCE_ID.search(str(r.content)))]
    ranking = [
        {
            "service": c["service"],
            "fault_type": c["fault_type"],
            "confidence": c["confidence"],
            "evidence_ids": [*c["evidence_ids"], *(found if i == 0 else [])],
            "rationale": f"Deterministic rank {c['rank']}, checked with {len(results)} tool calls.",
        }
        for i, c in enumerate(ranked)
    ]
    summary = "Scripted assessment: the deterministic ranking, unchanged."
    return _call(SUBMIT_TOOL, {"ranking": ranking, "summary": summary}, "scripted-2")


def _call(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])
