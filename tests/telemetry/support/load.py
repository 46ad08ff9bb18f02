"""Put a replay dataset's metrics and logs into moto CloudWatch, and its metrics into
OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`.

This is the estate side of the tests: it writes with plain boto3 clients, as
the services being triaged would, never through the backends' guarded clients.
"""

from __future__ import annotations

import json
import math
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from tools.telemetry.models import from_epoch
from tools.telemetry.replay.backend import ReplayDataset

NAMESPACE = "Replay"
LOG_PREFIX = "/ecs/"
PUT_METRICS_BATCH = 1000
PUT_LOGS_BATCH = 5000


def metric_rows(dataset: ReplayDataset) -> list[tuple[float, str, str, str, float]]:
    return (
        dataset.store.cursor()
        .execute(
            "SELECT t, service, instance, metric, coalesce(value, 'nan'::DOUBLE) FROM metrics"
            " ORDER BY metric, service, instance, t"
        )
        .fetchall()
    )


def load_cloudwatch(dataset: ReplayDataset, endpoint: str, region: str) -> dict[str, int]:
    """Metrics as custom metrics (dimension Instance, or Service for service-level series;
    the service is the instance name less its `-N` suffix), logs as JSON lines in
    /ecs/<service>, one stream per instance. NaN gaps cannot be stored: they are left out."""
    cloudwatch = boto3.client(
        "cloudwatch",
        endpoint_url=endpoint,
        region_name=region,
        # moto cannot read gzipped PutMetricData bodies
        config=Config(disable_request_compression=True),
    )
    data: list[dict[str, Any]] = []
    for t, service, instance, metric, value in metric_rows(dataset):
        if math.isnan(value):
            continue
        # One dimension a metric: moto's ListMetrics cannot deduplicate more.
        dims = [
            {"Name": "Instance", "Value": instance}
            if instance
            else {"Name": "Service", "Value": service}
        ]
        data.append(
            {
                "MetricName": metric,
                "Dimensions": dims,
                "Timestamp": from_epoch(t),
                "Value": value,
            }
        )
    for i in range(0, len(data), PUT_METRICS_BATCH):
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[i : i + PUT_METRICS_BATCH])
    return {"metric_points": len(data), "log_lines": _load_logs(dataset, endpoint, region)}


def _load_logs(dataset: ReplayDataset, endpoint: str, region: str) -> int:
    logs = boto3.client("logs", endpoint_url=endpoint, region_name=region)
    rows = (
        dataset.store.cursor()
        .execute("SELECT t, service, instance, level, message, trace_id FROM logs ORDER BY t")
        .fetchall()
    )
    streams: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for t, service, instance, level, message, trace_id in rows:
        line: dict[str, Any] = {"level": level, "message": message, "instance": instance}
        if trace_id:
            line["trace_id"] = trace_id
        event = {"timestamp": math.floor(t * 1000), "message": json.dumps(line)}
        streams[(f"{LOG_PREFIX}{service}", instance or "default")].append(event)
    for group in sorted({g for g, _ in streams}):
        logs.create_log_group(logGroupName=group)
    for (group, stream), events in sorted(streams.items()):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        for i in range(0, len(events), PUT_LOGS_BATCH):
            answer = logs.put_log_events(
                logGroupName=group, logStreamName=stream, logEvents=events[i : i + PUT_LOGS_BATCH]
            )
            assert not answer.get("rejectedLogEventsInfo"), answer["rejectedLogEventsInfo"]
    return len(rows)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_openmetrics(dataset: ReplayDataset, path: Path) -> int:
    """The dataset's metrics as OpenMetrics text: one gauge family per metric, labels
    service and instance (left out when empty), NaN gaps kept as NaN samples."""
    lines: list[str] = []
    current = None
    rows = metric_rows(dataset)
    for t, service, instance, metric, value in rows:
        if metric != current:
            lines.append(f"# TYPE {metric} gauge")
            current = metric
        labels = f'service="{_label(service)}"'
        if instance:
            labels += f',instance="{_label(instance)}"'
        number = "NaN" if math.isnan(value) else repr(float(value))
        lines.append(f"{metric}{{{labels}}} {number} {t:.3f}")
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(rows)


def prometheus_blocks(dataset: ReplayDataset, promtool: str, folder: Path) -> Path:
    """TSDB blocks holding the dataset's metrics, ready for `--storage.tsdb.path`."""
    text = folder / "metrics.om"
    write_openmetrics(dataset, text)
    data = folder / "data"
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(text), str(data)],
        check=True,
        capture_output=True,
    )
    return data
