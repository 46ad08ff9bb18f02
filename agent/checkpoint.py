"""Durable graph checkpoints: SQLite under the data directory, typed serializer.

The serializer is given the exact pydantic types the state may hold, so a
checkpoint written by one process is read back as the same types by another,
and nothing else is ever deserialised from disk.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel

from agent.alert.models import Alert, AlertMetric
from agent.approval.models import Approval, Decision
from agent.dispatch.models import DispatchResult
from agent.draft.models import Draft
from agent.incident.models import Incident, TimelineEntry
from agent.incident.standing import Standing
from agent.isolation.evidence import Evidence, EvidenceQuery
from agent.isolation.models import Hypothesis, Isolation
from agent.routing.models import EscalationStep, Responder, Routing
from agent.severity.models import SeverityAssessment
from agent.state import TriageState
from knowledge.memory import Recollection

STATE_TYPES: tuple[type[BaseModel], ...] = (
    TriageState,
    Standing,
    Decision,
    Incident,
    TimelineEntry,
    Alert,
    AlertMetric,
    Isolation,
    Hypothesis,
    Evidence,
    EvidenceQuery,
    SeverityAssessment,
    Routing,
    Responder,
    EscalationStep,
    Draft,
    Approval,
    DispatchResult,
    Recollection,
)


def serializer() -> JsonPlusSerializer:
    return JsonPlusSerializer(
        allowed_msgpack_modules=[(t.__module__, t.__name__) for t in STATE_TYPES]
    )


def open_checkpointer(path: Path) -> SqliteSaver:
    """A checkpointer on `path` (created if needed), safe to share between threads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    saver = SqliteSaver(connection, serde=serializer())
    saver.setup()
    return saver
