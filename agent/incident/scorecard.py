"""The engine's record on confirmed causes: was its top suspect right, and was its
confidence worth what it said?

At resolution the confirmed cause is stored beside the engine's ranking
(`engine_record`); `scorecard` reads those records back across incidents.
"""

from __future__ import annotations

from agent.incident.models import EngineRecord, RootCause
from agent.isolation.models import Isolation

RANKING = 5


def engine_record(isolation: Isolation | None, cause: RootCause) -> EngineRecord | None:
    """Where the engine had the confirmed service, or None when it ranked nothing."""
    if isolation is None or not isolation.hypotheses:
        return None
    services = list(dict.fromkeys(h.service for h in isolation.hypotheses))
    top = isolation.hypotheses[0]
    return EngineRecord(
        engine=isolation.engine,
        ranking=services[:RANKING],
        top_confidence=top.confidence,
        rank=services.index(cause.service) + 1 if cause.service in services else None,
        fault_type_match=top.service == cause.service and top.fault_type == cause.fault_type,
    )
