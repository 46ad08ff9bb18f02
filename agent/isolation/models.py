"""Hypotheses: ranked suspects for the fault, each backed by evidence ids."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from agent.isolation.evidence import Evidence
from tools.telemetry.replay.format import FaultType


class Hypothesis(BaseModel):
    """ "`service` (maybe `instance`) has a `fault_type` fault", with the evidence for it.

    `confidence` is the calibrated probability that this suspect is the root
    cause; `score` is the engine's own scale, kept for ranking and debugging.
    """

    service: str
    instance: str | None = None
    fault_type: FaultType = "unknown"
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    score: float = 0.0
    evidence_ids: list[str] = Field(default_factory=list)
    change_id: str | None = None
    rationale: str = ""


Verdict = Literal["conclusive", "inconclusive", "no-signal"]


class WindowRanking(BaseModel):
    """How the services scored in one plausible fault window; the engine averages the
    windows' probabilities by `weight`, then calibrates (agent.isolation.averaging), and
    a later bonus (incident memory) is applied per window the same way."""

    onset: datetime | None
    weight: float = Field(ge=0.0, le=1.0)
    scores: dict[str, float] = Field(description="The ranking's raw score of every service.")
    backed: list[str] = Field(description="Services with evidence against them here.")


class Isolation(BaseModel):
    """What the isolation engine concluded for one incident."""

    hypotheses: list[Hypothesis] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    verdict: Verdict = "no-signal"
    verdict_reason: str = ""
    onset: datetime | None = Field(
        None, description="When the fault began: from the data, or a lead before the alert."
    )
    onset_from_data: bool = Field(
        False, description="True when the signals showed the onset, not the alert's time."
    )
    fault_end: datetime | None = Field(
        None, description="When the signals went quiet again; None while it lasts."
    )
    service_onsets: dict[str, datetime] = Field(
        default_factory=dict, description="When each service that moved with the fault began to."
    )
    baseline_start: datetime | None = None
    windows: list[WindowRanking] = Field(
        default_factory=list,
        description="Every fault window ranked, with its weight in the average.",
    )
    now: datetime | None = None
    notes: list[str] = Field(default_factory=list)
    engine: str = "deterministic"
    llm_fallback: str | None = Field(
        None,
        description="Why an LLM's review of this result failed and was not used (agent.llm);"
        " None when no LLM was asked, or its re-ranking is the one here.",
    )
    harmed: list[str] | None = Field(
        None,
        description="Services whose request errors or latency clearly worsened"
        " (tools.analysis.harm); None when the telemetry had no metrics to tell.",
    )

    def top(self) -> Hypothesis | None:
        return self.hypotheses[0] if self.hypotheses else None

    def evidence_by_id(self) -> dict[str, Evidence]:
        return {e.id: e for e in self.evidence}
