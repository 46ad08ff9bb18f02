"""Records every telemetry backend returns, whatever stores the data.

Bulk data (metric samples, spans) travels as numpy columns: a triage touches
hundreds of thousands of rows and per-row objects would cost more than the
analysis. Small, human-facing records (changes, topology, log lines) are
pydantic models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

ServiceKind = Literal[
    "service", "database", "cache", "queue", "external", "frontend", "function", "storage"
]
ChangeKind = Literal[
    "deploy", "config", "feature_flag", "scale", "infra", "secret_rotation", "other"
]
LogLevel = Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", ""]
LOG_LEVELS: tuple[str, ...] = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def to_epoch(ts: datetime) -> float:
    """Seconds since the epoch; naive datetimes are taken as UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class TimeWindow(BaseModel):
    """A half-open interval [start, end) in UTC."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before its start {self.start}")
        return self

    @property
    def start_s(self) -> float:
        return to_epoch(self.start)

    @property
    def end_s(self) -> float:
        return to_epoch(self.end)

    @property
    def seconds(self) -> float:
        return self.end_s - self.start_s

    @classmethod
    def of(cls, start_s: float, end_s: float) -> TimeWindow:
        return cls(start=from_epoch(start_s), end=from_epoch(end_s))

    def clamp(self, now_s: float) -> TimeWindow:
        """The part of this window that is not in the future of `now_s`."""
        end = min(self.end_s, now_s)
        return TimeWindow.of(min(self.start_s, end), end)


@dataclass(frozen=True, slots=True)
class SeriesKey:
    service: str
    instance: str
    metric: str
    # The version the instance ran (a `version` label or tag), "" where the store has none.
    version: str = ""

    def label(self) -> str:
        where = f"{self.service}/{self.instance}" if self.instance else self.service
        return f"{where}:{self.metric}"


@dataclass(slots=True)
class Series:
    """One metric series: timestamps (epoch s, ascending) and values (NaN = gap)."""

    key: SeriesKey
    ts: np.ndarray
    values: np.ndarray


SPAN_COLUMNS = (
    "ts",
    "trace_id",
    "service",
    "instance",
    "operation",
    "duration_ms",
    "self_ms",
    "status",
    "parent_service",
    "child_service",
)


@dataclass(slots=True)
class SpanFrame:
    """Spans as columns. `parent_service`/`child_service` name the service across
    each call edge ('' where none); `self_ms` is the span's duration minus the time
    covered by its direct children, the time the span's own service spent."""

    ts: np.ndarray
    trace_id: np.ndarray
    service: np.ndarray
    instance: np.ndarray
    operation: np.ndarray
    duration_ms: np.ndarray
    self_ms: np.ndarray
    status: np.ndarray
    parent_service: np.ndarray
    child_service: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, mask: np.ndarray) -> SpanFrame:
        return SpanFrame(**{c: getattr(self, c)[mask] for c in SPAN_COLUMNS})


@dataclass(slots=True)
class SpanStats:
    """Spans summed per (time bucket, service, operation, callee).

    `peer` is the service on the other side of a client span ('' for spans
    served locally). Sums rather than means so buckets can be merged.
    """

    bucket_s: np.ndarray
    service: np.ndarray
    operation: np.ndarray
    peer: np.ndarray
    count: np.ndarray
    self_ms: np.ndarray
    duration_ms: np.ndarray
    errors: np.ndarray

    def __len__(self) -> int:
        return len(self.bucket_s)

    def take(self, mask: np.ndarray) -> SpanStats:
        return SpanStats(*(getattr(self, f)[mask] for f in SpanStats.__dataclass_fields__))


class LogQuery(BaseModel):
    """A log search as a store receives it: the window already clamped to `now`."""

    model_config = ConfigDict(frozen=True)

    window: TimeWindow
    services: tuple[str, ...] | None = None
    levels: tuple[str, ...] | None = None
    contains: str | None = None
    regex: str | None = None
    limit: int = 100


class LogRecord(BaseModel):
    """One log line as stored. `template` is the line with its variable parts
    (numbers, ids, addresses) masked, so equal templates mean the same code path."""

    ts: datetime
    service: str
    instance: str = ""
    level: str = ""
    message: str
    template: str = ""
    trace_id: str | None = None


@dataclass(slots=True)
class TemplateCounts:
    """Log line counts per (service, level, template) and time bucket."""

    bucket_s: np.ndarray
    service: np.ndarray
    level: np.ndarray
    template: np.ndarray
    count: np.ndarray
    example: np.ndarray

    def take(self, mask: np.ndarray) -> TemplateCounts:
        return TemplateCounts(
            *(getattr(self, f)[mask] for f in TemplateCounts.__dataclass_fields__)
        )


class Change(BaseModel):
    """A deploy, config push, flag flip or other change to the estate."""

    id: str
    ts: datetime
    service: str
    kind: ChangeKind = "other"
    summary: str = ""
    from_version: str | None = None
    to_version: str | None = None
    actor: str | None = None
    done_ts: datetime | None = None


SignalSeverity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")


class SecuritySignal(BaseModel):
    """A detection a SIEM already made (a Datadog Cloud SIEM signal): a rule that
    fired on one service's logs or audit trail, with its own severity."""

    id: str
    ts: datetime = Field(description="When the rule first fired.")
    service: str
    severity: SignalSeverity
    rule: str
    title: str = ""
    source: str = ""


class ServiceNode(BaseModel):
    name: str
    kind: ServiceKind = "service"
    team: str | None = None
    tier: int | None = None
    depends_on: list[str] = Field(default_factory=list)


class Topology(BaseModel):
    """Services and who calls whom. `source` says where the graph came from."""

    services: list[ServiceNode] = Field(default_factory=list)
    source: Literal["declared", "traces", "metrics", "empty"] = "declared"

    def node(self, name: str) -> ServiceNode | None:
        return next((s for s in self.services if s.name == name), None)

    def callees(self, name: str) -> list[str]:
        node = self.node(name)
        return list(node.depends_on) if node else []

    def callers(self, name: str) -> list[str]:
        return [s.name for s in self.services if name in s.depends_on]

    def neighbours(self, name: str) -> set[str]:
        return set(self.callees(name)) | set(self.callers(name))

    def descendants(self, name: str) -> set[str]:
        """Every service reachable by following calls down from `name`."""
        seen: set[str] = set()
        stack = self.callees(name)
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.callees(current))
        return seen
