"""The `telemetry:` section: routes per kind, store sections, presets, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from agent.config import load_config
from tools.telemetry.cloudwatch.presets import expand
from tools.telemetry.config import (
    CloudWatchConfig,
    CloudWatchMetricRule,
    TelemetryConfig,
    TelemetryConfigError,
    load_telemetry_config,
)
from tools.telemetry.datadog.presets import expand as dd_expand
from tools.telemetry.mapping import ServiceNaming, service_in_name, snake_case

DOCS = Path(__file__).resolve().parents[2] / "docs" / "telemetry.md"
PROM = {"url": "http://127.0.0.1:9", "metrics": [{"match": '{service!=""}'}]}
CW = {"region": "eu-west-1", "logs": {"groups": [{"prefix": "/ecs/"}]}}


def test_the_default_is_the_replay_store_for_everything() -> None:
    config = TelemetryConfig()
    assert config.routes() == dict.fromkeys(
        ("metrics", "logs", "traces", "changes", "topology"), "replay"
    )
    assert config.replay_path() is None


def test_kinds_route_to_their_own_store() -> None:
    config = TelemetryConfig.model_validate(
        {"backend": "cloudwatch", "metrics": "prometheus", "traces": "none",
         "cloudwatch": CW, "prometheus": PROM}
    )  # fmt: skip
    assert config.routes() == {
        "metrics": "prometheus",
        "logs": "cloudwatch",
        "changes": "cloudwatch",
        "topology": "cloudwatch",
    }


def test_a_store_that_cannot_hold_a_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="prometheus holds no logs"):
        TelemetryConfig.model_validate({"logs": "prometheus", "prometheus": PROM})


def test_a_routed_store_needs_its_section() -> None:
    with pytest.raises(ValidationError, match="cloudwatch is routed to but has no"):
        TelemetryConfig.model_validate({"backend": "cloudwatch"})


def test_the_prometheus_default_serves_metrics_only() -> None:
    config = TelemetryConfig.model_validate({"backend": "prometheus", "prometheus": PROM})
    assert config.routes() == {"metrics": "prometheus"}


def test_cloudwatch_reads_only_what_is_routed_to_it() -> None:
    cw = CloudWatchConfig.model_validate(
        CW | {"metrics": [{"preset": "ecs"}], "changes": {}, "xray": {"traces": True}}
    )
    assert cw.kinds() == {"logs", "metrics", "changes", "topology", "traces"}
    assert cw.only({"logs", "changes"}).kinds() == {"logs", "changes"}


def test_the_agent_config_carries_the_telemetry_section(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump({"telemetry": {"backend": "prometheus", "prometheus": PROM}}))
    assert load_config(path).telemetry.routes() == {"metrics": "prometheus"}
    assert load_telemetry_config(path).prometheus is not None


def test_a_bad_section_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump({"telemetry": {"prometheus": {"url": "x", "metrics": []}}}))
    with pytest.raises(TelemetryConfigError, match=r"telemetry\.prometheus\.metrics"):
        load_telemetry_config(path)


def test_metric_rules_check_themselves() -> None:
    with pytest.raises(ValidationError, match="namespace"):
        CloudWatchMetricRule.model_validate({"metric_name": "CPUUtilization"})
    with pytest.raises(ValidationError, match="expression"):
        CloudWatchMetricRule.model_validate(
            {"namespace": "N", "service_dimension": "S", "expression": "a / b"}
        )
    with pytest.raises(ValidationError, match="period_s"):
        CloudWatchMetricRule.model_validate(
            {"namespace": "N", "service_dimension": "S", "period_s": 90}
        )


def test_a_preset_expands_with_the_rule_s_own_settings() -> None:
    rule = CloudWatchMetricRule.model_validate(
        {"preset": "alb", "dimensions": {"LoadBalancer": "app/shop/123"}, "period_s": 300}
    )
    rules = expand(rule)
    names = [r.as_ for r in rules]
    assert names == ["latency_p99_s", "latency_p90_s", "latency_p50_s", "requests_per_s",
                     "error_rate_pct"]  # fmt: skip
    assert all(r.dimensions == {"LoadBalancer": "app/shop/123"} for r in rules)
    assert all(r.period_s == 300 for r in rules)
    assert rules[0].naming.resolve("targetgroup/payment/9f3c") == "payment"


def test_service_naming() -> None:
    assert ServiceNaming().resolve("payment") == "payment"
    assert ServiceNaming(map={"pay-v2": "payment"}).resolve("pay-v2") == "payment"
    pattern = ServiceNaming(pattern=r"^/ecs/(?P<service>[^/]+)", strict=True)
    assert pattern.resolve("/ecs/cart/x") == "cart"
    assert pattern.resolve("/aws/lambda/x") is None
    assert service_in_name("payment-task-role", ["pay", "payment", "cart"]) == "payment"
    assert service_in_name("ts-order-service-prod", ["ts-order-service"]) == "ts-order-service"
    assert service_in_name("repayments", ["payment"]) is None
    assert snake_case("TargetResponseTime") == "target_response_time"
    assert snake_case("HTTPCode_Target_5XX_Count") == "http_code_target_5xx_count"
    assert snake_case("cpu_usage_pct") == "cpu_usage_pct"


def test_the_documented_examples_are_valid() -> None:
    """Every ```yaml block of docs/telemetry.md with a `telemetry:` key validates."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    checked = 0
    for block in blocks:
        raw = yaml.safe_load(block)
        if isinstance(raw, dict) and "telemetry" in raw:
            TelemetryConfig.model_validate(raw["telemetry"])
            checked += 1
    assert checked >= 2


def test_datadog_reads_only_what_is_routed_to_it(tmp_path: Path) -> None:
    config = TelemetryConfig.model_validate(
        {"backend": "datadog", "metrics": "prometheus", "prometheus": PROM,
         "datadog": {"env": "prod", "metrics": [{"preset": "apm"}], "logs": {}, "apm": {},
                     "siem": {}}}
    )  # fmt: skip
    assert config.routes() == {"metrics": "prometheus", "logs": "datadog", "traces": "datadog",
                               "changes": "datadog", "topology": "datadog"}  # fmt: skip
    assert config.datadog is not None
    only = config.datadog.only({"logs", "topology"})
    assert only.kinds() == {"logs", "topology"} and only.siem is not None
    names = [r.as_ for r in dd_expand(config.datadog.metrics[0])]
    assert names == ["latency_p99_s", "latency_p90_s", "latency_p50_s", "requests_per_s",
                     "errors_per_s", "error_rate_pct"]  # fmt: skip


def test_a_bad_datadog_rule_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    rule = {"query": "avg:system.cpu.user{*} by {host}", "as": "cpu_usage_pct"}
    path.write_text(yaml.safe_dump({"telemetry": {"backend": "datadog",
                                                  "datadog": {"metrics": [rule]}}}))  # fmt: skip
    with pytest.raises(TelemetryConfigError, match=r"telemetry\.datadog\.metrics\.0: .*leave out"):
        load_telemetry_config(path)
