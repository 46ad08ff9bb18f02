"""X-Ray: the service graph as topology and traces as spans, from AWS's documented shapes."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from botocore.stub import ANY, Stubber

from tools.telemetry.cloudwatch.clients import AwsClients
from tools.telemetry.cloudwatch.xray import XRay, graph_topology, span_frame, trace_spans
from tools.telemetry.config import AwsConfig, XRayConfig
from tools.telemetry.mapping import ServiceNaming
from tools.telemetry.models import TimeWindow

T = 1_709_294_400.0
GRAPH = [
    {"ReferenceId": 0, "Name": "web", "Names": ["web"], "Type": "client", "Edges": [
        {"ReferenceId": 1}]},
    {"ReferenceId": 1, "Name": "checkout", "Type": "AWS::ECS::Container", "Edges": [
        {"ReferenceId": 2}, {"ReferenceId": 3}]},
    {"ReferenceId": 2, "Name": "payment", "Type": "AWS::ECS::Container", "Edges": [
        {"ReferenceId": 4}]},
    {"ReferenceId": 3, "Name": "orders", "Type": "AWS::DynamoDB::Table", "Edges": []},
    {"ReferenceId": 4, "Name": "api.stripe.com", "Type": "remote", "Edges": []},
]  # fmt: skip


def test_the_service_graph_is_the_topology() -> None:
    topology = graph_topology(GRAPH, ServiceNaming().resolve)
    assert topology.source == "traces"
    assert topology.callees("checkout") == ["orders", "payment"]
    assert topology.callees("payment") == ["api.stripe.com"]
    node = topology.node("orders")
    assert node is not None and node.kind == "database"
    external = topology.node("api.stripe.com")
    assert external is not None and external.kind == "external"
    assert topology.node("web") is None  # the client is the caller, not a service


def segment(**doc: Any) -> dict[str, Any]:
    return {"Id": doc["id"], "Document": json.dumps(doc)}


TRACE = {
    "Id": "1-65e1c4c0-5d8a0e3b1c2d3e4f5a6b7c8d",
    "Duration": 0.5,
    "Segments": [
        segment(
            id="c1", name="checkout", trace_id="1-65e1c4c0", start_time=T, end_time=T + 0.5,
            http={"request": {"method": "POST", "url": "https://shop.example.com/orders?x=1"}},
            aws={"ecs": {"container": "checkout-7f9c"}},
            subsegments=[
                {"id": "s1", "name": "payment", "namespace": "remote",
                 "start_time": T + 0.01, "end_time": T + 0.41},
                {"id": "s2", "name": "orders", "namespace": "aws", "start_time": T + 0.42,
                 "end_time": T + 0.47, "aws": {"operation": "PutItem", "table_name": "orders"}},
            ],
        ),
        segment(
            id="p1", name="payment", trace_id="1-65e1c4c0", parent_id="s1", start_time=T + 0.02,
            end_time=T + 0.40, fault=True, aws={"operation": "Charge"},
        ),
    ],
}  # fmt: skip


def test_a_trace_becomes_spans_with_self_time_and_call_edges() -> None:
    frame = span_frame(trace_spans(TRACE, ServiceNaming().resolve))
    rows = {
        str(s): (str(op), str(parent), str(child), round(float(ms), 3), round(float(own), 3),
                 str(status))
        for s, op, parent, child, ms, own, status in zip(
            frame.service, frame.operation, frame.parent_service, frame.child_service,
            frame.duration_ms, frame.self_ms, frame.status, strict=True)
    }  # fmt: skip
    assert rows == {
        "checkout": ("POST /orders", "", "payment", 500.0, 70.0, "ok"),
        "payment": ("Charge", "checkout", "", 380.0, 380.0, "error"),
        "orders": ("PutItem", "checkout", "", 50.0, 50.0, "ok"),
    }
    assert set(frame.trace_id) == {TRACE["Id"]}
    assert frame.instance[list(frame.service).index("checkout")] == "checkout-7f9c"
    assert np.all(np.diff(frame.ts) >= 0)


def test_spans_through_the_api(aws_env: None) -> None:
    clients = AwsClients(AwsConfig(region="us-east-1", max_attempts=1))
    xray = XRay(clients, XRayConfig(traces=True, max_traces=10))
    window = TimeWindow.of(T - 60, T + 60)
    with Stubber(clients.client("xray")) as stub:
        stub.add_response(
            "get_trace_summaries",
            {"TraceSummaries": [{"Id": TRACE["Id"]}], "NextToken": "n2"},
            {"StartTime": window.start, "EndTime": window.end, "Sampling": False},
        )
        stub.add_response(
            "get_trace_summaries",
            {"TraceSummaries": []},
            {"StartTime": ANY, "EndTime": ANY, "Sampling": False, "NextToken": "n2"},
        )
        stub.add_response("batch_get_traces", {"Traces": [TRACE]}, {"TraceIds": [TRACE["Id"]]})
        frame = xray.spans(window)
        stub.assert_no_pending_responses()
    assert len(frame) == 3
    with Stubber(clients.client("xray")) as stub:
        stub.add_response("get_service_graph", {"Services": GRAPH}, None)
        topology = xray.topology(TimeWindow.of(T - 3600, T))
    assert topology.callees("checkout") == ["orders", "payment"]
