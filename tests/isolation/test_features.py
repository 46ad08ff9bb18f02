"""Who each piece of evidence indicts: its service, an edge's busier end, a callee's callers."""

from __future__ import annotations

import pytest

from agent.isolation.evidence import Evidence, EvidenceKind, EvidenceQuery
from agent.isolation.features import evidence_features
from tools.telemetry.models import ServiceNode, Topology

TOPOLOGY = Topology(
    services=[
        ServiceNode(name="web", depends_on=["search", "cart"]),
        ServiceNode(name="search", depends_on=["s3"]),
        ServiceNode(name="cart", depends_on=["s3"]),
        ServiceNode(name="s3", kind="storage"),
    ]
)
SERVICES = ["web", "search", "cart", "s3"]


def ev(kind: EvidenceKind, signal: str, service: str, strength: float, peer: str = "") -> Evidence:
    return Evidence(
        id=f"ev-{signal}-{service}-{peer}",
        kind=kind,
        service=service,
        summary="moved",
        query=EvidenceQuery(tool="t"),
        strength=strength,
        signal=signal,
        peer=peer,
    )


def test_the_strongest_item_of_each_group_counts_and_is_remembered() -> None:
    items = [ev("metric", "cpu", "cart", 0.4), ev("metric", "memory", "cart", 0.7)]
    table = evidence_features(items, SERVICES, TOPOLOGY)
    assert table["cart"].values == {"m_resource": 0.7}
    assert sorted(table["cart"].sources["m_resource"]) == sorted(e.id for e in items)


def test_a_slow_edge_goes_to_the_end_on_more_slow_edges() -> None:
    edges = [
        ev("trace", "trace_edge_gap", "search", 0.8, peer="s3"),
        ev("trace", "trace_edge_gap", "cart", 0.6, peer="s3"),
    ]
    table = evidence_features(edges, SERVICES, TOPOLOGY)
    assert table["s3"].values["t_edge"] == 0.8
    assert "t_edge" not in table["search"].values


def test_inbound_traffic_points_at_the_callers_too() -> None:
    table = evidence_features([ev("metric", "traffic", "s3", 0.4)], SERVICES, TOPOLOGY)
    assert table["s3"].values["m_traffic"] == pytest.approx(0.2)
    assert table["search"].values["m_traffic"] == pytest.approx(0.1)
    assert table["cart"].values["m_traffic"] == pytest.approx(0.1)
    root = evidence_features([ev("metric", "traffic", "web", 0.4)], SERVICES, TOPOLOGY)
    assert root["web"].values["m_traffic"] == pytest.approx(0.4)
