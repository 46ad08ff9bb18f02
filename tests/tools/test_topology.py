"""The call graph as declared, as inferred from traces, and the walks the engine needs."""

from __future__ import annotations

import pytest

from tests.support.synthetic import SyntheticDataset, SyntheticSpec, write_dataset
from tools.bounds import ToolInputError
from tools.telemetry.models import ServiceNode, TimeWindow, Topology
from tools.telemetry.replay.backend import ReplayBackend
from tools.toolset import run
from tools.topology import (
    CallGraph,
    CallPathInput,
    GetTopologyInput,
    call_path,
    downstream,
    effective_topology,
    find_call_path,
    get_topology,
    infer_topology,
    upstream,
)

EDGES = {
    ("frontend", "checkout"),
    ("frontend", "catalog"),
    ("checkout", "payment"),
    ("checkout", "cart"),
    ("payment", "postgres"),
    ("cart", "redis"),
    ("catalog", "redis"),
}


def edges(topology: Topology) -> set[tuple[str, str]]:
    return {(s.name, d) for s in topology.services for d in s.depends_on}


@pytest.fixture(scope="module")
def undeclared(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    """The same shop without topology.json: the graph must come from traces."""
    spec = SyntheticSpec(name="synthetic-shop-no-topology", topology=False)
    return write_dataset(tmp_path_factory.mktemp("no-topology"), spec)


def test_full_graph_with_kinds_teams_and_tiers(backend: ReplayBackend) -> None:
    out = get_topology(backend, GetTopologyInput())
    assert out.source == "declared"
    assert out.services_total == 7 and out.edges_total == len(EDGES)
    postgres = next(s for s in out.services if s.name == "postgres")
    assert (postgres.kind, postgres.team, postgres.tier) == ("database", "data", 1)
    assert postgres.callers == ["payment"] and postgres.callees == []
    assert all(s.distance is None for s in out.services)


def test_focus_gives_neighbourhood_upstream_and_downstream(backend: ReplayBackend) -> None:
    out = get_topology(backend, GetTopologyInput(service="payment"))
    assert out.focus == "payment"
    assert [(s.name, s.distance) for s in out.services] == [
        ("payment", 0),
        ("checkout", 1),
        ("postgres", 1),
    ]
    assert out.upstream == ["checkout", "frontend"]
    assert out.downstream == ["postgres"]
    wider = get_topology(backend, GetTopologyInput(service="payment", depth=2))
    assert {s.name for s in wider.services if s.distance == 2} == {"frontend", "cart"}


def test_max_services_truncates(backend: ReplayBackend) -> None:
    out = get_topology(backend, GetTopologyInput(max_services=3))
    assert len(out.services) == 3
    assert out.truncated and out.omitted == 4


def test_unknown_focus_suggests_a_name(backend: ReplayBackend) -> None:
    with pytest.raises(ToolInputError, match="did you mean payment") as caught:
        run("get_topology", backend, {"service": "paymnt"})
    assert caught.value.field == "service"


def test_call_path_in_both_directions(backend: ReplayBackend) -> None:
    down = find_call_path(backend, CallPathInput(source="frontend", target="postgres"))
    assert down.path == ["frontend", "checkout", "payment", "postgres"]
    assert down.direction == "source_calls_target" and down.hops == 3
    up = find_call_path(backend, CallPathInput(source="postgres", target="frontend"))
    assert up.direction == "target_calls_source" and up.path == down.path
    apart = find_call_path(backend, CallPathInput(source="payment", target="redis"))
    assert apart.direction == "unconnected" and apart.path is None and apart.hops is None


def test_graph_inferred_from_traces_when_none_is_declared(undeclared: SyntheticDataset) -> None:
    backend = undeclared.backend()
    out = get_topology(backend, GetTopologyInput())
    assert out.source == "traces"
    assert {(s.name, c) for s in out.services for c in s.callees} == EDGES
    payment = find_call_path(backend, CallPathInput(source="frontend", target="payment"))
    assert payment.source_kind == "traces" and payment.hops == 2


def last_10m(backend: ReplayBackend) -> TimeWindow:
    return TimeWindow.of(backend.now_s - 600, backend.now_s)


def test_infer_topology_from_spans(backend: ReplayBackend) -> None:
    inferred = infer_topology(backend.spans(last_10m(backend)))
    assert inferred.source == "traces"
    assert edges(inferred) == EDGES
    assert edges(backend.topology()) == EDGES


def test_empty_spans_infer_an_empty_graph(backend: ReplayBackend) -> None:
    nothing = backend.spans(TimeWindow.of(0, 1))
    assert infer_topology(nothing) == Topology(source="empty")


class NoTopology(ReplayBackend):
    """A store that declares no graph at all (unlike replay, which infers its own)."""

    def topology(self) -> Topology:
        return Topology(source="empty")


def test_tools_infer_from_recent_spans_when_the_backend_has_no_graph(
    backend: ReplayBackend,
) -> None:
    bare = NoTopology(backend.dataset, backend.now)
    assert effective_topology(bare).source == "traces"
    out = get_topology(bare, GetTopologyInput(service="checkout"))
    assert out.source == "traces"
    assert out.downstream == ["cart", "payment", "postgres", "redis"]


def test_helpers_walk_the_graph() -> None:
    topology = Topology(
        services=[
            ServiceNode(name="a", depends_on=["b", "a"]),
            ServiceNode(name="b", depends_on=["c", "mysql"]),
            ServiceNode(name="c", depends_on=["a"]),  # a cycle
        ]
    )
    assert upstream(topology, "c") == {"a", "b"}
    assert downstream(topology, "a") == {"b", "c", "mysql"}
    assert call_path(topology, "a", "mysql") == ["a", "b", "mysql"]
    assert call_path(topology, "mysql", "a") is None
    graph = CallGraph.of(topology)
    assert graph.names() == ["a", "b", "c", "mysql"]  # named only as a dependency, still a node
    assert graph.callers["a"] == ("c",)  # the self-call is dropped
    assert graph.distances("mysql", 1) == {"mysql": 0, "b": 1}
