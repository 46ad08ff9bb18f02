"""The incident memory's interface: what the triage asks of it and gets back.

The agent depends on this protocol only; knowledge.store fills it with
chromadb. An empty memory is a valid memory (a new install knows nothing yet).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field

MemoryKind = Literal["incident", "runbook"]


class RecallQuery(BaseModel):
    """What the current incident looks like, for finding ones that rhyme with it."""

    text: str = Field(description="Alert names, suspects and evidence sentences.")
    services: list[str] = Field(default_factory=list)
    fault_types: list[str] = Field(default_factory=list)
    alert_names: list[str] = Field(default_factory=list)
    log_templates: list[str] = Field(default_factory=list)
    before: datetime = Field(description="Only incidents resolved before this (replay honesty).")
    limit: int = Field(5, ge=1, le=50)


class Recollection(BaseModel):
    """A past incident or runbook that matches, and in one line why."""

    id: str
    kind: MemoryKind
    title: str
    services: list[str] = Field(default_factory=list)
    fault_type: str | None = None
    root_cause: str = ""
    resolution: str = ""
    resolved_at: datetime | None = None
    score: float = 0.0
    reason: str = ""
    links: list[str] = Field(default_factory=list)


class IncidentMemory(Protocol):
    def recall(self, query: RecallQuery) -> list[Recollection]: ...


class EmptyMemory:
    """Knows nothing; the triage works the same, without "this looks like INC-123"."""

    def recall(self, query: RecallQuery) -> list[Recollection]:
        return []
