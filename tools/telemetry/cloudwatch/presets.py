"""Bundled metric rules for common AWS services, named as replay/1 metrics.

A preset saves writing the same rules in every deployment: `preset: alb` maps
target-group latency percentiles, request rate and 5xx rate to the names the
engine scores (`latency_p99_s`, `requests_per_s`, `error_rate_pct`). Fields
given next to `preset` (dimensions, naming, period) apply to each of its rules.
"""

from __future__ import annotations

from typing import Any

from tools.telemetry.config import CloudWatchMetricRule

_ALB = {
    "namespace": "AWS/ApplicationELB",
    "service_dimension": "TargetGroup",
    "dimensions": {"LoadBalancer": "*"},
    "naming": {"pattern": r"^targetgroup/(?P<service>[^/]+)/"},
}
_ECS = {
    "namespace": "AWS/ECS",
    "service_dimension": "ServiceName",
    "dimensions": {"ClusterName": "*"},
}
_RDS = {"namespace": "AWS/RDS", "service_dimension": "DBInstanceIdentifier"}
_LAMBDA = {"namespace": "AWS/Lambda", "service_dimension": "FunctionName"}

PRESETS: dict[str, list[dict[str, Any]]] = {
    "ecs": [
        _ECS | {"metric_name": "CPUUtilization", "as": "cpu_usage_pct"},
        _ECS | {"metric_name": "MemoryUtilization", "as": "memory_usage_pct"},
    ],
    "alb": [
        _ALB | {"metric_name": "TargetResponseTime", "stat": "p99", "as": "latency_p99_s"},
        _ALB | {"metric_name": "TargetResponseTime", "stat": "p90", "as": "latency_p90_s"},
        _ALB | {"metric_name": "TargetResponseTime", "stat": "p50", "as": "latency_p50_s"},
        _ALB
        | {
            "metric_name": "RequestCount",
            "stat": "Sum",
            "per_second": True,
            "as": "requests_per_s",
        },
        _ALB
        | {
            "as": "error_rate_pct",
            "expression": "100 * errors / requests",
            "inputs": {
                "errors": {"metric_name": "HTTPCode_Target_5XX_Count", "stat": "Sum"},
                "requests": {"metric_name": "RequestCount", "stat": "Sum"},
            },
        },
    ],
    "rds": [
        _RDS | {"metric_name": "CPUUtilization", "as": "cpu_usage_pct"},
        _RDS | {"metric_name": "DatabaseConnections", "as": "db_connections"},
        _RDS | {"metric_name": "ReadLatency", "as": "read_latency_s"},
        _RDS | {"metric_name": "WriteLatency", "as": "write_latency_s"},
    ],
    "lambda": [
        _LAMBDA | {"metric_name": "Duration", "stat": "p99", "scale": 0.001, "as": "latency_p99_s"},
        _LAMBDA
        | {"metric_name": "Invocations", "stat": "Sum", "per_second": True, "as": "requests_per_s"},
        _LAMBDA
        | {"metric_name": "Errors", "stat": "Sum", "per_second": True, "as": "errors_per_s"},
        _LAMBDA
        | {"metric_name": "Throttles", "stat": "Sum", "per_second": True, "as": "throttles_per_s"},
    ],
}
_OVERRIDABLE = ("naming", "period_s")


def expand(rule: CloudWatchMetricRule) -> list[CloudWatchMetricRule]:
    """`rule` itself, or its preset's rules with the rule's own settings applied."""
    if rule.preset is None:
        return [rule]
    out = []
    for base in PRESETS[rule.preset]:
        merged = dict(base)
        merged["dimensions"] = {**base.get("dimensions", {}), **rule.dimensions}
        for name in _OVERRIDABLE:
            if name in rule.model_fields_set:
                merged[name] = getattr(rule, name)
        out.append(CloudWatchMetricRule.model_validate(merged))
    return out
