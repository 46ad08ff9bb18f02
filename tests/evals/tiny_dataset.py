"""A tiny replay/1 dataset with known answers, written into a test's tmp folder.

Three services (cart, db, frontend) scraped every minute, each a second or
two apart; three cases, each a six-minute fault in a different service: its
CPU and latency jump and it logs ERROR lines three times a minute, while the
frontend, which calls everything, logs one ERROR a minute and slows a little.
The faults are 70 minutes apart, so each case's 60-minute window holds only
its own fault. Case 3's alert comes from CloudWatch, the others' from
Alertmanager. Everything is deterministic (fixed seed, fixed clock).
"""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
MINUTES = 240
SERVICES = ("cart", "db", "frontend")
INSTANCES = {"cart": "cart-7d9f-abcde", "db": "db-0", "frontend": "frontend-66c-xyz12"}
SCRAPE_OFFSET_S = {"cart": 0, "db": 1, "frontend": 2}
FAULT_MINUTES = 6
ALERT_AFTER = timedelta(minutes=1)
NOW_AFTER = timedelta(minutes=4)


@dataclass(frozen=True)
class Fault:
    case_id: str
    service: str
    fault_type: str
    start_min: int
    source: str
    severity: str | None = None
    page_team: str | None = None

    @property
    def start(self) -> datetime:
        return T0 + timedelta(minutes=self.start_min)

    @property
    def alert_at(self) -> datetime:
        return self.start + ALERT_AFTER

    @property
    def now(self) -> datetime:
        return self.start + NOW_AFTER

    def active(self, t: datetime) -> bool:
        return self.start <= t < self.start + timedelta(minutes=FAULT_MINUTES)


FAULTS = (
    Fault("tiny-01", "cart", "cpu", 70, "alertmanager", severity="SEV2", page_team="shop"),
    Fault("tiny-02", "db", "database", 140, "alertmanager"),
    Fault("tiny-03", "frontend", "code-exception", 210, "cloudwatch"),
)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def alertmanager_payload(fault: Fault) -> dict[str, Any]:
    labels = {"alertname": "ShopAnomaly", "severity": "warning", "system": "tiny-shop"}
    return {
        "version": "4",
        "status": "firing",
        "receiver": "triage",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": "Anomaly detected in tiny-shop"},
                "startsAt": iso(fault.alert_at),
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": f"fp-{fault.case_id}",
            }
        ],
    }


def cloudwatch_payload(fault: Fault) -> dict[str, Any]:
    stamp = fault.alert_at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return {
        "version": "0",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "resources": ["arn:aws:cloudwatch:us-west-2:123456789012:alarm:shop-latency"],
        "detail": {
            "alarmName": "shop-latency",
            "state": {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": stamp},
            "configuration": {
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {
                                "namespace": "Shop",
                                "name": "latency",
                                "dimensions": {"Service": "frontend"},
                            },
                            "period": 60,
                            "stat": "Average",
                        },
                    }
                ]
            },
        },
    }


def write_tiny_dataset(root: Path, with_truth: bool = True) -> Path:
    """Write the dataset into `root` (created) and return it."""
    rng = np.random.default_rng(7)
    (root / "metrics").mkdir(parents=True)
    (root / "logs").mkdir()
    (root / "dataset.json").write_text(
        json.dumps(
            {
                "format": "replay/1",
                "name": "tiny-shop",
                "system": "tiny-shop",
                "description": "test fixture",
                "license": "Apache-2.0",
            }
        )
    )
    metric_rows = ["ts,service,instance,metric,value"]
    log_lines: list[str] = []
    for minute in range(MINUTES):
        for service in SERVICES:
            t = T0 + timedelta(minutes=minute, seconds=SCRAPE_OFFSET_S[service])
            own = any(f.active(t) and f.service == service for f in FAULTS)
            anywhere = any(f.active(t) for f in FAULTS)
            cpu = 20 + rng.normal(0, 1) + (50 if own else 0)
            latency = 0.1 + rng.normal(0, 0.005) + (0.5 if own else 0)
            if service == "frontend" and anywhere and not own:
                latency += 0.03
            instance = INSTANCES[service]
            metric_rows.append(f"{iso(t)},{service},{instance},cpu_usage_pct,{cpu:.4f}")
            metric_rows.append(f"{iso(t)},{service},{instance},latency_p90_s,{latency:.5f}")
            log = {"ts": iso(t), "service": service, "instance": instance}
            log_lines.append(json.dumps({**log, "level": "INFO", "message": "request handled"}))
            errors = 3 if own else (1 if service == "frontend" and anywhere else 0)
            log_lines += [
                json.dumps({**log, "level": "ERROR", "message": f"upstream call failed #{i}"})
                for i in range(errors)
            ]
    (root / "metrics" / "part-0.csv").write_text("\n".join(metric_rows) + "\n")
    with gzip.open(root / "logs" / "part-0.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(log_lines) + "\n")

    cases = []
    truth = []
    for f in FAULTS:
        payload = alertmanager_payload(f) if f.source == "alertmanager" else cloudwatch_payload(f)
        cases.append(
            {
                "id": f.case_id,
                "title": "Anomaly detected in tiny-shop",
                "now": iso(f.now),
                "alert": {"source": f.source, "payload": payload},
            }
        )
        truth.append(
            {
                "id": f.case_id,
                "root_cause": {"service": f.service, "fault_type": f.fault_type},
                "fault_start": iso(f.start),
                "severity": f.severity,
                "page_team": f.page_team,
            }
        )
    (root / "cases.jsonl").write_text("\n".join(json.dumps(c) for c in cases) + "\n")
    if with_truth:
        (root / "truth.jsonl").write_text("\n".join(json.dumps(t) for t in truth) + "\n")
    return root


def blind_copy(source: Path, target: Path) -> Path:
    """The same dataset without truth.jsonl."""
    shutil.copytree(source, target)
    (target / "truth.jsonl").unlink()
    return target
