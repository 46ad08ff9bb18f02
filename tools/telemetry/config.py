"""Where each kind of telemetry is read from: the `telemetry:` section of triage.yaml.

One store serves every kind it holds by default (`backend`); any kind can be
routed elsewhere (`metrics: prometheus`, `logs: cloudwatch`) or switched off
(`traces: none`). Each live store has a section of its own saying how its
names map to services and replay/1 metric names (docs/telemetry.md).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tools.telemetry.backend import TelemetryKind
from tools.telemetry.mapping import ServiceNaming
from tools.yaml_file import YamlFileError, read_yaml

StoreName = Literal["replay", "cloudwatch", "prometheus", "datadog"]
Route = Literal["replay", "cloudwatch", "prometheus", "datadog", "none"]
KINDS: tuple[TelemetryKind, ...] = ("metrics", "logs", "traces", "changes", "topology")
# What each store can hold at all.
STORE_KINDS: dict[StoreName, frozenset[str]] = {
    "replay": frozenset(KINDS),
    "cloudwatch": frozenset(KINDS),
    "prometheus": frozenset({"metrics"}),
    "datadog": frozenset(KINDS),
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


# -- Datadog --------------------------------------------------------------------------

# Every Datadog site (DD_SITE); ap1 is Japan.
DATADOG_SITES = (
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "uk1.datadoghq.com",
    "ddog-gov.com",
    "us2.ddog-gov.com",
)
# `agg:metric.name{scope}`, optionally `.as_rate()` / `.as_count()`: the `by` clause and
# the roll-up are the backend's to add.
_DD_QUERY = re.compile(r"^[a-z0-9]+:[\w.\-]+\{[^{}]*\}(\.as_(rate|count)\(\))?$")


class DatadogTags(_Strict):
    """The tags that name a series' service, environment, version and instance:
    Datadog's unified service tagging (service, env, version) by default."""

    service: str = "service"
    env: str = "env"
    version: str | None = Field("version", description="None: ignore versions.")
    instance: str | None = Field("host", description="e.g. host, pod_name, container_name.")


def _metrics_query(value: str) -> str:
    if not _DD_QUERY.match(value):
        raise ValueError(
            f"{value!r}: expected `aggregator:metric{{scope}}` (e.g. avg:system.cpu.user{{*}});"
            " leave out `by`: the service, instance and version tags are added"
        )
    return value


class DatadogMetricRule(_Strict):
    """Datadog metrics -> replay/1 series, grouped by the service, instance and version
    tags. A `query` (or a `formula` over `inputs`) gives one metric (`as`); a `metric`
    name or glob gives every active metric it matches under its own name."""

    preset: Literal["apm", "containers"] | None = Field(
        None, description="Bundled rules for unified service tagging (docs/telemetry.md)."
    )
    operation: str = Field("http.request", description="apm preset: the root span name.")
    query: str | None = Field(None, description="e.g. p99:trace.http.request{*}")
    formula: str | None = Field(None, description="e.g. 100 * errors / hits, over `inputs`.")
    inputs: dict[str, str] = Field(default_factory=dict, description="name -> query")
    metric: str | None = Field(None, description="A metric name, or a glob: shop.*")
    aggregator: Literal["avg", "sum", "min", "max"] = "avg"
    as_: str | None = Field(None, alias="as", description="replay/1 name of a query/formula.")
    rename: dict[str, str] = Field(default_factory=dict)
    scale: float = Field(1.0, description="Unit conversion, e.g. 1/1048576 for bytes -> MiB.")

    @model_validator(mode="after")
    def _complete(self) -> DatadogMetricRule:
        given = [f for f in ("preset", "query", "formula", "metric") if getattr(self, f)]
        if len(given) != 1:
            raise ValueError("give exactly one of `preset`, `query`, `formula` and `metric`")
        if (self.query or self.formula) and self.as_ is None:
            raise ValueError("a `query` or `formula` rule needs `as` (its replay/1 name)")
        if self.formula is not None:
            if not self.inputs:
                raise ValueError("a `formula` needs `inputs`")
            for name in self.inputs:
                if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                    raise ValueError(f"input {name!r}: lowercase identifier expected")
        for query in [self.query, *self.inputs.values()]:
            if query is not None:
                _metrics_query(query)
        return self


class DatadogLogsConfig(_Strict):
    query: str = Field("*", description="Search scope added to every query, e.g. source:java.")
    indexes: list[str] = Field(default_factory=lambda: ["*"])
    page_size: int = Field(1000, ge=1, le=5000)
    max_pages: int = Field(20, ge=1, description="Pages one search may read.")
    max_lines: int = Field(
        100_000, ge=1, description="Volume guard: refuse to read a window holding more lines."
    )
    level_attribute: str | None = Field(None, description="Level from this attribute, not status.")


class DatadogApmConfig(_Strict):
    spans: bool = Field(True, description="Spans from APM (the traces kind).")
    service_map: bool = Field(True, description="The call graph from the APM service map.")
    query: str = Field("*", description="Span search scope added to every query.")
    page_size: int = Field(1000, ge=1, le=1000)
    max_pages: int = Field(10, ge=1)
    max_spans: int = Field(
        10_000, ge=1, description="Above this many spans, sum them server-side instead."
    )


class DatadogChangesConfig(_Strict):
    query: str = Field("*", description="Event search scope, e.g. source:(github OR argocd).")
    deploy_tags: list[str] = Field(
        default_factory=lambda: ["deployment", "deploy", "event_type:deployment"],
        description="An event carrying any of these tags is a deploy.",
    )
    page_size: int = Field(100, ge=1, le=1000)
    max_pages: int = Field(10, ge=1)
    versions: bool = Field(
        True, description="A new `version` tag on a service's metrics is a deploy."
    )


class DatadogSiemConfig(_Strict):
    query: str = Field("*", description="Signal search scope, e.g. source:cloudtrail.")
    min_severity: Literal["info", "low", "medium", "high", "critical"] = "medium"
    max_pages: int = Field(5, ge=1, description="Pages of 100 signals one triage reads.")


class DatadogConfig(_Strict):
    """Keys come from DD_API_KEY / DD_APP_KEY (or the variables `api_key_env` and
    `app_key_env` name); the site from `site`, else DD_SITE, else datadoghq.com."""

    site: str | None = Field(None, description="e.g. ap1.datadoghq.com (Japan).")
    url: str | None = Field(None, description="The API's base URL instead (a proxy, tests).")
    api_key_env: str = "DD_API_KEY"
    app_key_env: str = "DD_APP_KEY"
    env: str | None = Field(None, description="The `env` tag to read, e.g. prod.")
    tags: DatadogTags = Field(default_factory=DatadogTags)
    naming: ServiceNaming = Field(default_factory=ServiceNaming)
    timeout_s: float = Field(30.0, gt=0, description="One request.")
    kind_timeout_s: float = Field(120.0, gt=0, description="One kind's reads in one triage.")
    max_retries: int = Field(3, ge=0, le=10, description="Retries of a 429 or 5xx answer.")
    max_wait_s: float = Field(60.0, ge=0, description="Longest rate-limit reset waited for.")
    max_points: int = Field(1500, ge=10, description="Points per series; sets the roll-up.")
    min_interval_s: int = Field(60, ge=1, description="The finest roll-up asked for.")
    queries_per_request: int = Field(8, ge=1, le=100)
    services_lookback_s: float = Field(86400.0, gt=0)
    metrics: list[DatadogMetricRule] = Field(default_factory=list)
    logs: DatadogLogsConfig | None = None
    apm: DatadogApmConfig | None = None
    changes: DatadogChangesConfig | None = None
    siem: DatadogSiemConfig | None = None

    @model_validator(mode="after")
    def _env_for_the_map(self) -> DatadogConfig:
        if self.apm is not None and self.apm.service_map and not self.env:
            raise ValueError("the APM service map is read per env: set `env` (e.g. prod)")
        return self

    @field_validator("site")
    @classmethod
    def _known_site(cls, value: str | None) -> str | None:
        if value is not None and value not in DATADOG_SITES:
            raise ValueError(f"{value!r}: not a Datadog site ({', '.join(DATADOG_SITES)})")
        return value

    def only(self, kinds: Collection[str]) -> DatadogConfig:
        """This config reading nothing but `kinds` (and its SIEM signals)."""
        apm = self.apm
        if apm is not None:
            apm = apm.model_copy(
                update={"spans": apm.spans and "traces" in kinds,
                        "service_map": apm.service_map and "topology" in kinds}
            )  # fmt: skip
        return self.model_copy(
            update={
                "metrics": self.metrics if "metrics" in kinds else [],
                "logs": self.logs if "logs" in kinds else None,
                "changes": self.changes if "changes" in kinds else None,
                "apm": apm if apm is not None and (apm.spans or apm.service_map) else None,
            }
        )

    def kinds(self) -> set[str]:
        held = {"metrics"} if self.metrics else set()
        held |= {"logs"} if self.logs is not None else set()
        held |= {"changes"} if self.changes is not None else set()
        if self.apm is not None:
            held |= {"traces"} if self.apm.spans else set()
            held |= {"topology"} if self.apm.service_map else set()
        return held


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
    datadog: DatadogConfig | None = None

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
        raw = read_yaml(path)
    except YamlFileError as error:
        raise TelemetryConfigError(str(error)) from None
    if not isinstance(raw, dict):
        raise TelemetryConfigError(f"{path}: (top level): expected a mapping of settings")
    try:
        return TelemetryConfig.model_validate(raw.get("telemetry") or {})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in ("telemetry", *first["loc"]))
        raise TelemetryConfigError(f"{path}: {where}: {first['msg']}") from None
