"""Read-only by construction: no client the backends make can send a write.

Every client comes from the one factory, which installs the guard; the tests
walk every client a fully configured CloudWatch store creates and try every
operation its service has that is not on the allow-list, and a set of named
writes, through a counting proxy in front of moto: each is refused before a
request leaves the process.
"""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore import xform_name
from botocore.session import get_session

from tests.telemetry.support.servers import Witness, counting_proxy
from tools.telemetry.backend import TelemetryError
from tools.telemetry.cloudwatch.backend import CloudWatchStore
from tools.telemetry.config import CloudWatchConfig, PrometheusConfig
from tools.telemetry.models import TimeWindow
from tools.telemetry.prometheus.client import PrometheusClient
from tools.telemetry.readonly import (
    ALLOWED_OPERATIONS,
    ReadOnlyViolation,
    allowed_iam_actions,
    check_prometheus_path,
)

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "docs" / "iam-policy.json"
REGION = "eu-west-1"  # an empty account region of the session's moto server
ROLE = "arn:aws:iam::123456789012:role/incident-triage-read"
# Writes a careless or misled caller might try, with plausible arguments.
NAMED_WRITES: dict[str, list[tuple[str, dict[str, object]]]] = {
    "cloudwatch": [
        ("put_metric_data", {"Namespace": "X", "MetricData": [{"MetricName": "m", "Value": 1.0}]}),
        ("delete_alarms", {"AlarmNames": ["checkout-latency"]}),
        ("put_metric_alarm", {"AlarmName": "a", "EvaluationPeriods": 1,
                              "ComparisonOperator": "GreaterThanThreshold"}),
        ("disable_alarm_actions", {"AlarmNames": ["checkout-latency"]}),
    ],
    "logs": [
        ("create_log_group", {"logGroupName": "/ecs/evil"}),
        ("put_log_events", {"logGroupName": "/ecs/payment", "logStreamName": "s",
                            "logEvents": [{"timestamp": 0, "message": "x"}]}),
        ("delete_log_group", {"logGroupName": "/ecs/payment"}),
        ("put_retention_policy", {"logGroupName": "/ecs/payment", "retentionInDays": 1}),
    ],
    "ecs": [
        ("update_service", {"cluster": "prod", "service": "payment", "desiredCount": 0}),
        ("delete_service", {"cluster": "prod", "service": "payment"}),
    ],
    "codedeploy": [("create_deployment", {"applicationName": "shop"})],
    "cloudtrail": [("stop_logging", {"Name": "trail"}), ("delete_trail", {"Name": "trail"})],
    "xray": [("put_trace_segments", {"TraceSegmentDocuments": ["{}"]})],
    "sts": [("get_session_token", {})],
}  # fmt: skip


def full_config(endpoint: str) -> CloudWatchConfig:
    """Every part of the CloudWatch store switched on, role assumption included."""
    return CloudWatchConfig.model_validate(
        {
            "region": REGION,
            "endpoint_url": endpoint,
            "role_arn": ROLE,
            "max_attempts": 1,
            "logs": {"groups": [{"prefix": "/ecs/"}], "query": "filter"},
            "metrics": [{"namespace": "Replay", "service_dimension": "Service"}],
            "changes": {"cloudtrail": True, "ecs_clusters": ["prod"],
                        "codedeploy_applications": ["shop"]},
            "xray": {"topology": True, "traces": True},
        }
    )  # fmt: skip


@pytest.fixture
def store(moto: str, witness: Witness) -> CloudWatchStore:
    """A store whose backend has read every kind once, so it made all its clients."""
    ecs = boto3.client("ecs", endpoint_url=moto, region_name=REGION)
    ecs.create_cluster(clusterName="prod")
    deploy = boto3.client("codedeploy", endpoint_url=moto, region_name=REGION)
    if "shop" not in deploy.list_applications()["applications"]:
        deploy.create_application(applicationName="shop")
    store = CloudWatchStore(full_config(witness.url))
    backend = store.at(datetime.now(UTC))
    window = TimeWindow.of(backend.now_s - 600, backend.now_s)
    backend.services()
    backend.metric_series(window)
    backend.logs(window, contains="error")
    backend.log_template_counts(window, 60.0)
    backend.changes(window)  # sources moto lacks (CloudTrail lookups) are logged, skipped
    backend.spans(window)
    backend.topology()
    return store


def test_the_backends_make_a_client_for_every_allowed_service(store: CloudWatchStore) -> None:
    made = {c.meta.service_model.service_name for c in store.clients.created()}
    assert made == set(ALLOWED_OPERATIONS)


def test_every_other_operation_of_every_client_is_refused_before_sending(
    store: CloudWatchStore, witness: Witness
) -> None:
    witness.clear()
    refused = 0
    for client in store.clients.created():
        service = client.meta.service_model.service_name
        for operation in client.meta.service_model.operation_names:
            if operation in ALLOWED_OPERATIONS[service]:
                continue
            with pytest.raises(ReadOnlyViolation, match=rf"{service}\.{operation} refused"):
                getattr(client, xform_name(operation))()
            refused += 1
    assert refused > 300
    assert witness.requests == []


def test_named_writes_are_refused_before_sending(store: CloudWatchStore, witness: Witness) -> None:
    witness.clear()
    for service, writes in NAMED_WRITES.items():
        client = store.clients.client(service)
        for method, args in writes:
            with pytest.raises(ReadOnlyViolation) as refused:
                getattr(client, method)(**args)
            assert refused.value.service == service
    # The guard also covers presigned URLs, which never go through a request.
    with pytest.raises(ReadOnlyViolation):
        store.clients.client("logs").generate_presigned_url(
            "delete_log_group", Params={"logGroupName": "/ecs/payment"}
        )
    assert witness.requests == []


def test_a_logs_insights_query_is_a_read_and_goes_through(
    store: CloudWatchStore, moto: str, witness: Witness
) -> None:
    logs = boto3.client("logs", endpoint_url=moto, region_name=REGION)
    logs.create_log_group(logGroupName="/ecs/insights-probe")
    witness.clear()
    now = datetime.now(UTC)
    started = store.clients.client("logs").start_query(
        logGroupNames=["/ecs/insights-probe"],
        startTime=int((now - timedelta(minutes=5)).timestamp()),
        endTime=int(now.timestamp()),
        queryString="fields @timestamp | limit 1",
    )
    assert started["queryId"]
    assert len(witness.requests) == 1


def test_role_assumption_uses_a_guarded_sts_client(store: CloudWatchStore) -> None:
    assert store.counter.usage().calls.get("sts.AssumeRole") == 1
    sts = store.clients.client("sts")
    with pytest.raises(ReadOnlyViolation, match=r"sts\.AssumeRoleWithWebIdentity refused"):
        sts.assume_role_with_web_identity(RoleArn=ROLE, RoleSessionName="x", WebIdentityToken="t")


def test_only_the_factory_makes_aws_clients() -> None:
    """No module under tools/telemetry makes a boto3 client or session but the factory."""
    offenders = []
    for path in (ROOT / "tools" / "telemetry").rglob("*.py"):
        if path.name == "clients.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"Session", "client", "resource"}:
                base = node.value
                if isinstance(base, ast.Name) and base.id in {"boto3", "session", "botocore"}:
                    offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module in {"boto3", "boto3.session"}:
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


# -- the IAM policy -------------------------------------------------------------------


def test_every_allowed_operation_exists_in_botocore() -> None:
    session = get_session()
    for service, operations in ALLOWED_OPERATIONS.items():
        known = set(session.get_service_model(service).operation_names)
        assert operations <= known, f"{service}: {operations - known}"


def test_the_iam_policy_grants_exactly_the_allow_list() -> None:
    policy = json.loads(POLICY.read_text(encoding="utf-8"))
    granted: list[str] = []
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        granted += [actions] if isinstance(actions, str) else actions
    assert not [a for a in granted if "*" in a], "no wildcard actions"
    assert len(granted) == len(set(granted)), "each action once"
    assert set(granted) == allowed_iam_actions()


def test_no_allowed_operation_is_a_write_by_its_name() -> None:
    writes = ("Put", "Create", "Delete", "Update", "Tag", "Untag", "Set", "Enable", "Disable")
    allowed = [op for ops in ALLOWED_OPERATIONS.values() for op in ops]
    assert [op for op in allowed if op.startswith(writes)] == []


# -- Prometheus -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/admin/tsdb/delete_series",
        "/api/v1/admin/tsdb/snapshot",
        "/api/v1/admin/tsdb/clean_tombstones",
        "/-/quit",
        "/-/reload",
        "/api/v1/write",
        "/api/v1/label/../admin/tsdb/snapshot",
    ],
)
def test_prometheus_admin_and_lifecycle_endpoints_are_refused(path: str) -> None:
    with pytest.raises(ReadOnlyViolation):
        check_prometheus_path(path)
    with counting_proxy("http://127.0.0.1:9") as seen:
        client = PrometheusClient(
            PrometheusConfig.model_validate({"url": seen.url, "metrics": [{"match": "{a='b'}"}]})
        )
        with pytest.raises(ReadOnlyViolation):
            client.raw(path)
        assert seen.requests == []


def test_prometheus_read_endpoints_are_allowed() -> None:
    for path in ("/api/v1/query", "/api/v1/query_range", "/api/v1/series",
                 "/api/v1/label/service/values", "/-/ready"):  # fmt: skip
        check_prometheus_path(path)


def test_an_unreachable_prometheus_is_a_telemetry_error() -> None:
    client = PrometheusClient(
        PrometheusConfig.model_validate(
            {"url": "http://127.0.0.1:9", "metrics": [{"match": "{a='b'}"}], "timeout_s": 2}
        )
    )
    with pytest.raises(TelemetryError, match="unreachable"):
        client.query("up", 0)
