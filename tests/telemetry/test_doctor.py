"""`triage doctor`: what works, and what is missing, named precisely."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

from tests.telemetry.conftest import Shifted, cloudwatch_config, datadog_config, prometheus_config
from tests.telemetry.support.datadog import FakeDatadog
from tests.telemetry.support.servers import NO_PROMETHEUS, PROMETHEUS, PROMTOOL
from tools.telemetry.config import CloudWatchConfig, TelemetryConfig
from tools.telemetry.doctor import Check, diagnose, explain


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {f"{c.store}:{c.name}": c for c in checks}


def test_cloudwatch_checks_pass_against_moto(loaded_moto: str, shifted: Shifted) -> None:
    config = TelemetryConfig(backend="cloudwatch", cloudwatch=cloudwatch_config(loaded_moto))
    checks = by_name(diagnose(config, shifted.case.now))
    for name in ("identity", "log group /ecs/", "filter log events", "list metrics",
                 "get metric data"):  # fmt: skip
        assert checks[f"cloudwatch:{name}"].status == "ok", checks[f"cloudwatch:{name}"]
    assert checks["cloudwatch:list metrics"].detail == "71 series"
    assert checks["cloudwatch:identity"].detail.startswith("arn:aws:sts::")
    assert "GetCallerIdentity" in checks["cloudwatch:queries"].detail


def test_a_missing_log_group_is_named(loaded_moto: str, shifted: Shifted) -> None:
    raw = cloudwatch_config(loaded_moto).model_dump(by_alias=True, exclude_defaults=True)
    raw["logs"]["groups"].append({"name": "/ecs/ghost"})
    config = TelemetryConfig(backend="cloudwatch", cloudwatch=CloudWatchConfig.model_validate(raw))
    check = by_name(diagnose(config, shifted.case.now))["cloudwatch:log group /ecs/ghost"]
    assert check.status == "fail"
    assert check.detail == "log group /ecs/ghost does not exist in this account and region"


@pytest.mark.parametrize(
    ("error", "service", "expected"),
    [
        (ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}},
                     "FilterLogEvents"), "logs", "missing IAM permission logs:FilterLogEvents"),
        (ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetMetricData"),
         "cloudwatch", "missing IAM permission cloudwatch:GetMetricData"),
        (ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "AssumeRole"),
         "sts", "missing IAM permission sts:AssumeRole on arn:aws:iam::1:role/read"),
        (NoCredentialsError(), "sts", "no AWS credentials"),
        (NoRegionError(), "logs", "no region"),
    ],
)  # fmt: skip
def test_failures_say_what_to_grant_or_set(error: Exception, service: str, expected: str) -> None:
    config = CloudWatchConfig(role_arn="arn:aws:iam::1:role/read")
    assert explain(error, service, config).startswith(expected)


def test_an_unreachable_prometheus_names_its_url() -> None:
    config = TelemetryConfig.model_validate(
        {"backend": "prometheus",
         "prometheus": {"url": "http://127.0.0.1:9", "timeout_s": 2,
                        "metrics": [{"match": '{service!=""}'}]}}
    )  # fmt: skip
    check = by_name(diagnose(config))["prometheus:ready"]
    assert check.status == "fail"
    assert "http://127.0.0.1:9/-/ready" in check.detail


def test_a_missing_replay_dataset_fails(tmp_path: Path) -> None:
    check = by_name(diagnose(TelemetryConfig(path=tmp_path / "nowhere")))["replay:dataset"]
    assert check.status == "fail" and "nowhere" in check.detail


@pytest.mark.skipif(PROMETHEUS is None or PROMTOOL is None, reason=NO_PROMETHEUS)
def test_prometheus_checks_pass(prometheus: str, shifted: Shifted) -> None:
    config = TelemetryConfig(backend="prometheus", prometheus=prometheus_config(prometheus))
    checks = by_name(diagnose(config, shifted.case.now))
    assert checks["prometheus:ready"].status == "ok"
    assert checks['prometheus:metric {service!=""}'].detail == "7 services"
    later = by_name(diagnose(config))  # now: the dataset is two days old
    assert later['prometheus:metric {service!=""}'].status == "warn"


def doctor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", "doctor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )


def write_config(path: Path, telemetry: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"telemetry": telemetry}), encoding="utf-8")
    return path


def test_the_doctor_command(loaded_moto: str, shifted: Shifted, tmp_path: Path) -> None:
    cloudwatch = cloudwatch_config(loaded_moto).model_dump(by_alias=True, exclude_defaults=True)
    good = write_config(tmp_path / "good.yaml", {"backend": "cloudwatch", "cloudwatch": cloudwatch})
    done = doctor(good, "--json", "--at", shifted.case.now.isoformat())
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert {line["status"] for line in lines} == {"ok"}
    cloudwatch["logs"]["groups"].append({"name": "/ecs/ghost"})
    bad = write_config(tmp_path / "bad.yaml", {"backend": "cloudwatch", "cloudwatch": cloudwatch})
    done = doctor(bad)
    assert done.returncode == 1 and "FAIL" in done.stdout and "ghost" in done.stdout
    broken = write_config(tmp_path / "broken.yaml", {"backend": "prometheus"})
    done = doctor(broken)
    assert done.returncode == 2 and "telemetry" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"langauge": "ja"}, "langauge: Extra inputs are not permitted"),
        ({"policy": "missing-policy.yaml"}, "missing-policy.yaml: no such file"),
    ],
)
def test_a_config_other_commands_refuse_fails_the_doctor_in_one_line(
    tmp_path: Path, settings: dict[str, str], reason: str
) -> None:
    """The doctor checks the whole config, not only `telemetry:`: a typo'd key or a
    missing policy file is a failed check, not a clean bill of health."""
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump({**settings, "telemetry": {"path": str(dataset)}}), "utf-8")
    done = doctor(path, "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    checks = {(c["store"], c["check"]): c for c in map(json.loads, done.stdout.splitlines())}
    config = checks["triage", "config"]
    assert config["status"] == "fail" and reason in config["detail"]
    assert "\n" not in config["detail"] and "Traceback" not in done.stderr


def test_the_doctor_passes_the_config_every_command_accepts(tmp_path: Path) -> None:
    done = doctor(write_config(tmp_path / "triage.yaml", {"backend": "replay"}), "--json")
    checks = {(c["store"], c["check"]): c for c in map(json.loads, done.stdout.splitlines())}
    assert checks["triage", "config"]["status"] == "ok", checks


# -- Datadog --------------------------------------------------------------------------


def test_datadog_checks_pass_against_the_fake(datadog: FakeDatadog) -> None:
    config = TelemetryConfig(backend="datadog", datadog=datadog_config(datadog.url))
    checks = by_name(diagnose(config, datetime.fromisoformat("2024-03-01T12:05:00+00:00")))
    for name in ("api key", "metrics", "logs", "apm spans", "service map", "events", "siem"):
        assert checks[f"datadog:{name}"].status == "ok", checks[f"datadog:{name}"]
    assert checks["datadog:metrics"].detail == "71 series, last 10 min"
    assert checks["datadog:service map"].detail == "7 services"


def test_datadog_names_the_missing_scope_and_key(
    datadog: FakeDatadog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(datadog.scopes, "narrow-key", frozenset({"timeseries_query"}))
    monkeypatch.setenv("DD_APP_KEY", "narrow-key")
    config = TelemetryConfig(backend="datadog", datadog=datadog_config(datadog.url))
    checks = by_name(diagnose(config, datetime.fromisoformat("2024-03-01T12:05:00+00:00")))
    assert checks["datadog:metrics"].status == "fail"  # discovery needs metrics_read
    assert "lacks scope metrics_read" in checks["datadog:metrics"].detail
    assert "lacks scope logs_read_data" in checks["datadog:logs"].detail
    assert "lacks scope security_monitoring_signals_read" in checks["datadog:siem"].detail
    monkeypatch.setenv("DD_API_KEY", "wrong")
    (key,) = [c for c in diagnose(config) if c.name == "api key"]
    assert key.status == "fail" and "the API key is not valid" in key.detail
    monkeypatch.delenv("DD_APP_KEY")
    (keys,) = [c for c in diagnose(config) if c.store == "datadog"]
    assert (keys.name, keys.status, keys.detail) == ("keys", "fail", "no key in DD_APP_KEY")
