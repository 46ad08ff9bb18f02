"""Fault types from evidence: where the time went, what the logs say, what changed."""

from __future__ import annotations

from agent.isolation.evidence import Evidence, EvidenceKind, EvidenceQuery
from agent.isolation.fault_type import classify


def ev(
    kind: EvidenceKind, signal: str, strength: float, peer: str = "", text: str = ""
) -> Evidence:
    return Evidence(
        id=f"ev-{signal}-{strength}",
        kind=kind,
        service="cart",
        summary=text or f"{signal} moved",
        query=EvidenceQuery(tool="t", args={"template": text}),
        strength=strength,
        signal=signal,
        peer=peer,
    )


def test_a_slow_wire_with_the_service_itself_unchanged_is_the_network() -> None:
    wire = [ev("metric", "latency", 1.0, peer="frontend"), ev("trace", "trace_edge_gap", 0.8)]
    assert classify(wire) == "network-delay"


def test_a_service_whose_own_processing_slowed_is_not_the_network() -> None:
    evidence = [
        ev("metric", "latency", 1.0, peer="frontend"),
        ev("trace", "trace_edge_gap", 0.8),
        ev("trace", "trace_self_time", 1.0),
        ev("metric", "latency", 1.0),
    ]
    assert classify(evidence) == "cpu"


def test_cpu_with_memory_alongside_is_cpu() -> None:
    evidence = [
        ev("metric", "memory", 0.88),
        ev("metric", "cpu", 0.66),
        ev("trace", "trace_self_time", 0.41),
    ]
    assert classify(evidence) == "cpu"
    assert classify([ev("metric", "memory", 0.9)]) == "memory"


def test_logs_tell_an_exception_from_an_error_return() -> None:
    thrown = ev("log", "log_new_error", 0.8, text="NullPointerException in PriceController")
    returned = ev("log", "log_spike_error", 0.8, text="Get Route By Ids Failed")
    cut_short = ev("log", "log_vanished_info", 0.6)
    assert classify([thrown]) == "code-exception"
    assert classify([returned, cut_short]) == "code-error-return"
    assert classify([cut_short]) == "code-exception"


def test_a_change_decides_and_latency_alone_says_nothing() -> None:
    assert classify([ev("change", "change_deploy", 0.9), ev("metric", "cpu", 1.0)]) == "bad-deploy"
    assert classify([ev("metric", "latency", 0.9)]) == "unknown"
    assert classify([ev("metric", "cpu", 0.2)]) == "unknown"  # too weak to say


def test_a_database_with_symptoms_is_the_database() -> None:
    assert classify([ev("metric", "latency", 0.8)], kind="database") == "database"
