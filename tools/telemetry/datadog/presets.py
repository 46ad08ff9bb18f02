"""Bundled metric rules for Datadog's unified service tagging, named as replay/1 metrics.

`preset: apm` reads the trace metrics every APM tracer emits for its root span
(`trace.<operation>`): latency percentiles, request and error rates, and the
error share; `preset: containers` reads the Agent's container metrics. The
service, env and version tags group them, as everywhere in Datadog.
"""

from __future__ import annotations

from typing import Any

from tools.telemetry.config import DatadogMetricRule

MIB = 1.0 / (1024 * 1024)


def _apm(operation: str) -> list[dict[str, Any]]:
    span = f"trace.{operation}"
    hits = f"sum:{span}.hits{{*}}.as_rate()"
    errors = f"sum:{span}.errors{{*}}.as_rate()"
    return [
        {"query": f"p99:{span}{{*}}", "as": "latency_p99_s"},
        {"query": f"p90:{span}{{*}}", "as": "latency_p90_s"},
        {"query": f"p50:{span}{{*}}", "as": "latency_p50_s"},
        {"query": hits, "as": "requests_per_s"},
        {"query": errors, "as": "errors_per_s"},
        {"formula": "100 * errors / hits", "inputs": {"errors": errors, "hits": hits},
         "as": "error_rate_pct"},
    ]  # fmt: skip


_CONTAINERS: list[dict[str, Any]] = [
    {
        "formula": "100 * used / limit",
        "inputs": {"used": "avg:container.cpu.usage{*}", "limit": "avg:container.cpu.limit{*}"},
        "as": "cpu_usage_pct",
    },
    {"query": "avg:container.memory.usage{*}", "as": "memory_usage_mib", "scale": MIB},
    {"query": "sum:container.restarts{*}", "as": "restarts"},
]


def expand(rule: DatadogMetricRule) -> list[DatadogMetricRule]:
    """`rule` itself, or its preset's rules."""
    if rule.preset is None:
        return [rule]
    bases = _apm(rule.operation) if rule.preset == "apm" else _CONTAINERS
    return [DatadogMetricRule.model_validate(base) for base in bases]
