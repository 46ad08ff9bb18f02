"""`submit_assessment`: the only way the LLM can answer, as a strict tool schema.

A tool call gives us JSON we can validate field by field; free text would need
parsing and could smuggle anything. Extra fields, unknown fault types and
out-of-range confidences are refused; over-long prose is only clipped, since a
wordy rationale is no reason to throw a good ranking away.
"""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.bounds import ellipsize
from tools.telemetry.replay.format import FaultType
from tools.toolset import compact_schema

SUBMIT_TOOL = "submit_assessment"
RATIONALE_MAX_CHARS = 600
SUMMARY_MAX_CHARS = 1_000


class RankedSuspect(BaseModel):
    """One suspect in the LLM's ranking, with the evidence behind it."""

    model_config = ConfigDict(extra="forbid")

    service: str = Field(description="A service from the candidate suspects, spelled exactly.")
    fault_type: FaultType = Field(description="The kind of fault, from the fixed taxonomy.")
    confidence: float = Field(
        ge=0.0, le=1.0, description="Probability (0 to 1) that this suspect is the root cause."
    )
    evidence_ids: list[str] = Field(
        min_length=1,
        max_length=12,
        description="Ids of evidence about this service that support the claim: from the"
        " incident's evidence or the evidence_id of a tool result. Never invent ids.",
    )
    rationale: str = Field(description="One or two sentences citing the evidence.")

    @field_validator("rationale")
    @classmethod
    def _clip_rationale(cls, value: str) -> str:
        return ellipsize(value, RATIONALE_MAX_CHARS)


class Assessment(BaseModel):
    """Submit the final ranking of the candidate suspects, most likely root cause first.

    Call exactly once, when done investigating. Rank only candidate suspects; you may
    leave out candidates you consider ruled out, but never add a service.
    """

    model_config = ConfigDict(extra="forbid")

    ranking: list[RankedSuspect] = Field(min_length=1, max_length=50)
    summary: str = Field(description="What happened, in two or three sentences.")

    @field_validator("summary")
    @classmethod
    def _clip_summary(cls, value: str) -> str:
        return ellipsize(value, SUMMARY_MAX_CHARS)


def submit_spec() -> dict[str, Any]:
    """The tool spec of submit_assessment, with nested models inlined (no $ref)."""
    schema = Assessment.model_json_schema()
    return {
        "name": SUBMIT_TOOL,
        "description": inspect.getdoc(Assessment) or SUBMIT_TOOL,
        "parameters": compact_schema(inline_refs(schema)),
    }


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every local `$ref` replaced by its definition: not every provider
    resolves references in tool schemas."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return walk(defs[ref.removeprefix("#/$defs/")]) | walk(rest)
        return {k: walk(v) for k, v in node.items() if k != "$defs"}

    inlined: dict[str, Any] = walk(schema)
    return inlined
