"""What kind of fault a suspect has, read from the evidence that indicts it.

Rules, not a model: a responder must be able to see why the engine says
"CPU" rather than "network delay". A security finding decides outright, then
a change. Otherwise every piece of strong evidence votes for the fault types
it is a symptom of, weighted by how specific it is (a CPU metric says "cpu"
outright; a service's own processing slowing says it less surely), and the
best-supported type wins. Where the time went separates the two kinds of
slowness: a slow wire (callers waiting, the service itself unchanged) is the
network; a service whose own processing slowed is not. When only generic
symptoms are present the answer is "unknown", because a latency jump alone
cannot tell a bad deploy from a slow disk.
"""

from __future__ import annotations

import re
from collections import defaultdict

from agent.isolation.evidence import Evidence
from tools.telemetry.replay.format import FaultType

CHANGE: dict[str, FaultType] = {
    "change_deploy": "bad-deploy",
    "change_config": "config",
    "change_feature_flag": "config",
    "change_secret_rotation": "config",
}
# Metric family -> (fault type, how surely a move of it means that type).
RESOURCE: dict[str, tuple[FaultType, float]] = {
    "cpu": ("cpu", 1.0),
    "node_cpu": ("cpu", 0.6),
    "memory": ("memory", 0.8),
    "node_memory": ("memory", 0.5),
    "restarts": ("memory", 1.0),
    "gc": ("memory", 0.5),
    "disk": ("disk", 1.0),
    "saturation": ("resource-exhaustion", 1.0),
    "backlog": ("resource-exhaustion", 1.0),
    "packet_loss": ("network-loss", 1.0),
    "cache": ("resource-exhaustion", 1.0),
    "locks": ("database", 0.8),
    "surge": ("traffic-surge", 1.0),
}
# What an error line says, when it names its cause, in the order checked.
LOG_CAUSES: tuple[tuple[re.Pattern[str], FaultType], ...] = (
    (re.compile(r"(?i)(certificate|x509|ssl ?handshake|tls handshake|pkix|tls: )"), "config"),
    (re.compile(r"(?i)(out ?of ?memory|oom ?kill|heap limit|cannot allocate memory)"), "memory"),
    (re.compile(r"(?i)(no space left|disk full|volume full)"), "disk"),
    (
        re.compile(
            r"(?i)(connection is not available|pool (is )?exhausted|acquire connection"
            r"|too many connections|connection pool|pool size|max_?pending|overflow)"
        ),
        "resource-exhaustion",
    ),
    (re.compile(r"(?i)(deadlock|lock timeout|lock wait|canceling statement)"), "database"),
)
EXCEPTION_WORDS = ("exception", "traceback", "panic", "stack")
FAILURES = {"errors", "availability", "trace_errors"}
STRONG = 0.3
MIN_SCORE = 0.35
OWN_SLOWDOWN = 0.5
WIRE = 0.8
VANISHED = 0.8
FAILED_REQUESTS = 0.6
SECOND_VOTE = 0.5
TRAFFIC_RISE = 0.5
DATASTORE = 0.8
DATABASE_WORK = {"cpu", "locks", "saturation", "trace_self_time"}
# Metric families of a capacity running out, and the generic failure votes they explain.
EXHAUSTION = {"restarts", "disk", "saturation", "backlog", "cache", "locks"}
GENERIC_FAILURES: set[FaultType] = {"code-error-return", "code-exception"}
EXPLAINED_FAILURES = 0.5

Vote = tuple[FaultType, float]
TRACE_VOTES: dict[str, list[Vote]] = {
    # A service's own processing slowing is most often starvation for CPU.
    "trace_self_time": [("cpu", OWN_SLOWDOWN)],
    "trace_edge_gap": [("network-delay", WIRE)],
    "trace_errors": [("code-error-return", FAILED_REQUESTS)],
}


def classify(evidence: list[Evidence], kind: str = "service") -> FaultType:
    """The fault type best supported by one suspect's strong `evidence`."""
    strong = sorted((e for e in evidence if e.strength >= STRONG), key=lambda e: -e.strength)
    if any(e.signal.startswith("security") for e in strong):
        return "security"
    decided = next((CHANGE[e.signal] for e in strong if e.signal in CHANGE), None)
    if decided is not None:
        return decided
    scores = _scores(strong, kind)
    best = max(scores, key=lambda t: scores[t], default=None)
    return best if best is not None and scores[best] >= MIN_SCORE else "unknown"


def _scores(strong: list[Evidence], kind: str) -> dict[FaultType, float]:
    """Each type's best vote plus half its second best (from a different signal)."""
    votes: dict[FaultType, dict[str, float]] = defaultdict(dict)
    timeouts = _timed_out(strong)
    for item in strong:
        if timeouts and _callers_view(item) and item.signal in FAILURES:
            continue  # its callers timing out on it: a symptom of the slowness, not a bug
        for fault, weight in _votes(item, kind):
            signal = votes[fault]
            signal[item.signal] = max(signal.get(item.signal, 0.0), item.strength * weight)
    scores: dict[FaultType, float] = {}
    for fault, by_signal in votes.items():
        ranked = sorted(by_signal.values(), reverse=True)
        scores[fault] = ranked[0] + SECOND_VOTE * (ranked[1] if len(ranked) > 1 else 0.0)
    if "network-delay" in scores:
        scores["network-delay"] -= _own_slowdown(strong)
    if any(_exhausted(item) for item in strong):
        # Requests fail when a capacity runs out: the failures are its symptom.
        for fault in GENERIC_FAILURES & scores.keys():
            scores[fault] *= EXPLAINED_FAILURES
    return scores


def _callers_view(item: Evidence) -> bool:
    """Measured by a caller of the suspect (a per-edge series, a slow call edge)."""
    return bool(item.peer) and (item.kind == "metric" or item.signal == "trace_edge_gap")


def _timed_out(strong: list[Evidence]) -> bool:
    """The suspect's callers saw it slow while it reported no failures of its own: what
    failed on their side were timeouts."""
    slow_edge = any(_callers_view(e) and e.signal in {"latency", "trace_edge_gap"} for e in strong)
    own_failures = any(not _callers_view(e) and e.signal in FAILURES for e in strong)
    return slow_edge and not own_failures


def _exhausted(item: Evidence) -> bool:
    """A capacity ran out: an exhaustion metric, or an error line naming one."""
    if item.kind == "metric":
        return item.signal in EXHAUSTION
    return item.kind == "log" and any(
        fault in {"memory", "disk", "resource-exhaustion"} for fault, _ in _log_votes(item)
    )


def _votes(item: Evidence, kind: str) -> list[Vote]:
    """The fault types `item` is a symptom of, with how surely."""
    if kind == "external" and _symptom(item):
        return [("dependency-down", 1.0)]
    if kind == "database" and (_symptom(item) or item.signal in DATABASE_WORK):
        if _callers_view(item) and item.signal in {"latency", "trace_edge_gap"}:
            # Only its callers saw it slow: the wire to it (its own work says "database").
            return [("network-delay", WIRE)]
        # A database's own slowness, load and lock waits; a full disk or an OOM
        # kill of its host still say so themselves.
        return [("database", DATASTORE)]
    if item.kind == "metric":
        return _metric_votes(item)
    if item.kind == "log":
        return _log_votes(item)
    return TRACE_VOTES.get(item.signal, [])


def _metric_votes(item: Evidence) -> list[Vote]:
    if item.signal in RESOURCE:
        return [RESOURCE[item.signal]]
    if item.signal == "latency" and item.peer:
        # A per-edge latency, measured by the caller: the wire.
        return [("network-delay", WIRE)]
    if item.signal == "traffic" and _rose(item):
        # Traffic rising is often retries or a neighbour's misses; a surge that
        # enters at this service is the `surge` signal.
        return [("traffic-surge", TRAFFIC_RISE)]
    if item.signal in FAILURES:
        return [("code-error-return", FAILED_REQUESTS)]
    return []


def _log_votes(item: Evidence) -> list[Vote]:
    if item.signal in {"log_new_error", "log_spike_error"}:
        text = f"{item.summary} {item.query.args.get('template', '')}".lower()
        cause = next((fault for pattern, fault in LOG_CAUSES if pattern.search(text)), None)
        if cause is not None:
            return [(cause, 1.0)]
        if any(word in text for word in EXCEPTION_WORDS):
            return [("code-exception", 1.0)]
        return [("code-error-return", 1.0)]
    if item.signal in {"log_vanished_info", "log_vanished_error"}:
        # The usual line after the failing call never comes: the code path was cut short.
        return [("code-exception", VANISHED)]
    return []


def _own_slowdown(strong: list[Evidence]) -> float:
    """How strongly the suspect's own processing slowed (its own latency or self time)."""
    own = [
        e.strength
        for e in strong
        if e.signal == "trace_self_time"
        or (e.kind == "metric" and e.signal == "latency" and not e.peer)
    ]
    return max(own, default=0.0)


def _rose(item: Evidence) -> bool:
    return item.values.get("current", 0.0) > item.values.get("baseline", 0.0)


def _symptom(item: Evidence) -> bool:
    return item.signal in {"latency", "errors", "availability", "trace_errors"}
