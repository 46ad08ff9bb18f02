"""Evidence: one observed fact, the query that produced it, one sentence saying it.

Every claim the engine, the LLM or a draft makes must point at evidence ids, so
an id is stable: the same query over the same data yields the same id in every
run and every process.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.analysis.split import Split
from tools.telemetry.models import from_epoch

EvidenceKind = Literal["metric", "trace", "log", "change", "topology", "memory", "alert"]


class EvidenceQuery(BaseModel):
    """The tool call that produced a piece of evidence, replayable as is."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)

    def text(self) -> str:
        return f"{self.tool}({json.dumps(self.args, sort_keys=True, default=str)})"


class Evidence(BaseModel):
    """A single observed fact about one service, with its strength.

    `strength` is a robust deviation score (0 = normal, larger = further from
    the baseline in the harmful direction) on a scale shared by every kind.
    """

    id: str
    kind: EvidenceKind
    service: str
    instance: str = ""
    summary: str = Field(description="One human sentence stating the observation.")
    summary_ja: str = Field(
        "", description="The same sentence in Japanese, where the engine words one (for drafts)."
    )
    query: EvidenceQuery
    strength: float = 0.0
    signal: str = Field("", description="What was measured, e.g. 'cpu' or 'trace_edge_gap'.")
    peer: str = Field("", description="The other service of a call edge, if any.")
    values: dict[str, float] = Field(default_factory=dict)

    def wording(self, language: str) -> str:
        """The sentence in `language` where the engine has one, else the English."""
        return self.summary_ja if language == "ja" and self.summary_ja else self.summary

    @staticmethod
    def make_id(kind: str, query: EvidenceQuery, subject: str) -> str:
        digest = hashlib.sha1(f"{kind}|{query.text()}|{subject}".encode()).hexdigest()
        return f"ev-{kind}-{digest[:10]}"


def make_evidence(kind: EvidenceKind, query: EvidenceQuery, **fields: Any) -> Evidence:
    """Evidence with the stable id of (kind, query, service, signal)."""
    subject = f"{fields['service']}|{fields['signal']}"
    return Evidence(id=Evidence.make_id(kind, query, subject), kind=kind, query=query, **fields)


def window_args(split: Split, since_s: float | None = None) -> dict[str, Any]:
    """The window arguments that reproduce an analysis of `split` with a query tool."""
    return {
        "baseline_start": _iso(from_epoch(split.start_s)),
        "onset": _iso(from_epoch(since_s if since_s is not None else split.onset_s)),
        "end": _iso(from_epoch(split.until_s)),
    }


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")
