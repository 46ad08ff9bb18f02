"""A small replay/1 dataset with one planted fault, written into a folder for tests.

The estate is a shop: frontend -> checkout -> payment -> postgres, checkout ->
cart -> redis, frontend -> catalog -> redis. At `fault_start` the fault
service (payment by default) goes bad after a deploy: its CPU, latency and
error rate jump, it logs a new ERROR template, its spans' self time grows and
some fail; its callers' latency rises with it. The case's `now` is a few
minutes into the fault and the data runs on past it, with markers that only
exist after `now`, so tests can prove nothing from the future leaks.

Everything is deterministic (fixed seed, fixed clock), and the files cover
the format's variants: gzipped and plain partitions, a metric gap, lines with
no level, service-level series, secrets to redact.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import numpy as np

from tools.telemetry.replay.backend import ReplayBackend, ReplayDataset

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
STEP = timedelta(minutes=1)
TRACE_EVERY = timedelta(seconds=20)
FUTURE_MARKER = "FUTURE_MARKER"
FUTURE_CHANGE_ID = "chg-0004"
CULPRIT_CHANGE_ID = "chg-0003"
NEW_ERROR = "Timeout acquiring connection from pool payments-db after 5000 ms"
SECRETS_AT = T0 + timedelta(minutes=30)
GAP = ("catalog", "memory_usage_mib", T0 + timedelta(minutes=30))

# name, kind, team, tier, callees
SERVICES: tuple[tuple[str, str, str, int, tuple[str, ...]], ...] = (
    ("frontend", "frontend", "web", 1, ("checkout", "catalog")),
    ("checkout", "service", "orders", 1, ("payment", "cart")),
    ("payment", "service", "payments", 1, ("postgres",)),
    ("cart", "service", "orders", 2, ("redis",)),
    ("catalog", "service", "catalog", 2, ("redis",)),
    ("postgres", "database", "data", 1, ()),
    ("redis", "cache", "data", 2, ()),
)
# Normal level per service of each per-instance metric.
BASE = {
    "cpu_usage_pct": {"frontend": 30, "checkout": 25, "payment": 22, "cart": 15, "catalog": 18,
                      "postgres": 40, "redis": 10},
    "memory_usage_mib": {"frontend": 512, "checkout": 400, "payment": 380, "cart": 256,
                         "catalog": 300, "postgres": 2048, "redis": 128},
    "latency_p99_s": {"frontend": 0.12, "checkout": 0.08, "payment": 0.04, "cart": 0.01,
                      "catalog": 0.03, "postgres": 0.005, "redis": 0.001},
    "requests_per_s": {"frontend": 120, "checkout": 40, "payment": 40, "cart": 40,
                       "catalog": 80, "postgres": 60, "redis": 150},
    "error_rate_pct": dict.fromkeys(("frontend", "checkout", "payment", "cart", "catalog",
                                     "postgres", "redis"), 0.2),
}  # fmt: skip
# During the fault: metric -> service -> multiplier (the fault service is the first key's).
FAULT_EFFECT = {
    "cpu_usage_pct": {"fault": 3.8},
    "latency_p99_s": {"fault": 22.0, "callers": 9.0},
    "error_rate_pct": {"fault": 40.0, "callers": 5.0},
}


@dataclass(frozen=True)
class SyntheticSpec:
    """What to write; the defaults are the dataset every tool test uses."""

    name: str = "synthetic-shop"
    fault_service: str = "payment"
    fault_start: datetime = T0 + timedelta(hours=2)
    now: datetime = T0 + timedelta(hours=2, minutes=5)
    end: datetime = T0 + timedelta(hours=3)
    topology: bool = True
    seed: int = 7

    @property
    def fault_callers(self) -> set[str]:
        """Services that call the fault service, directly or not (they feel it too)."""
        callers = {n for n, *_, callees in SERVICES if self.fault_service in callees}
        while True:
            more = {n for n, *_, callees in SERVICES if set(callees) & callers} - callers
            if not more:
                return callers
            callers |= more


@dataclass(frozen=True)
class SyntheticDataset:
    root: Path
    spec: SyntheticSpec = field(default_factory=SyntheticSpec)

    @property
    def case_id(self) -> str:
        return "syn-0001"

    def open(self) -> ReplayDataset:
        return ReplayDataset.open(self.root)

    def backend(self, now: datetime | None = None) -> ReplayBackend:
        """The dataset as of the case's `now` (or another moment)."""
        return self.open().at(now or self.spec.now)


def ts(moment: datetime) -> str:
    """RFC 3339 with Z, milliseconds only when needed."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return text.replace(".000Z", "Z")


def instances(service: str) -> list[str]:
    return [f"{service}-0", f"{service}-1"]


def write_dataset(root: Path, spec: SyntheticSpec | None = None) -> SyntheticDataset:
    """Write the dataset into `root` (created) and describe it."""
    spec = spec or SyntheticSpec()
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    _write_json(root / "dataset.json", _info(spec))
    if spec.topology:
        _write_json(root / "topology.json", _topology())
    _write_partitions(root / "metrics", ".csv", _metric_rows(spec, rng), _METRIC_HEADER)
    _write_partitions(root / "logs", ".jsonl", _log_rows(spec), None)
    _write_partitions(root / "traces", ".csv", _span_rows(spec), _SPAN_HEADER)
    _write_lines(root / "changes.jsonl", _changes(spec))
    _write_lines(root / "cases.jsonl", [_case(spec)])
    _write_lines(root / "truth.jsonl", [_truth(spec)])
    return SyntheticDataset(root=root, spec=spec)


# -- files ----------------------------------------------------------------------------

_METRIC_HEADER = ("ts", "service", "instance", "metric", "value")
_SPAN_HEADER = (
    "ts", "trace_id", "span_id", "parent_span_id", "service", "instance", "operation",
    "duration_ms", "status",
)  # fmt: skip


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2), encoding="utf-8")


def _write_lines(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _write_partitions(
    folder: Path, suffix: str, rows: Iterator[tuple[datetime, Any]], header: tuple[str, ...] | None
) -> None:
    """One file per hour; the first hour gzipped, the rest plain (the format allows both)."""
    folder.mkdir(exist_ok=True)
    by_hour: dict[str, list[Any]] = {}
    for moment, row in rows:
        by_hour.setdefault(moment.strftime("%Y-%m-%dT%H"), []).append(row)
    for i, (hour, hour_rows) in enumerate(sorted(by_hour.items())):
        name = f"{hour}{suffix}" + (".gz" if i == 0 else "")
        with _open(folder / name) as handle:
            _dump(handle, hour_rows, header)


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "wt", encoding="utf-8", newline="")
    return path.open("w", encoding="utf-8", newline="")


def _dump(handle: IO[str], rows: list[Any], header: tuple[str, ...] | None) -> None:
    if header is None:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
        return
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


# -- content --------------------------------------------------------------------------


def _info(spec: SyntheticSpec) -> dict[str, Any]:
    return {
        "format": "replay/1",
        "name": spec.name,
        "system": "synthetic-shop",
        "description": "Synthetic test estate with one planted fault.",
        "source": "tests/support/synthetic.py",
        "license": "Apache-2.0",
        "time_range": [ts(T0), ts(spec.end)],
    }


def _topology() -> dict[str, Any]:
    return {
        "services": [
            {"name": n, "kind": k, "team": team, "tier": tier, "depends_on": list(callees)}
            for n, k, team, tier, callees in SERVICES
        ]
    }


def _minutes(spec: SyntheticSpec, every: timedelta = STEP) -> Iterator[datetime]:
    moment = T0
    while moment < spec.end:
        yield moment
        moment += every


def _effect(spec: SyntheticSpec, metric: str, service: str, moment: datetime) -> float:
    if moment < spec.fault_start:
        return 1.0
    effect = FAULT_EFFECT.get(metric, {})
    if service == spec.fault_service:
        return effect.get("fault", 1.0)
    return effect.get("callers", 1.0) if service in spec.fault_callers else 1.0


def _metric_rows(spec: SyntheticSpec, rng: np.random.Generator) -> Iterator[tuple[datetime, Any]]:
    for moment in _minutes(spec):
        for metric, levels in BASE.items():
            for service, level in levels.items():
                for instance in instances(service):
                    value = level * _effect(spec, metric, service, moment)
                    value *= 1 + 0.04 * rng.standard_normal()
                    text = "" if (service, metric, moment) == GAP else f"{value:.6g}"
                    yield moment, (ts(moment), service, instance, metric, text)
        # The user-facing latency, a service-level series (empty instance).
        edge = BASE["latency_p99_s"]["frontend"] * _effect(
            spec, "latency_p99_s", "frontend", moment
        )
        yield moment, (ts(moment), "frontend", "", "latency_p99_s", f"{edge:.6g}")


def _log(
    moment: datetime, service: str, level: str, message: str, **extra: Any
) -> tuple[datetime, dict[str, Any]]:
    record = {"ts": ts(moment), "service": service, "instance": f"{service}-0", "level": level}
    return moment, record | {"message": message} | extra


def _log_rows(spec: SyntheticSpec) -> Iterator[tuple[datetime, dict[str, Any]]]:
    for i, t in enumerate(_minutes(spec)):
        yield _log(t, "frontend", "INFO", f"GET /checkout 200 in {30 + i % 7} ms")
        yield _log(t, "checkout", "INFO", f"order {1000 + i} placed for user{i % 5}@example.com")
        yield _log(t, spec.fault_service, "INFO", f"charged order {1000 + i} amount 42.50 EUR")
        yield _log(t, "cart", "", f"cart {i} loaded with {i % 4} items")
        yield _log(t, "catalog", "DEBUG", f"cache hit ratio 0.{90 + i % 9}")
        if t >= spec.fault_start:
            yield from _fault_logs(spec, t, i)
        if t == SECRETS_AT:
            yield from _secret_logs(t)
    future = spec.now + timedelta(minutes=5)
    yield _log(future, spec.fault_service, "FATAL", f"{FUTURE_MARKER} out of memory, shutting down")


def _fault_logs(spec: SyntheticSpec, t: datetime, i: int) -> Iterator[tuple[datetime, Any]]:
    """Four errors a minute in the new template, and the callers' complaints."""
    for k in range(4):
        at = t + timedelta(seconds=15 * k)
        trace_id = f"{i:08x}{k:024x}"
        yield _log(at, spec.fault_service, "ERROR", f"{NEW_ERROR} (order {i})", trace_id=trace_id)
    yield _log(t, "checkout", "WARN", f"upstream {spec.fault_service} slow: {800 + i % 50} ms")


def _secret_logs(t: datetime) -> Iterator[tuple[datetime, Any]]:
    yield _log(
        t, "checkout", "WARN", "calling payment with Authorization: Bearer sk_live_abc123456"
    )
    yield _log(
        t, "payment", "WARN", "connecting to postgres://payapp:hunter2pass@postgres:5432/pay"
    )
    yield _log(t, "payment", "WARN", "card 4111 1111 1111 1111 declined for jane.doe@example.org")
    yield _log(t, "payment", "WARN", "loaded key AKIAIOSFODNN7EXAMPLE with password=hunter2")


def _trace(
    moment: datetime, trace: str, spans: tuple[tuple[int, str, str, str, str, float, str], ...]
) -> Iterator[tuple[datetime, tuple[Any, ...]]]:
    """Rows of one trace from (offset ms, span, parent, service, operation, ms, status)."""
    for offset, span, parent, service, operation, duration, status in spans:
        at = moment + timedelta(milliseconds=offset)
        row = (ts(at), trace, span, parent, service, f"{service}-0", operation, duration, status)
        yield at, row


def _span_rows(spec: SyntheticSpec) -> Iterator[tuple[datetime, tuple[Any, ...]]]:
    """Two traces every 20 s: a checkout through payment and cart, a catalog read."""
    for i, t in enumerate(_minutes(spec, TRACE_EVERY)):
        faulty = t >= spec.fault_start
        pay = (700.0 if faulty else 12.0) + 4.0
        pay_status = "error" if faulty and i % 3 == 0 else "ok"
        checkout = 8.0 + pay + 4.0
        yield from _trace(t, f"{i:016x}{0:016x}", (
            (0, "a1", "", "frontend", "GET /checkout", 5.0 + checkout, "ok"),
            (1, "a2", "a1", "checkout", "PlaceOrder", checkout, "ok"),
            (2, "a3", "a2", spec.fault_service, "Charge", pay, pay_status),
            (3, "a4", "a3", "postgres", "INSERT payments", 4.0, "ok"),
            (2, "a5", "a2", "cart", "GetCart", 4.0, "ok"),
            (3, "a6", "a5", "redis", "GET", 1.0, "ok"),
        ))  # fmt: skip
        yield from _trace(t, f"{i:016x}{1:016x}", (
            (0, "b1", "", "frontend", "GET /product", 12.0, "ok"),
            (1, "b2", "b1", "catalog", "GetProduct", 6.0, "ok"),
            (2, "b3", "b2", "redis", "GET", 1.0, "ok"),
        ))  # fmt: skip


def _change(
    cid: str, moment: datetime, service: str, kind: str, summary: str, **extra: Any
) -> dict[str, Any]:
    return {
        "id": cid,
        "ts": ts(moment),
        "service": service,
        "kind": kind,
        "summary": summary,
    } | extra


def _changes(spec: SyntheticSpec) -> list[dict[str, Any]]:
    return [
        _change("chg-0001", T0 + timedelta(minutes=40), "catalog", "deploy",
                "catalog v2.3.0 -> v2.4.0", from_version="v2.3.0", to_version="v2.4.0",
                actor="ci-bot"),
        _change("chg-0002", T0 + timedelta(minutes=90), "frontend", "config",
                "frontend timeout 1s -> 2s; api_key=abc123secret"),
        _change(CULPRIT_CHANGE_ID, spec.fault_start - timedelta(minutes=2), spec.fault_service,
                "deploy", f"{spec.fault_service} v1.4.2 -> v1.5.0 (2 replicas)",
                from_version="v1.4.2", to_version="v1.5.0", actor="ci-bot",
                done_ts=ts(spec.fault_start - timedelta(minutes=1))),
        _change(FUTURE_CHANGE_ID, spec.now + timedelta(minutes=10), "checkout", "feature_flag",
                "checkout new-basket flag on"),
    ]  # fmt: skip


def _case(spec: SyntheticSpec) -> dict[str, Any]:
    alert = {
        "status": "firing",
        "labels": {"alertname": "HighLatency", "service": "frontend", "severity": "page"},
        "annotations": {"summary": "frontend p99 latency above 500 ms"},
        "startsAt": ts(spec.fault_start + timedelta(minutes=1)),
        "endsAt": "0001-01-01T00:00:00Z",
    }
    payload = {
        "version": "4",
        "status": "firing",
        "receiver": "triage",
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "alerts": [alert],
    }
    return {
        "id": "syn-0001",
        "title": "frontend p99 latency above 500 ms",
        "now": ts(spec.now),
        "alert": {"source": "alertmanager", "payload": payload},
        "tags": ["synthetic"],
    }


def _truth(spec: SyntheticSpec) -> dict[str, Any]:
    return {
        "id": "syn-0001",
        "root_cause": {"service": spec.fault_service, "instance": None, "fault_type": "bad-deploy"},
        "fault_start": ts(spec.fault_start),
        "change_id": CULPRIT_CHANGE_ID,
        "severity": "SEV2",
        "page_team": "payments",
    }
