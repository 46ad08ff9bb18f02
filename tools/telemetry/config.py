"""Where each kind of telemetry is read from: the `telemetry:` section of triage.yaml.

One store serves every kind it holds by default (`backend`); any kind can be
routed elsewhere (`metrics: prometheus`, `logs: cloudwatch`) or switched off
(`traces: none`). Each live store has a section of its own saying how its
names map to services and replay/1 metric names (docs/telemetry.md).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tools.telemetry.backend import TelemetryKind
from tools.telemetry.mapping import ServiceNaming

StoreName = Literal["replay", "cloudwatch", "prometheus"]
Route = Literal["replay", "cloudwatch", "prometheus", "none"]
KINDS: tuple[TelemetryKind, ...] = ("metrics", "logs", "traces", "changes", "topology")
# What each store can hold at all.
STORE_KINDS: dict[StoreName, frozenset[str]] = {
    "replay": frozenset(KINDS),
    "cloudwatch": frozenset(KINDS),
    "prometheus": frozenset({"metrics"}),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# -- AWS ------------------------------------------------------------------------------


class AwsConfig(_Strict):
    """Credentials come from the standard AWS chain (env, profile, SSO, instance role);
    `role_arn` adds an sts:AssumeRole on top, refreshed before it expires."""

    region: str | None = Field(None, description="AWS region (default: the chain's).")
    profile: str | None = Field(None, description="Named profile from ~/.aws/config.")
    role_arn: str | None = Field(None, description="Role to assume for every read.")
    external_id: str | None = None
    session_name: str = "incident-triage"
    endpoint_url: str | None = Field(None, description="One endpoint for every service (tests).")
    endpoints: dict[str, str] = Field(
        default_factory=dict, description="Per-service endpoint (VPC endpoints): logs -> URL."
    )
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_attempts: int = Field(5, ge=1, le=20)


class LogGroupRule(_Strict):
    """Log groups and the service their lines belong to."""

    name: str | None = Field(None, description="One log group, by exact name.")
    prefix: str | None = Field(None, description="Every log group under this prefix.")
    service: str | None = Field(None, description="Every line is this service's.")
    service_field: str | None = Field(None, description="JSON field naming each line's service.")
    naming: ServiceNaming = Field(
        default_factory=lambda: ServiceNaming(pattern=r"(?P<service>[^/]+)/*$"),
        description="Group name -> service (default: its last path segment).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> LogGroupRule:
        if (self.name is None) == (self.prefix is None):
            raise ValueError("give exactly one of `name` and `prefix`")
        if self.service is not None and self.service_field is not None:
            raise ValueError("give at most one of `service` and `service_field`")
        return self


class LogFields(_Strict):
    """JSON field names inside each log line (format: json)."""

    message: str = "message"
    level: str = "level"
    instance: str | None = Field("instance", description="Else the log stream name.")
    trace_id: str = "trace_id"


class CloudWatchLogsConfig(_Strict):
    groups: list[LogGroupRule] = Field(min_length=1)
    format: Literal["json", "text"] = "json"
    fields: LogFields = Field(default_factory=LogFields)
    query: Literal["insights", "filter"] = Field(
        "insights", description="Logs Insights, or FilterLogEvents (plain terms) as fallback."
    )
    max_bytes_scanned: int = Field(
        2_000_000_000, ge=1, description="Stop a Logs Insights query past this many bytes."
    )
    max_events: int = Field(500_000, ge=1, description="FilterLogEvents: most lines read.")
    poll_s: float = Field(1.0, gt=0)
    timeout_s: float = Field(120.0, gt=0)
    discovery_ttl_s: float = Field(300.0, ge=0)


class MetricInput(_Strict):
    """One operand of a metric math expression."""

    metric_name: str
    stat: str = "Sum"


class CloudWatchMetricRule(_Strict):
    """CloudWatch metrics -> replay/1 series. Discovered with ListMetrics: each
    dimension set holding `service_dimension` (and the fixed `dimensions`)
    becomes one (service, instance) series."""

    preset: Literal["ecs", "alb", "rds", "lambda"] | None = Field(
        None, description="A bundled set of rules (docs/telemetry.md)."
    )
    namespace: str | None = None
    metric_name: str | None = Field(None, description="None: every metric of the namespace.")
    stat: str = Field("Average", description="Average, Sum, Maximum, p99, ...")
    as_: str | None = Field(None, alias="as", description="replay/1 name (default: snake_case).")
    dimensions: dict[str, str] = Field(
        default_factory=dict, description="Fixed dimensions; '*' = present, any value."
    )
    service_dimension: str | None = None
    instance_dimension: str | None = None
    naming: ServiceNaming = Field(default_factory=ServiceNaming)
    scale: float = Field(1.0, description="Unit conversion, e.g. 0.001 for ms -> s.")
    per_second: bool = Field(False, description="Divide by the period (counts -> rates).")
    expression: str | None = Field(None, description="Metric math over `inputs` by id.")
    inputs: dict[str, MetricInput] = Field(default_factory=dict)
    period_s: int = Field(60, ge=1)

    @model_validator(mode="after")
    def _complete(self) -> CloudWatchMetricRule:
        if self.preset is None:
            if self.namespace is None or self.service_dimension is None:
                raise ValueError("a metric rule needs `namespace` and `service_dimension`")
            if self.expression is not None and (not self.inputs or self.as_ is None):
                raise ValueError("an `expression` needs `inputs` and `as`")
            for key in self.inputs:
                if not key.isidentifier() or not key[0].islower():
                    raise ValueError(f"input id {key!r}: lowercase identifier expected")
        if self.period_s < 60 and self.period_s not in {1, 5, 10, 30}:
            raise ValueError("period_s: 1, 5, 10, 30 or a multiple of 60")
        if self.period_s >= 60 and self.period_s % 60:
            raise ValueError("period_s: 1, 5, 10, 30 or a multiple of 60")
        return self


class ChangesConfig(_Strict):
    cloudtrail: bool = Field(True, description="Write events from CloudTrail LookupEvents.")
    max_pages: int = Field(20, ge=1, description="LookupEvents pages (50 events each).")
    ecs_clusters: list[str] = Field(default_factory=list, description="ECS deployments.")
    codedeploy_applications: list[str] = Field(default_factory=list)
    naming: ServiceNaming = Field(
        default_factory=ServiceNaming,
        description="Resource name -> service; else a known service named in it.",
    )


class XRayConfig(_Strict):
    topology: bool = Field(True, description="The call graph from the X-Ray service graph.")
    traces: bool = Field(False, description="Spans from sampled X-Ray traces.")
    max_traces: int = Field(300, ge=1)
    naming: ServiceNaming = Field(default_factory=ServiceNaming)


class CloudWatchConfig(AwsConfig):
    logs: CloudWatchLogsConfig | None = None
    metrics: list[CloudWatchMetricRule] = Field(default_factory=list)
    changes: ChangesConfig | None = None
    xray: XRayConfig | None = None

    def only(self, kinds: Collection[str]) -> CloudWatchConfig:
        """This config reading nothing but `kinds` (the ones routed to CloudWatch)."""
        xray = self.xray
        if xray is not None:
            xray = xray.model_copy(
                update={"topology": xray.topology and "topology" in kinds,
                        "traces": xray.traces and "traces" in kinds}
            )  # fmt: skip
        return self.model_copy(
            update={
                "logs": self.logs if "logs" in kinds else None,
                "metrics": self.metrics if "metrics" in kinds else [],
                "changes": self.changes if "changes" in kinds else None,
                "xray": xray if xray is not None and (xray.topology or xray.traces) else None,
            }
        )

    def kinds(self) -> set[str]:
        held = set()
        if self.logs is not None:
            held.add("logs")
        if self.metrics:
            held.add("metrics")
        if self.changes is not None:
            held.add("changes")
        if self.xray is not None:
            held |= {"topology"} if self.xray.topology else set()
            held |= {"traces"} if self.xray.traces else set()
        return held


# -- Prometheus -----------------------------------------------------------------------


class PromMetricRule(_Strict):
    """Either a PromQL expression giving one replay/1 metric (`promql` + `as`), or a
    series selector whose metrics keep their own names (`match`, `rename`)."""

    promql: str | None = None
    as_: str | None = Field(None, alias="as")
    match: str | None = None
    rename: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one(self) -> PromMetricRule:
        if (self.promql is None) == (self.match is None):
            raise ValueError("give exactly one of `promql` and `match`")
        if self.promql is not None and self.as_ is None:
            raise ValueError("a `promql` rule needs `as` (its replay/1 metric name)")
        return self


class PrometheusConfig(_Strict):
    url: str = Field(description="Base URL, e.g. http://prometheus:9090")
    service_label: str = "service"
    instance_label: str = "instance"
    naming: ServiceNaming = Field(default_factory=ServiceNaming)
    step_s: float = Field(60.0, gt=0, description="query_range resolution.")
    timeout_s: float = Field(30.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    bearer_token_env: str | None = Field(None, description="Env var holding a bearer token.")
    services_lookback_s: float = Field(86400.0, gt=0)
    metrics: list[PromMetricRule] = Field(min_length=1)


# -- the section ----------------------------------------------------------------------


class TelemetryConfig(_Strict):
    """Where telemetry is read from."""

    backend: StoreName = Field("replay", description="Store for every kind it holds.")
    path: Path | None = Field(None, description="replay: the replay/1 dataset folder.")
    metrics: Route | None = Field(None, description="Override the store for metrics.")
    logs: Route | None = None
    traces: Route | None = None
    changes: Route | None = None
    topology: Route | None = None
    topology_file: Path | None = Field(
        None, description="Declared call graph (topology.json shape, JSON or YAML)."
    )
    cloudwatch: CloudWatchConfig | None = None
    prometheus: PrometheusConfig | None = None

    @model_validator(mode="after")
    def _routable(self) -> TelemetryConfig:
        for kind in KINDS:
            chosen = getattr(self, kind)
            if chosen in (None, "none"):
                continue
            if kind not in STORE_KINDS[chosen]:
                raise ValueError(f"{kind}: {chosen} holds no {kind}")
        for store in set(self.routes().values()) - {"replay"}:
            if getattr(self, store) is None:
                raise ValueError(f"{store} is routed to but has no `{store}:` section")
        return self

    def routes(self) -> dict[TelemetryKind, StoreName]:
        """Kind -> store, for every kind that is read at all."""
        chosen: dict[TelemetryKind, StoreName] = {}
        for kind in KINDS:
            route = getattr(self, kind)
            if route == "none":
                continue
            store: StoreName = route or self.backend
            if kind in STORE_KINDS[store]:
                chosen[kind] = store
        return chosen

    def replay_path(self) -> Path | None:
        """The replay dataset, when some kind is read from one."""
        return self.path if "replay" in self.routes().values() else None

    @property
    def is_replay_only(self) -> bool:
        return set(self.routes().values()) <= {"replay"} and self.topology_file is None


class TelemetryConfigError(ValueError):
    """The telemetry section is missing or invalid; says which field and why."""


def load_telemetry_config(path: Path) -> TelemetryConfig:
    """Only the `telemetry:` section of a triage.yaml (for tools that must not import
    the agent's own config, such as `triage doctor`)."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise TelemetryConfigError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise TelemetryConfigError(f"{path}: not valid YAML: {error}") from None
    try:
        return TelemetryConfig.model_validate(raw.get("telemetry") or {})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in ("telemetry", *first["loc"]))
        raise TelemetryConfigError(f"{path}: {where}: {first['msg']}") from None
