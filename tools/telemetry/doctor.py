"""`triage doctor`: can the configured stores be reached, and may we read them?

Each check sends the smallest read a real triage would send (one identity
call, a one-item list, a one-minute query) and, when it fails, says exactly
what is missing: the IAM action to grant, the log group that does not exist,
the URL that does not answer. Checks use the same guarded clients as the
backends, so the doctor cannot change anything either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

from tools.telemetry.backend import TelemetryError
from tools.telemetry.config import (
    CloudWatchConfig,
    DatadogConfig,
    PrometheusConfig,
    TelemetryConfig,
)
from tools.telemetry.models import TimeWindow
from tools.telemetry.readonly import iam_action

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "NotAuthorized",
}


Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Check:
    store: str
    name: str
    status: Status
    detail: str

    @property
    def ok(self) -> bool:
        return self.status != "fail"


def diagnose(config: TelemetryConfig, now: datetime | None = None) -> list[Check]:
    """Every check for every store the config routes a kind to."""
    now = now or datetime.now(UTC)
    routes = config.routes()
    checks = [
        Check("telemetry", "routes", "ok", ", ".join(f"{k} <- {s}" for k, s in routes.items()))
    ]
    stores = set(routes.values())
    if "replay" in stores:
        checks.append(_replay(config))
    if "cloudwatch" in stores and config.cloudwatch is not None:
        checks += list(_cloudwatch(config.cloudwatch, now))
    if "prometheus" in stores and config.prometheus is not None:
        checks += list(_prometheus(config.prometheus, now))
    if "datadog" in stores and config.datadog is not None:
        checks += list(_datadog(config.datadog, now))
    return checks


def _replay(config: TelemetryConfig) -> Check:
    from tools.telemetry.replay.backend import ReplayDataset
    from tools.telemetry.replay.format import DatasetFormatError

    if config.path is None:
        return Check("replay", "dataset", "fail", "no telemetry.path (a replay/1 dataset folder)")
    try:
        info = ReplayDataset.open(config.path.resolve()).info
    except DatasetFormatError as error:
        return Check("replay", "dataset", "fail", str(error))
    return Check("replay", "dataset", "ok", f"{info.name} ({config.path})")


# -- CloudWatch -----------------------------------------------------------------------


def _cloudwatch(config: CloudWatchConfig, now: datetime) -> Iterator[Check]:
    from tools.telemetry.cloudwatch.backend import CloudWatchStore

    store = CloudWatchStore(config)
    clients = store.clients
    recent = TimeWindow.of(now.timestamp() - 300, now.timestamp())

    def probe(name: str, service: str, action: Callable[[Any], str]) -> Check:
        return _aws_check(name, service, lambda: action(clients.client(service)), config)

    yield probe("identity", "sts", lambda c: c.get_caller_identity()["Arn"])
    if config.logs is not None:
        for rule in config.logs.groups:
            wanted = rule.name or rule.prefix or ""
            yield probe(
                f"log group {wanted}", "logs", partial(_groups, wanted=wanted, exact=rule.name)
            )
        groups = [g.name for g in store.logs.groups()] if store.logs else []
        if groups and config.logs.query == "insights":
            yield probe("logs insights", "logs", partial(_insights, group=groups[0], recent=recent))
        elif groups:
            yield probe(
                "filter log events", "logs", partial(_filter, group=groups[0], recent=recent)
            )
    if store.metrics is not None:
        metrics = store.metrics
        yield probe("list metrics", "cloudwatch", lambda _: f"{len(metrics.targets())} series")
        yield probe("get metric data", "cloudwatch", lambda _: _metric_data(metrics, now))
    if config.changes is not None:
        if config.changes.cloudtrail:
            yield probe("cloudtrail", "cloudtrail", _trail)
        for cluster in config.changes.ecs_clusters:
            yield probe(f"ecs {cluster}", "ecs", partial(_ecs, cluster=cluster))
        for app in config.changes.codedeploy_applications:
            yield probe(f"codedeploy {app}", "codedeploy", partial(_codedeploy, app=app))
    if config.xray is not None:
        yield probe("x-ray service graph", "xray", partial(_graph, recent=recent))
        if config.xray.traces:
            yield probe("x-ray traces", "xray", partial(_traces, recent=recent))
    yield Check("cloudwatch", "queries", "ok", str(store.counter.usage()))


def _groups(client: Any, wanted: str, exact: str | None) -> str:
    """The configured group exists (or some group under the prefix does)."""
    found = client.describe_log_groups(logGroupNamePrefix=wanted, limit=50)["logGroups"]
    names = [g["logGroupName"] for g in found]
    if exact is not None and exact not in names:
        raise LookupError(f"log group {exact} does not exist in this account and region")
    if not names:
        raise LookupError(f"no log group starts with {wanted}")
    return (
        exact or f"{len(names)} groups ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
    )


def _insights(client: Any, group: str, recent: TimeWindow) -> str:
    started = client.start_query(
        logGroupNames=[group],
        startTime=int(recent.start_s),
        endTime=int(recent.end_s),
        queryString="fields @timestamp | limit 1",
    )
    client.get_query_results(queryId=started["queryId"])
    return f"started and read query {started['queryId']} on {group}"


def _filter(client: Any, group: str, recent: TimeWindow) -> str:
    found = client.filter_log_events(
        logGroupName=group,
        startTime=int(recent.start_s * 1000),
        endTime=int(recent.end_s * 1000),
        limit=1,
    )
    return f"{len(found.get('events', []))} line(s) in the last 5 min of {group}"


def _metric_data(metrics: Any, now: datetime) -> str:
    """The backend's own read path over the last ten minutes."""
    series = metrics.series(TimeWindow.of(now.timestamp() - 600, now.timestamp()))
    return f"{len(series)} series with data in the last 10 min"


def _trail(client: Any) -> str:
    found = client.lookup_events(MaxResults=1)
    return f"{len(found.get('Events', []))} recent write event(s) readable"


def _ecs(client: Any, cluster: str) -> str:
    return f"{len(client.list_services(cluster=cluster)['serviceArns'])} services"


def _codedeploy(client: Any, app: str) -> str:
    return f"{len(client.list_deployments(applicationName=app)['deployments'])} deployments"


def _graph(client: Any, recent: TimeWindow) -> str:
    found = client.get_service_graph(StartTime=recent.start, EndTime=recent.end)
    return f"{len(found.get('Services', []))} nodes in the last 5 min"


def _traces(client: Any, recent: TimeWindow) -> str:
    found = client.get_trace_summaries(StartTime=recent.start, EndTime=recent.end)
    return f"{len(found.get('TraceSummaries', []))} traces in the last 5 min"


def _aws_check(name: str, service: str, run: Callable[[], str], config: CloudWatchConfig) -> Check:
    """Run one probe; a failure says what to fix rather than what went wrong inside."""
    try:
        return Check("cloudwatch", name, "ok", run())
    except Exception as error:  # every failure becomes a line of the report
        return Check("cloudwatch", name, "fail", explain(error, service, config))


def explain(error: Exception, service: str, config: CloudWatchConfig) -> str:
    """What to fix for an AWS failure: the IAM action to grant, the missing setting."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in _DENIED or "AccessDenied" in code:
            if error.operation_name == "AssumeRole":
                return f"missing IAM permission sts:AssumeRole on {config.role_arn}"
            return f"missing IAM permission {iam_action(service, error.operation_name)}"
        return f"{error.operation_name}: {code}: {error}"
    fixed = {
        NoCredentialsError: "no AWS credentials (env, profile, SSO or instance role)",
        NoRegionError: "no region: set cloudwatch.region or AWS_REGION",
    }
    for kind, text in fixed.items():
        if isinstance(error, kind):
            return text
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach {error.kwargs.get('endpoint_url')}"
    return str(error).strip("'\"")


# -- Prometheus -----------------------------------------------------------------------


def _prometheus(config: PrometheusConfig, now: datetime) -> Iterator[Check]:
    from tools.telemetry.prometheus.client import PrometheusClient

    client = PrometheusClient(config)
    base = client.base
    try:
        status, body = client.raw("/-/ready")
    except TelemetryError as error:
        yield Check("prometheus", "ready", "fail", f"{error} (is {base}/-/ready reachable?)")
        return
    if status != 200:
        yield Check("prometheus", "ready", "fail", f"{base}/-/ready answered HTTP {status}")
        return
    yield Check("prometheus", "ready", "ok", body.decode("utf-8", "replace").strip())
    at = now.timestamp()
    for rule in config.metrics:
        expr = rule.promql or rule.match or ""
        label = rule.as_ or expr
        try:
            found = client.query(f"count by ({config.service_label}) ({expr})", at)
        except TelemetryError as error:
            yield Check("prometheus", f"metric {label}", "fail", f"{error} ({base}/api/v1/query)")
            continue
        services = [r["metric"].get(config.service_label) for r in found.get("result", [])]
        if not services:
            detail = f"no series now with a `{config.service_label}` label: check {expr}"
            yield Check("prometheus", f"metric {label}", "warn", detail)
        else:
            yield Check("prometheus", f"metric {label}", "ok", f"{len(services)} services")
    yield Check("prometheus", "queries", "ok", str(client.counter.usage()))


# -- Datadog --------------------------------------------------------------------------


def _datadog(config: DatadogConfig, now: datetime) -> Iterator[Check]:
    """The keys, then one small read per configured kind: a 403 names the scope the
    application key lacks."""
    from tools.telemetry.datadog.backend import DatadogStore
    from tools.telemetry.datadog.client import DatadogError, missing_keys

    if missing := missing_keys(config):
        yield Check("datadog", "keys", "fail", f"no key in {' and '.join(missing)}")
        return
    store = DatadogStore(config)
    backend = store.at(now)
    recent = TimeWindow.of(now.timestamp() - 600, now.timestamp())

    def probe(name: str, run: Callable[[], str]) -> Check:
        try:
            return Check("datadog", name, "ok", run())
        except DatadogError as error:
            return Check("datadog", name, "fail", str(error))

    key = probe("api key", lambda: f"valid for {store.clients.host}" if _validate(store) else "")
    yield key
    if not key.ok:
        return
    if store.metrics is not None:
        yield probe("metrics", lambda: f"{len(backend.metric_series(recent))} series, last 10 min")
    if store.logs is not None:
        logs = store.logs
        yield probe("logs", lambda: f"{logs.count(recent, logs.scope())} lines, last 10 min")
    if store.apm is not None:
        if store.apm.apm.spans:
            yield probe("apm spans", lambda: f"{len(backend.spans(recent))} spans, last 10 min")
        if store.apm.apm.service_map:
            yield probe("service map", lambda: f"{len(backend.topology().services)} services")
    if store.changes is not None:
        yield probe("events", lambda: f"{len(backend.changes(recent))} changes, last 10 min")
    if store.siem is not None:
        yield probe("siem", lambda: f"{len(backend.security_signals(recent))} signals")
    yield Check("datadog", "queries", "ok", str(store.counter.usage()))


def _validate(store: Any) -> bool:
    from datadog_api_client.v1.api.authentication_api import AuthenticationApi

    return bool(store.clients.api(AuthenticationApi).validate().get("valid"))
