"""What kind of fault a suspect has, read from the evidence that indicts it.

Rules, not a model: a responder must be able to see why the engine says
"CPU" rather than "network delay". The strongest specific signal wins; when
only generic symptoms (latency alone) are present the answer is "unknown",
because a latency jump alone cannot tell a bad deploy from a slow disk.
"""

from __future__ import annotations

from agent.evidence.models import Evidence
from tools.telemetry.replay.format import FaultType

RESOURCE: dict[str, FaultType] = {
    "cpu": "cpu",
    "node_cpu": "cpu",
    "memory": "memory",
    "node_memory": "memory",
    "restarts": "memory",
    "disk": "disk",
    "saturation": "resource-exhaustion",
    "backlog": "resource-exhaustion",
    "packet_loss": "network-loss",
}
CHANGE: dict[str, FaultType] = {
    "change_deploy": "bad-deploy",
    "change_config": "config",
    "change_feature_flag": "config",
    "change_secret_rotation": "config",
}
EXCEPTION_WORDS = ("exception", "traceback", "panic", "stack")
STRONG = 0.45


def classify(evidence: list[Evidence], kind: str = "service") -> FaultType:
    """The fault type best supported by one suspect's `evidence`: the first rule,
    most specific first, that the strong evidence satisfies."""
    strong = sorted((e for e in evidence if e.strength >= STRONG), key=lambda e: -e.strength)
    for rule in (_changed, _security, _resource, _surge, _code_fault, _dependency, _network):
        found = rule(strong, kind)
        if found is not None:
            return found
    return "unknown"


def _changed(strong: list[Evidence], kind: str) -> FaultType | None:
    return next((CHANGE[e.signal] for e in strong if e.signal in CHANGE), None)


def _security(strong: list[Evidence], kind: str) -> FaultType | None:
    return "security" if any(e.signal.startswith("security") for e in strong) else None


def _resource(strong: list[Evidence], kind: str) -> FaultType | None:
    return next(
        (RESOURCE[e.signal] for e in strong if e.kind == "metric" and e.signal in RESOURCE), None
    )


def _surge(strong: list[Evidence], kind: str) -> FaultType | None:
    rising = any(
        e.signal == "traffic" and e.values.get("current", 0) > e.values.get("baseline", 0)
        for e in strong
    )
    return "traffic-surge" if rising else None


def _dependency(strong: list[Evidence], kind: str) -> FaultType | None:
    if kind not in {"database", "external"} or not _symptomatic(strong):
        return None
    return "database" if kind == "database" else "dependency-down"


def _network(strong: list[Evidence], kind: str) -> FaultType | None:
    edges = any(
        e.signal == "trace_edge_gap" or (e.kind == "metric" and e.signal == "latency" and e.peer)
        for e in strong
    )
    return "network-delay" if edges else None


def _code_fault(strong: list[Evidence], kind: str) -> FaultType | None:
    errors = [e for e in strong if e.signal in {"log_new_error", "log_spike_error"}]
    if any(word in _text(e) for e in errors for word in EXCEPTION_WORDS):
        return "code-exception"
    if errors:
        return "code-error-return"
    if any(e.signal in {"log_vanished_info", "log_vanished_error"} for e in strong):
        return "code-exception"
    if any(e.signal in {"trace_errors", "errors", "availability"} for e in strong):
        return "code-error-return"
    return None


def _text(item: Evidence) -> str:
    return f"{item.summary} {item.query.args.get('template', '')}".lower()


def _symptomatic(strong: list[Evidence]) -> bool:
    return any(e.signal in {"latency", "errors", "availability", "trace_errors"} for e in strong)
