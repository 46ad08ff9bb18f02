"""Per-service features for ranking suspects, read off the evidence.

Every feature is a strength in [0, 1] (or a small signed difference), named
after what it measures, so the ranking weights can be read and argued with.
Most evidence indicts the service it names; two kinds are shared out by the
call graph: a slow call edge goes to whichever end sits on more slow edges,
and a change in a service's inbound traffic goes half to its callers, who
decide what it receives.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from agent.isolation.evidence import Evidence
from agent.isolation.signals.surge import traffic_ratios
from tools.telemetry.models import Topology

# Evidence signal -> feature group.
# `m_resource` is a resource working harder (it rises with load too);
# `m_exhaustion` is one running out: restarts (OOM kills), a full disk, a pool,
# queue or cache at capacity, lock waits.
METRIC_GROUPS = {
    "cpu": "m_resource",
    "memory": "m_resource",
    "gc": "m_resource",
    "node_cpu": "m_resource",
    "node_memory": "m_resource",
    "packet_loss": "m_resource",
    "disk": "m_exhaustion",
    "restarts": "m_exhaustion",
    "saturation": "m_exhaustion",
    "backlog": "m_exhaustion",
    "cache": "m_exhaustion",
    "locks": "m_exhaustion",
    "latency": "m_latency",
    "errors": "m_errors",
    "availability": "m_errors",
    "traffic": "m_traffic",
    "surge": "m_surge",
}
LOG_GROUPS = {
    "log_new_error": "l_error",
    "log_spike_error": "l_error",
    "log_new_info": "l_info",
    "log_spike_info": "l_info",
    "log_vanished_error": "l_vanished",
    "log_vanished_info": "l_vanished",
}
TRACE_GROUPS = {
    "trace_self_time": "t_self",
    "trace_edge_gap": "t_edge",
    "trace_errors": "t_errors",
    "trace_calls_dropped": "t_dropped",
}
EVIDENCE_FEATURES: tuple[str, ...] = (
    "m_resource",
    "m_exhaustion",
    "m_latency",
    "m_errors",
    "m_traffic",
    "m_weak",
    "l_error",
    "l_info",
    "l_vanished",
    "t_self",
    "t_edge",
    "t_errors",
    "t_dropped",
    "change",
    "memory",
    "security",
    "m_surge",
)


@dataclass(slots=True)
class ServiceFeatures:
    """A service's features and the evidence each one came from."""

    service: str
    values: dict[str, float] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # Inbound requests now over normal (1 when they did not rise or are unknown).
    traffic_ratio: float = 1.0

    def raise_to(self, name: str, value: float, evidence_id: str) -> None:
        self.sources[name].append(evidence_id)
        if value > self.values.get(name, 0.0):
            self.values[name] = value

    def vector(self) -> list[float]:
        return [self.values.get(f, 0.0) for f in EVIDENCE_FEATURES]


def evidence_features(
    evidence: list[Evidence], services: list[str], topology: Topology
) -> dict[str, ServiceFeatures]:
    """The strongest evidence of each group, per service."""
    table = {s: ServiceFeatures(s) for s in services}
    edge_owner = _edge_owners([e for e in evidence if e.signal == "trace_edge_gap"])
    for item in evidence:
        for service, share in _owners(item, edge_owner, topology):
            feats = table.setdefault(service, ServiceFeatures(service))
            feats.raise_to(_group(item), item.strength * share, item.id)
    for service, ratio in traffic_ratios(evidence).items():
        table.setdefault(service, ServiceFeatures(service)).traffic_ratio = ratio
    return table


def _group(item: Evidence) -> str:
    if item.kind == "metric":
        return METRIC_GROUPS.get(item.signal, "m_weak")
    if item.signal.startswith("security"):
        return "security"
    if item.kind == "log":
        return LOG_GROUPS[item.signal]
    if item.kind in {"change", "memory"}:
        return item.kind
    return TRACE_GROUPS.get(item.signal, "t_self")


def _edge_owners(edges: list[Evidence]) -> dict[str, int]:
    """How many slow call edges touch each service: the service on most of them
    is the one whose network (or CPU) is slow, caller or callee."""
    degree: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        degree[e.service].add(e.peer)
        degree[e.peer].add(e.service)
    return {s: len(peers) for s, peers in degree.items()}


def _owners(item: Evidence, degree: dict[str, int], topology: Topology) -> list[tuple[str, float]]:
    """Who a piece of evidence indicts, and by how much."""
    if item.kind == "metric" and item.signal == "traffic":
        return _traffic_owners(item.service, topology.callers(item.service))
    if item.signal != "trace_edge_gap" or not item.peer:
        return [(item.service, 1.0)]
    caller, callee = degree.get(item.service, 0), degree.get(item.peer, 0)
    if callee > caller:
        return [(item.peer, 1.0)]
    if caller > callee:
        return [(item.service, 1.0)]
    return [(item.peer, 0.6), (item.service, 0.4)]


def _traffic_owners(service: str, callers: list[str]) -> list[tuple[str, float]]:
    """A service's inbound traffic is what its callers send: a change in it points
    at them as much as at the service."""
    if not callers:
        return [(service, 1.0)]
    return [(service, 0.5), *((caller, 0.5 / len(callers)) for caller in callers)]
