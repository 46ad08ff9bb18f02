"""`triage run` against live stores: Prometheus metrics and CloudWatch (moto) logs,
configured in triage.yaml, give the answer the replay files give."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.telemetry.conftest import Shifted, cloudwatch_config, prometheus_config
from tests.telemetry.support.servers import NO_PROMETHEUS, PROMETHEUS, PROMTOOL


def triage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )


def run_json(alert: Path, shifted: Shifted, home: Path, *args: str) -> dict[str, Any]:
    done = triage(
        "run", str(alert), "--now", shifted.case.now.isoformat(), "--json",
        "--data-dir", str(home), *args,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.skipif(PROMETHEUS is None or PROMTOOL is None, reason=NO_PROMETHEUS)
def test_run_with_prometheus_metrics_and_cloudwatch_logs(
    loaded_moto: str, prometheus: str, shifted: Shifted, tmp_path: Path
) -> None:
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps(shifted.case.alert.payload), encoding="utf-8")
    telemetry = {
        "backend": "cloudwatch",
        "metrics": "prometheus",
        "topology_file": str(shifted.root / "topology.json"),
        "cloudwatch": cloudwatch_config(loaded_moto).model_dump(
            by_alias=True, exclude_defaults=True
        ),
        "prometheus": prometheus_config(prometheus).model_dump(
            by_alias=True, exclude_defaults=True
        ),
    }
    config = tmp_path / "triage.yaml"
    config.write_text(yaml.safe_dump({"telemetry": telemetry}), encoding="utf-8")
    live = run_json(alert, shifted, tmp_path / "live", "--config", str(config))
    assert live["ranking"][0]["service"] == "payment"
    replay_only = tmp_path / "replay.yaml"
    replay_only.write_text(
        yaml.safe_dump({"telemetry": {"path": str(shifted.root), "traces": "none",
                                      "changes": "none"}}),
        encoding="utf-8",
    )  # fmt: skip
    files = run_json(alert, shifted, tmp_path / "files", "--config", str(replay_only))
    assert [r["service"] for r in live["ranking"]] == [r["service"] for r in files["ranking"]]


def test_an_unreachable_store_degrades_the_triage_and_says_so(
    aws_env: None, shifted: Shifted, tmp_path: Path
) -> None:
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps(shifted.case.alert.payload), encoding="utf-8")
    config = tmp_path / "triage.yaml"
    config.write_text(
        yaml.safe_dump({"telemetry": {
            "backend": "prometheus",
            "prometheus": {"url": "http://127.0.0.1:9", "timeout_s": 2,
                           "metrics": [{"match": '{service!=""}'}]}}}),
        encoding="utf-8",
    )  # fmt: skip
    done = triage(
        "run", str(alert), "--json", "--config", str(config), "--data-dir", str(tmp_path / "h")
    )
    assert done.returncode == 0, done.stderr
    assert "warning: metrics unavailable: Prometheus at http://127.0.0.1:9 unreachable" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr
    result = json.loads(done.stdout)
    assert result["verdict"] == "inconclusive" and list(result["telemetry_gaps"]) == ["metrics"]
    assert result["page_team"] and any(d["kind"] == "page" for d in result["drafts"])
