"""The engine's read-only tools, offered to the LLM and run on its behalf.

The LLM gets exactly the tools the deterministic engine reads through (a
ToolSession over the same backend), plus `submit_assessment`. Each successful
call becomes an Evidence item whose id the model can cite; each failed call goes
back to the model as an error it can correct. Nothing here can write anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.messages.tool import ToolCall as LCToolCall

from agent.isolation.evidence import Evidence, EvidenceKind, EvidenceQuery
from agent.llm import prompts
from agent.llm.assessment import submit_spec
from agent.llm.config import LLMConfig
from tools.bounds import ellipsize
from tools.redact import redact, redact_data
from tools.toolset import ToolCall, ToolError, ToolSession

EXCERPT_CHARS = 200
_KIND_BY_TELEMETRY: dict[str, EvidenceKind] = {
    "metrics": "metric",
    "logs": "log",
    "traces": "trace",
    "changes": "change",
    "topology": "topology",
}


@dataclass
class Toolbox:
    """One investigation's tools: what the model may call, and what its calls found."""

    session: ToolSession
    services: Collection[str]
    max_output_chars: int
    max_calls: int
    evidence: dict[str, Evidence] = field(default_factory=dict)

    @classmethod
    def of(cls, session: ToolSession, config: LLMConfig) -> Toolbox:
        """The tools over `session`, bounded as `config` says (output size, call count)."""
        services = set(session.backend.services())
        return cls(session, services, config.max_tool_output_chars, config.max_tool_calls)

    def specs(self) -> list[dict[str, Any]]:
        """Function specs for `bind_tools`: the enabled data tools, then submit_assessment."""
        return [*self.session.specs(), submit_spec()]

    @property
    def calls(self) -> list[ToolCall]:
        return self.session.calls

    def run(self, call: LCToolCall) -> ToolMessage:
        """Run one tool call from the model; the answer (or the error) as a tool message.
        Past the call budget the call is refused unrun, so the model can still submit."""
        call_id = call.get("id") or ""
        if len(self.calls) >= self.max_calls:  # a model that asks forever must not read forever
            spent = f"tool call budget spent ({self.max_calls} calls): answer with what you have"
            return self.error(call_id, call["name"], spent)
        try:
            output = self.session.run(call["name"], call.get("args") or {})
        except ToolError as error:
            return self.error(call_id, call["name"], str(error))
        except Exception as error:  # a tool bug must not end the investigation
            return self.error(call_id, call["name"], f"tool failed: {type(error).__name__}")
        record = self.session.last_call
        data = output.model_dump(mode="json")
        item = self._evidence(record, data) if record is not None else None
        content = prompts.tool_result(item.id if item else "", data, self.max_output_chars)
        return ToolMessage(content=content, tool_call_id=call_id, name=call["name"])

    def error(self, call_id: str, name: str, message: str) -> ToolMessage:
        """A failed or refused call as an error tool message the model can act on."""
        content = prompts.tool_error(redact(message), self.max_output_chars)
        return ToolMessage(content=content, tool_call_id=call_id, name=name, status="error")

    def _evidence(self, call: ToolCall, data: Any) -> Evidence:
        """The call as evidence: the query is replayable, the id stable for the same call."""
        query = EvidenceQuery(tool=call.tool, args=call.args)
        kind = self._kind(call.tool)
        named = call.args.get("service")
        service = named if isinstance(named, str) and named in self.services else ""
        excerpt = ellipsize(json.dumps(redact_data(data), separators=(",", ":")), EXCERPT_CHARS)
        item = Evidence(
            id=Evidence.make_id(kind, query, f"llm@{call.now.isoformat()}"),
            kind=kind,
            service=service,
            summary=f"{call.tool} on {service or 'the estate'}, asked by the LLM: {excerpt}",
            query=query,
            signal=f"llm:{call.tool}",
        )
        self.evidence.setdefault(item.id, item)
        return item

    def _kind(self, tool: str) -> EvidenceKind:
        for toolset in self.session.toolsets:
            if any(t.name == tool for t in toolset.tools):
                kinds = [toolset.name, *sorted(toolset.requires), *sorted(toolset.requires_any)]
                return next(
                    (_KIND_BY_TELEMETRY[k] for k in kinds if k in _KIND_BY_TELEMETRY), "metric"
                )
        return "metric"
