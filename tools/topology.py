"""The call graph: who calls whom, as a tool and as helpers for the engine.

A fault shows up in the faulty service and in everything that calls it, so
isolation walks the graph: upstream (callers, who feel the fault) and
downstream (callees, who may cause it). When a backend declares no topology,
the graph is inferred from spans (a parent span in one service with a child
in another is a call), and every answer says where its graph came from.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from tools.bounds import Bounded, ToolInput, require_name, take
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.models import ServiceKind, ServiceNode, SpanFrame, TimeWindow, Topology
from tools.toolset import Tool, Toolset

INFER_LOOKBACK_S = 3600.0
MAX_NEIGHBOURS = 20


@dataclass(frozen=True)
class CallGraph:
    """A Topology indexed both ways; services named only as a dependency are nodes too."""

    nodes: dict[str, ServiceNode]
    callees: dict[str, tuple[str, ...]]
    callers: dict[str, tuple[str, ...]]
    source: str

    @classmethod
    def of(cls, topology: Topology) -> CallGraph:
        nodes = {s.name: s for s in topology.services}
        edges = {(s.name, d) for s in topology.services for d in s.depends_on if d != s.name}
        for _, callee in edges:
            nodes.setdefault(callee, ServiceNode(name=callee))
        callees: dict[str, list[str]] = {name: [] for name in nodes}
        callers: dict[str, list[str]] = {name: [] for name in nodes}
        for caller, callee in sorted(edges):
            callees[caller].append(callee)
            callers[callee].append(caller)
        return cls(
            nodes=dict(sorted(nodes.items())),
            callees={k: tuple(v) for k, v in callees.items()},
            callers={k: tuple(v) for k, v in callers.items()},
            source=topology.source,
        )

    def names(self) -> list[str]:
        return list(self.nodes)

    def edge_count(self) -> int:
        return sum(len(v) for v in self.callees.values())

    def _reach(self, start: str, step: dict[str, tuple[str, ...]]) -> set[str]:
        seen: set[str] = set()
        stack = list(step.get(start, ()))
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(step.get(current, ()))
        seen.discard(start)
        return seen

    def upstream(self, name: str) -> set[str]:
        """Every service that calls `name`, directly or through others."""
        return self._reach(name, self.callers)

    def downstream(self, name: str) -> set[str]:
        """Every service `name` calls, directly or through others."""
        return self._reach(name, self.callees)

    def distances(self, name: str, depth: int) -> dict[str, int]:
        """Services within `depth` calls of `name` in either direction, with their distance."""
        found = {name: 0}
        queue = deque([name])
        while queue:
            current = queue.popleft()
            if found[current] == depth:
                continue
            for peer in (*self.callers.get(current, ()), *self.callees.get(current, ())):
                if peer not in found:
                    found[peer] = found[current] + 1
                    queue.append(peer)
        return found

    def path(self, source: str, target: str) -> list[str] | None:
        """The shortest chain of calls from `source` down to `target`, or None."""
        previous: dict[str, str | None] = {source: None}
        queue = deque([source])
        while queue:
            current = queue.popleft()
            if current == target:
                return _unwind(previous, target)
            for callee in self.callees.get(current, ()):
                if callee not in previous:
                    previous[callee] = current
                    queue.append(callee)
        return None


def _unwind(previous: dict[str, str | None], target: str) -> list[str]:
    chain: list[str] = []
    node: str | None = target
    while node is not None:
        chain.append(node)
        node = previous[node]
    return chain[::-1]


# -- helpers for the engine ---------------------------------------------------------


def upstream(topology: Topology, name: str) -> set[str]:
    return CallGraph.of(topology).upstream(name)


def downstream(topology: Topology, name: str) -> set[str]:
    return CallGraph.of(topology).downstream(name)


def call_path(topology: Topology, source: str, target: str) -> list[str] | None:
    return CallGraph.of(topology).path(source, target)


def infer_topology(spans: SpanFrame) -> Topology:
    """The call graph seen in `spans`: caller service -> callee service per parent/child."""
    cross = (spans.parent_service != "") & (spans.parent_service != spans.service)
    pairs = sorted(
        {
            (str(a), str(b))
            for a, b in zip(spans.parent_service[cross], spans.service[cross], strict=True)
        }
    )
    if not pairs:
        return Topology(source="empty")
    calls: dict[str, list[str]] = {}
    for caller, callee in pairs:
        calls.setdefault(caller, []).append(callee)
        calls.setdefault(callee, [])
    return Topology(
        services=[ServiceNode(name=n, depends_on=d) for n, d in sorted(calls.items())],
        source="traces",
    )


def effective_topology(backend: TelemetryBackend, lookback_s: float = INFER_LOOKBACK_S) -> Topology:
    """The backend's topology, or one inferred from the last `lookback_s` of spans."""
    declared = backend.topology()
    if declared.services or "traces" not in backend.kinds():
        return declared
    window = TimeWindow.of(backend.now_s - lookback_s, backend.now_s)
    return infer_topology(backend.spans(window))


# -- get_topology ---------------------------------------------------------------------


class GetTopologyInput(ToolInput):
    """The service call graph: services with kind, team and tier, their callers and callees.

    Give `service` to get its neighbourhood (services within `depth` calls) plus
    everything upstream (callers, who feel its faults) and downstream (callees,
    which may cause them). Without it, lists every service.
    """

    service: str | None = Field(None, description="Focus service (exact name). Default: all.")
    depth: int = Field(1, ge=1, le=5, description="Neighbourhood radius around `service`.")
    max_services: int = Field(50, ge=1, le=300, description="At most this many services.")


class ServiceInfo(BaseModel):
    name: str
    kind: ServiceKind
    team: str | None = None
    tier: int | None = None
    callers: list[str] = Field(description=f"Services that call it (at most {MAX_NEIGHBOURS}).")
    callees: list[str] = Field(description=f"Services it calls (at most {MAX_NEIGHBOURS}).")
    distance: int | None = Field(None, description="Calls away from the focus service.")


class GetTopologyOutput(Bounded):
    """Services (nearest the focus first); `omitted` counts services beyond the cap."""

    source: Literal["declared", "traces", "metrics", "empty"] = Field(
        description="Where the graph came from: declared by the estate, or inferred from traces."
    )
    focus: str | None = None
    services_total: int
    edges_total: int
    upstream: list[str] = Field(default_factory=list, description="All transitive callers.")
    downstream: list[str] = Field(default_factory=list, description="All transitive callees.")
    services: list[ServiceInfo]


def _info(graph: CallGraph, name: str, distance: int | None) -> ServiceInfo:
    node = graph.nodes[name]
    return ServiceInfo(
        name=name,
        kind=node.kind,
        team=node.team,
        tier=node.tier,
        callers=list(graph.callers[name][:MAX_NEIGHBOURS]),
        callees=list(graph.callees[name][:MAX_NEIGHBOURS]),
        distance=distance,
    )


def get_topology(backend: TelemetryBackend, params: GetTopologyInput) -> GetTopologyOutput:
    """The call graph: services with kind/team/tier, callers and callees.

    With `service`, its neighbourhood to `depth` and its full upstream (callers)
    and downstream (callees). Says whether the graph was declared or inferred
    from traces. Use it to decide which neighbours to check with
    summarize_metric or search_logs.
    """
    topology = effective_topology(backend)
    graph = CallGraph.of(topology)
    focus = params.service
    ranked: list[tuple[str, int | None]]
    if focus is None:
        ranked = [(name, None) for name in graph.names()]
        up: list[str] = []
        down: list[str] = []
    else:
        require_name(focus, graph.names(), "service")
        near = graph.distances(focus, params.depth)
        ranked = sorted(near.items(), key=lambda item: (item[1], item[0]))
        up, down = sorted(graph.upstream(focus)), sorted(graph.downstream(focus))
    chosen, omitted = take(ranked, params.max_services)
    return GetTopologyOutput(
        source=topology.source,
        focus=focus,
        services_total=len(graph.nodes),
        edges_total=graph.edge_count(),
        upstream=up[: params.max_services],
        downstream=down[: params.max_services],
        services=[_info(graph, name, distance) for name, distance in chosen],
        truncated=omitted > 0,
        omitted=omitted,
    )


# -- call_path ------------------------------------------------------------------------


class CallPathInput(ToolInput):
    """The shortest chain of calls between two services, in whichever direction exists.

    Use it to check whether a suspect sits on the path behind an alerting
    service (a fault travels up the chain, from callee to caller).
    """

    source: str = Field(description="One service (exact name), e.g. the alerting frontend.")
    target: str = Field(description="The other service (exact name), e.g. a suspect.")


class CallPathOutput(BaseModel):
    source_kind: Literal["declared", "traces", "metrics", "empty"] = Field(
        description="Where the graph came from."
    )
    path: list[str] | None = Field(description="Services from caller to callee; None if none.")
    direction: Literal["source_calls_target", "target_calls_source", "unconnected"]
    hops: int | None


def find_call_path(backend: TelemetryBackend, params: CallPathInput) -> CallPathOutput:
    """Shortest call chain between two services (source calling down to target, or the
    reverse). 'unconnected' means no chain of calls links them in either direction."""
    topology = effective_topology(backend)
    graph = CallGraph.of(topology)
    require_name(params.source, graph.names(), "source")
    require_name(params.target, graph.names(), "target")
    down = graph.path(params.source, params.target)
    up = None if down else graph.path(params.target, params.source)
    path = down or up
    direction: Literal["source_calls_target", "target_calls_source", "unconnected"]
    direction = "source_calls_target" if down else "target_calls_source" if up else "unconnected"
    return CallPathOutput(
        source_kind=topology.source,
        path=path,
        direction=direction,
        hops=len(path) - 1 if path else None,
    )


TOOLSET = Toolset(
    name="topology",
    description="The service call graph, declared or inferred from traces.",
    tools=(Tool.from_function(get_topology), Tool.from_function(find_call_path)),
    requires_any=frozenset({"topology", "traces"}),
)
