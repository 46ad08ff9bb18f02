"""The graph checkpoints' serializer. Where checkpoints live (SQLite under the data
directory, or PostgreSQL) is the engines' choice (agent/engines).

The serializer is given the exact pydantic types the state may hold, so a
checkpoint written by one process is read back as the same types by another,
and nothing else is ever deserialised from disk.
"""

from __future__ import annotations

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
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
