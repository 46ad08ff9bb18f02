"""What a metric means for fault isolation, read from its name.

Metric names follow the replay/1 convention (snake_case, unit suffix) and the
usual Prometheus/CloudWatch vocabulary. A family says which direction hurts,
how small a move is noise (floors), how strongly a move indicts the service
that emits it (`weight`: a pod's CPU points at the pod, its client-side latency
points at whoever it calls) and which values are physically implausible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from tools.analysis.robust import Direction


@dataclass(frozen=True, slots=True)
class MetricFamily:
    name: str
    direction: Direction
    weight: float
    rel_floor: float
    abs_floor: float = 0.0
    plausible_max: float = float("inf")


def _unit_floor(metric: str, pct: float, seconds: float, default: float) -> float:
    if "_per_" in metric:  # a rate (requests_per_s): counts, not seconds
        return default
    if metric.endswith(("_pct", "_percent")):
        return pct
    if metric.endswith(("_s", "_seconds")):
        return seconds
    if metric.endswith("_ms"):
        return seconds * 1000
    return default


# Order matters: the first pattern that matches names the family.
_RULES: tuple[tuple[str, str, Direction, float, float], ...] = (
    # pattern, family, direction, weight, relative floor
    (r"(restart|oom|killed|crash)", "restarts", "up", 1.0, 0.0),
    # A cache that stops hitting or starts evicting has run out of room.
    (r"(hit_?ratio|hit_?rate)", "cache", "down", 1.0, 0.02),
    (r"evict", "cache", "up", 0.9, 0.2),
    (r"(lock_?wait|locks_?wait|deadlock|lock_?timeout)", "locks", "up", 0.8, 0.2),
    (r"(retrans|packet_loss|dropped|drop_rate)", "packet_loss", "up", 1.0, 0.1),
    (r"^client_.*latency|latency.*client", "client_latency", "up", 0.3, 0.3),
    (r"^node_cpu", "node_cpu", "up", 0.5, 0.1),
    (r"^node_mem", "node_memory", "up", 0.4, 0.05),
    (r"^node_", "node_other", "both", 0.2, 0.25),
    (r"cpu|throttl", "cpu", "up", 1.0, 0.1),
    (r"mem|heap|rss", "memory", "up", 0.9, 0.05),
    (r"(disk|filesystem|inode|volume|_fs_)", "disk", "up", 1.0, 0.05),
    (r"(success|availab|apdex|uptime)", "availability", "down", 1.0, 0.0),
    (r"(error|fault|fail|5xx|exception|reject)", "errors", "up", 1.0, 0.1),
    (r"(latency|duration|response_time|elapsed)", "latency", "up", 1.0, 0.3),
    (r"(gc_|garbage)", "gc", "up", 0.6, 0.2),
    (r"(conn|pool|thread|semaphore|inflight|in_flight)", "saturation", "up", 0.7, 0.1),
    (r"(queue|backlog|lag|depth|pending)", "backlog", "up", 0.8, 0.2),
    (r"(requests|rps|qps|throughput|workload|invocations|ops)", "traffic", "both", 0.4, 0.2),
    (r"(network|bytes|packets)", "network", "both", 0.3, 0.25),
    (r"syscall", "syscall", "both", 0.2, 0.25),
)
_COMPILED: tuple[tuple[re.Pattern[str], str, Direction, float, float], ...] = tuple(
    (re.compile(pattern), family, direction, weight, floor)
    for pattern, family, direction, weight, floor in _RULES
)


@cache
def family_of(metric: str) -> MetricFamily:
    """The family of a metric name; unknown names get a cautious default."""
    name = metric.lower()
    for pattern, family, direction, weight, rel_floor in _COMPILED:
        if pattern.search(name):
            return MetricFamily(
                name=family,
                direction=direction,
                weight=weight,
                rel_floor=rel_floor,
                abs_floor=_abs_floor(family, name),
                plausible_max=_plausible_max(family, name),
            )
    return MetricFamily("other", "both", 0.2, 0.25)


def _abs_floor(family: str, metric: str) -> float:
    """The smallest move that can count, in the metric's own unit: a series that never
    moved in its baseline (zero spread) is judged against this, never against nothing."""
    if family in {"cpu", "node_cpu"} and "millicore" in metric:
        return 25.0
    if family in {"cpu", "node_cpu", "memory", "node_memory", "disk"}:
        return _unit_floor(metric, pct=2.0, seconds=0.0, default=0.0) or _default_floor(metric)
    if family in {"latency", "client_latency"}:
        return _unit_floor(metric, pct=0.0, seconds=0.002, default=0.0) or _default_floor(metric)
    if family in {"errors", "availability"}:
        return _unit_floor(metric, pct=0.5, seconds=0.0, default=1.0)
    if family == "restarts":
        # One restart where the baseline had none is news (z = 5): an OOM kill, a crash.
        return 0.2
    return _default_floor(metric)


def _default_floor(metric: str) -> float:
    """A unit's smallest meaningful step: half a percent, 2 ms, a kibibyte, one event
    (one a minute, for a rate per second)."""
    if metric.endswith(("_bytes", "_bytes_total")):
        return 1024.0
    if metric.endswith(("_per_s", "_per_second", "_ops", "_rps", "_qps")):
        return 1.0 / 60.0
    if metric.endswith(("_mib", "_mb")):
        return 1.0
    return _unit_floor(metric, pct=0.5, seconds=0.002, default=1.0)


def _plausible_max(family: str, metric: str) -> float:
    """Values above this are collection artefacts, not faults (e.g. hour-long RPCs)."""
    if family in {"latency", "client_latency"}:
        return _unit_floor(metric, pct=float("inf"), seconds=300.0, default=float("inf"))
    if metric.endswith("_pct") and family in {"cpu", "memory", "availability", "disk"}:
        return 10_000.0
    return float("inf")


EDGE_METRIC = re.compile(r"^(to|from)_(?P<peer>.+?)_(?P<rest>(latency|error|request|success).*)$")


def edge_peer(metric: str, services: set[str]) -> tuple[str, str] | None:
    """For per-call-edge metrics (`to_<callee>_latency_p50_s` on the caller,
    `from_<caller>_...` on the callee) return (direction, peer service)."""
    match = EDGE_METRIC.match(metric)
    if match and match.group("peer") in services:
        return match.group(1), match.group("peer")
    return None
