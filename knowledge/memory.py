"""The incident memory's interface: what the triage asks of it and gets back.

The agent depends on these protocols only; knowledge.retrieve fills them from
the chromadb store (knowledge.store). An empty memory is a valid memory (a new
install knows nothing yet). The memory learns its own record (PastIncident);
the agent turns its incidents into records (agent.incident.memory).
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from knowledge.config import MemoryConfig

if TYPE_CHECKING:  # the records and the store are imported when used
    from knowledge.records import PastIncident
    from knowledge.retrieve import ChromaMemory

MemoryKind = Literal["incident", "runbook"]


class RecallQuery(BaseModel):
    """What the current incident looks like, for finding ones that rhyme with it."""

    text: str = Field(description="Alert names, suspects and evidence sentences.")
    services: list[str] = Field(
        default_factory=list, description="Suspects, most likely first (the order weighs)."
    )
    fault_types: list[str] = Field(
        default_factory=list, description="The fault type of each suspect, in the same order."
    )
    alert_names: list[str] = Field(default_factory=list)
    log_templates: list[str] = Field(default_factory=list)
    before: datetime = Field(description="Only incidents resolved before this (replay honesty).")
    limit: int = Field(5, ge=1, le=50, description="At most this many past incidents.")
    runbooks: int = Field(2, ge=0, le=10, description="And at most this many runbooks.")


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
    summary: str = ""
    action_items: list[str] = Field(
        default_factory=list, description="A past incident's postmortem action items."
    )
    signals: dict[str, float] = Field(
        default_factory=dict, description="The score's parts (text, service, fault, logs, alerts)."
    )


class IncidentMemory(Protocol):
    def recall(self, query: RecallQuery) -> list[Recollection]: ...


@runtime_checkable
class LearnsResolved(Protocol):
    """A memory that can be taught: stores a resolved incident so later triage recalls it
    (replacing a record with its id). ChromaMemory and the configured memory are one;
    EmptyMemory is not."""

    def remember_resolved(self, record: PastIncident) -> object: ...


class EmptyMemory:
    """Knows nothing; the triage works the same, without "this looks like INC-123"."""

    def recall(self, query: RecallQuery) -> list[Recollection]:
        return []


class LazyMemory:
    """The configured memory, opened on first use: a command that never triages never
    imports chromadb or loads a model. Delegates to knowledge.retrieve.ChromaMemory."""

    def __init__(self, config: MemoryConfig, home: Path) -> None:
        self.config = config
        self.home = home

    @cached_property
    def opened(self) -> ChromaMemory:
        from knowledge.retrieve import ChromaMemory
        from knowledge.store import MemoryStore

        return ChromaMemory(MemoryStore(self.config, self.home))

    def recall(self, query: RecallQuery) -> list[Recollection]:
        return self.opened.recall(query)

    def remember_resolved(self, record: PastIncident) -> PastIncident:
        """Store a resolved incident (see LearnsResolved)."""
        return self.opened.remember_resolved(record)


def configured_memory(config: MemoryConfig, home: Path) -> IncidentMemory:
    """What `memory:` in triage.yaml asks for: the store under `home`, or nothing."""
    return LazyMemory(config, home) if config.enabled else EmptyMemory()
