"""Reading a simulated case's telemetry the way a responder would: a metric
over time, before and after the onset, a service's log records."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime

import numpy as np

from evals.simulator.case import CaseOutput
from evals.simulator.timeutil import epoch


def series(
    output: CaseOutput, service: str, metric: str, instance: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(ts, value) of a metric summed over the service's pods (or one pod;
    "" is the service-level series)."""
    by_ts: dict[float, float] = defaultdict(float)
    for ts, line in output.metrics:
        _, svc, inst, name, value = line.split(",")
        if svc == service and name == metric and (instance is None or inst == instance):
            by_ts[ts] += float(value)
    keys = np.array(sorted(by_ts))
    return keys, np.array([by_ts[k] for k in keys])


def by_instance(output: CaseOutput, service: str, metric: str) -> dict[str, dict[float, float]]:
    """Each pod's samples of a metric: {instance: {ts: value}}."""
    out: dict[str, dict[float, float]] = defaultdict(dict)
    for ts, line in output.metrics:
        _, svc, inst, name, value = line.split(",")
        if svc == service and name == metric and inst:
            out[inst][ts] = float(value)
    return out


def before_after(
    output: CaseOutput, service: str, metric: str, instance: str | None = None
) -> tuple[float, float]:
    """Median before the onset, peak after it."""
    ts, values = series(output, service, metric, instance)
    start = onset(output)
    return float(np.median(values[ts < start - 120])), float(np.max(values[ts > start]))


def stamp(text: str) -> float:
    return epoch(datetime.fromisoformat(text.replace("Z", "+00:00")))


def onset(output: CaseOutput) -> float:
    return stamp(output.truth["fault_start"])


def logs_of(output: CaseOutput, service: str, after: bool = True) -> list[dict[str, object]]:
    """The service's log records from the onset on (or before it)."""
    start = onset(output)
    return [
        record
        for ts, line in output.logs
        if (record := json.loads(line))["service"] == service and (ts >= start) == after
    ]
