"""Read-only by construction: every AWS call and every Prometheus request is checked
against an allow-list of reads before it leaves the process.

The agent never needs to change the estate it triages, so nothing it runs may:
whatever a caller asks a client for, an operation that is not listed here is
refused with ReadOnlyViolation before botocore builds a request. The IAM policy
in docs/iam-policy.json grants exactly these actions (a test keeps the two in
sync), so a write is refused twice: here, and by AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# service (botocore name) -> the operations the backends and `triage doctor` call.
ALLOWED_OPERATIONS: Mapping[str, frozenset[str]] = {
    "sts": frozenset({"GetCallerIdentity", "AssumeRole"}),
    "logs": frozenset(
        {
            "DescribeLogGroups",
            "FilterLogEvents",
            "StartQuery",
            "GetQueryResults",
            # Stops our own Logs Insights query when it scans past the byte cap.
            "StopQuery",
        }
    ),
    "cloudwatch": frozenset({"GetMetricData", "ListMetrics"}),
    "cloudtrail": frozenset({"LookupEvents"}),
    "ecs": frozenset({"ListServices", "DescribeServices"}),
    "codedeploy": frozenset({"ListDeploymentGroups", "ListDeployments", "BatchGetDeployments"}),
    "xray": frozenset({"GetServiceGraph", "GetTraceSummaries", "BatchGetTraces"}),
}

# botocore service name -> IAM action prefix, where they differ.
IAM_PREFIX: Mapping[str, str] = {}

# HTTP paths of the Prometheus API that only read (prefix match for label values).
PROMETHEUS_READ_PATHS: tuple[str, ...] = (
    "/-/ready",
    "/-/healthy",
    "/api/v1/query",
    "/api/v1/query_range",
    "/api/v1/series",
    "/api/v1/labels",
    "/api/v1/label/",
    "/api/v1/status/buildinfo",
)


class ReadOnlyViolation(PermissionError):
    """A call that could change the estate was refused before it was sent."""

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(
            f"{service}.{operation} refused: incident-triage is read-only"
            f" (allowed on {service}: {', '.join(sorted(ALLOWED_OPERATIONS.get(service, ())))})"
        )
        self.service = service
        self.operation = operation


def iam_action(service: str, operation: str) -> str:
    """The IAM action that authorises `service.operation` (e.g. logs:StartQuery)."""
    return f"{IAM_PREFIX.get(service, service)}:{operation}"


def allowed_iam_actions() -> set[str]:
    return {iam_action(s, op) for s, ops in ALLOWED_OPERATIONS.items() for op in ops}


def check(service: str, operation: str) -> None:
    """Raise ReadOnlyViolation unless `service.operation` is on the allow-list."""
    if operation not in ALLOWED_OPERATIONS.get(service, frozenset()):
        raise ReadOnlyViolation(service, operation)


def install_guard(client: Any) -> None:
    """Refuse every non-allowed operation on `client` (a botocore client).

    Hooked twice: `provide-client-params` is the first event of every call
    (before parameter validation, so even a malformed write is refused, and
    presigned URLs go through it too); `before-call` is the last one before the
    HTTP request, in case anything were to re-enter past the first.
    """
    service = client.meta.service_model.service_name

    def refuse(model: Any, **_: Any) -> None:
        check(service, model.name)

    events = client.meta.events
    events.register("provide-client-params", refuse, unique_id="triage-readonly-params")
    events.register("before-call", refuse, unique_id="triage-readonly-call")


def check_prometheus_path(path: str) -> None:
    """Raise ReadOnlyViolation unless `path` is a read endpoint of the Prometheus API."""
    for allowed in PROMETHEUS_READ_PATHS:
        exact = path == allowed
        under = allowed.endswith("/") and path.startswith(allowed) and ".." not in path
        if exact or under:
            return
    raise ReadOnlyViolation("prometheus", path)
