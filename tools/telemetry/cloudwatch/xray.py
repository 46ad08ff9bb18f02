"""AWS X-Ray: the service graph as topology, sampled traces as spans.

X-Ray samples (by default one request a second plus 5%), so span counts are
a sample's, not the traffic's; rates and shares, which the trace analysis
compares against its own baseline, survive sampling. `max_traces` caps how
many traces one triage reads (BatchGetTraces takes five at a time).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from tools.telemetry.cloudwatch.clients import AwsClients
from tools.telemetry.config import XRayConfig
from tools.telemetry.models import (
    ServiceKind,
    ServiceNode,
    SpanFrame,
    TimeWindow,
    Topology,
)
from tools.telemetry.spanframe import Span, span_frame

TRACES_PER_CALL = 5
GRAPH_MAX_S = 6 * 3600.0
# X-Ray node types (substring) -> ServiceKind; the rest are services.
_NODE_KINDS: tuple[tuple[str, ServiceKind], ...] = (
    ("DynamoDB", "database"),
    ("RDS", "database"),
    ("database", "database"),
    ("ElastiCache", "cache"),
    ("SQS", "queue"),
    ("SNS", "queue"),
    ("Kinesis", "queue"),
    ("Lambda", "function"),
    ("S3", "storage"),
    ("remote", "external"),
)


def node_kind(node_type: str) -> ServiceKind:
    return next((kind for key, kind in _NODE_KINDS if key in node_type), "service")


def graph_topology(
    services: list[dict[str, Any]], resolve: Callable[[str], str | None]
) -> Topology:
    """A GetServiceGraph answer as Topology (the `client` node, the caller, left out)."""
    names: dict[int, str] = {}
    kinds: dict[str, ServiceKind] = {}
    for node in services:
        if node.get("Type") == "client":
            continue
        name = resolve(node.get("Name", ""))
        if name:
            names[node["ReferenceId"]] = name
            kinds.setdefault(name, node_kind(node.get("Type", "")))
    calls: dict[str, set[str]] = {name: set() for name in kinds}
    for node in services:
        caller = names.get(node.get("ReferenceId", -1))
        for edge in node.get("Edges", []):
            callee = names.get(edge.get("ReferenceId", -1))
            if caller and callee and callee != caller:
                calls[caller].add(callee)
    nodes = [ServiceNode(name=n, kind=kinds[n], depends_on=sorted(calls[n])) for n in sorted(calls)]
    return Topology(services=nodes, source="traces" if nodes else "empty")


def trace_spans(trace: dict[str, Any], resolve: Callable[[str], str | None]) -> list[Span]:
    """One X-Ray trace's segments, and its calls to un-instrumented downstreams
    (remote/aws subsegments with no segment of their own), as spans."""
    documents = [_json(s.get("Document")) for s in trace.get("Segments", [])]
    owned = {d["id"] for d in documents if "id" in d}
    # A segment's parent_id names a subsegment of its caller's segment.
    segment_of = {sub["id"]: d["id"] for d in documents for sub in _subsegments(d) if "id" in sub}
    spans: list[Span] = []
    for doc in documents:
        service = resolve(doc.get("name", ""))
        if not service or "start_time" not in doc or "id" not in doc:
            continue
        parent = doc.get("parent_id", "")
        spans.append(_span(doc, service, segment_of.get(parent, parent), trace.get("Id", "")))
        for sub in _subsegments(doc):
            if sub.get("namespace") in {"remote", "aws"} and not _has_child(sub, documents, owned):
                callee = resolve(sub.get("name", ""))
                if callee and callee != service and "end_time" in sub:
                    spans.append(_span(sub, callee, doc["id"], trace.get("Id", ""), service))
    return spans


def _span(doc: dict[str, Any], service: str, parent: str, trace_id: str, caller: str = "") -> Span:
    http = doc.get("http", {}).get("request", {})
    aws = doc.get("aws", {})
    operation = aws.get("operation") or (
        f"{http.get('method', '')} {_path(http.get('url', ''))}".strip() if http else ""
    )
    instance = (
        aws.get("ecs", {}).get("container")
        or aws.get("ec2", {}).get("instance_id")
        or doc.get("host", "")
        or ""
    )
    end = float(doc.get("end_time", doc["start_time"]))
    return Span(
        id=doc.get("id", ""),
        parent=parent,
        service=service,
        instance=instance if not caller else "",
        operation=operation or doc.get("name", ""),
        start_s=float(doc["start_time"]),
        duration_ms=max(0.0, end - float(doc["start_time"])) * 1000.0,
        error=bool(doc.get("fault") or doc.get("error")),
        trace_id=trace_id,
    )


def _subsegments(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for sub in doc.get("subsegments", []):
        yield sub
        yield from _subsegments(sub)


def _has_child(sub: dict[str, Any], documents: list[dict[str, Any]], owned: set[str]) -> bool:
    return any(d.get("parent_id") == sub.get("id") for d in documents if d.get("id") in owned)


def _path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1].split("?", 1)[0] if "/" in rest else "/"


class XRay:
    def __init__(self, clients: AwsClients, config: XRayConfig) -> None:
        self.clients = clients
        self.config = config

    @property
    def client(self) -> Any:
        return self.clients.client("xray")

    def topology(self, window: TimeWindow) -> Topology:
        start = max(window.start_s, window.end_s - GRAPH_MAX_S)
        args: dict[str, Any] = {
            "StartTime": TimeWindow.of(start, window.end_s).start,
            "EndTime": window.end,
        }
        nodes: list[dict[str, Any]] = []
        while True:
            page = self.client.get_service_graph(**args)
            nodes += page.get("Services", [])
            if not page.get("NextToken"):
                break
            args["NextToken"] = page["NextToken"]
        return graph_topology(nodes, self.config.naming.resolve)

    def spans(self, window: TimeWindow) -> SpanFrame:
        ids = self._trace_ids(window)
        spans: list[Span] = []
        for i in range(0, len(ids), TRACES_PER_CALL):
            found = self.client.batch_get_traces(TraceIds=ids[i : i + TRACES_PER_CALL])
            for trace in found.get("Traces", []):
                spans += trace_spans(trace, self.config.naming.resolve)
        return span_frame([s for s in spans if window.start_s <= s.start_s <= window.end_s])

    def _trace_ids(self, window: TimeWindow) -> list[str]:
        args: dict[str, Any] = {"StartTime": window.start, "EndTime": window.end, "Sampling": False}
        ids: list[str] = []
        while len(ids) < self.config.max_traces:
            page = self.client.get_trace_summaries(**args)
            ids += [t["Id"] for t in page.get("TraceSummaries", []) if "Id" in t]
            if not page.get("NextToken"):
                break
            args["NextToken"] = page["NextToken"]
        return ids[: self.config.max_traces]


def _json(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
