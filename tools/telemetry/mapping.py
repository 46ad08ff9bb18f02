"""Naming shared by the live stores: store names to services, metric names to replay/1.

Every store names things its own way (a log group `/ecs/payment`, a dimension
`TargetGroup=targetgroup/payment/9f3c`, a label `job="payment"`); the engine
only knows services and replay/1 metric names (`latency_p99_s`). These helpers
do that translation the same way for CloudWatch and Prometheus.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.telemetry.models import Series, SeriesKey


class ServiceNaming(BaseModel):
    """How a store's name for something becomes a service name.

    `map` is tried first (exact names), then `pattern` (a regex whose `service`
    group, or else first group, or else whole match is the service). A name
    neither maps nor matches is kept as it is, unless `strict`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    map: dict[str, str] = Field(default_factory=dict, description="Exact name -> service.")
    pattern: str | None = Field(None, description="Regex; its `service` group is the service.")
    strict: bool = Field(False, description="Drop names that neither map nor match.")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"not a valid regex: {error}") from None
        return value

    def match(self, name: str) -> str | None:
        """The service `map` or `pattern` gives `name`, if either does."""
        if name in self.map:
            return self.map[name]
        if self.pattern is not None:
            found = _compiled(self.pattern).search(name)
            if found:
                groups = found.groupdict()
                named = groups.get("service") or (found.group(1) if found.groups() else found[0])
                return named or None
        return None

    def resolve(self, name: str) -> str | None:
        """The service `name` stands for (the name itself unless `strict`), or None."""
        return self.match(name) or (None if self.strict else (name or None))


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def service_in_name(name: str, services: Iterable[str]) -> str | None:
    """The longest known service whose name appears as a whole token in `name`
    (`payment-task-role` -> payment): the fallback for resources no rule names."""
    lowered = name.lower()
    found = [
        s
        for s in services
        if s and re.search(rf"(?<![a-z0-9]){re.escape(s.lower())}(?![a-z0-9])", lowered)
    ]
    return max(found, key=len) if found else None


def snake_case(name: str) -> str:
    """`TargetResponseTime` -> `target_response_time`; snake_case names pass unchanged."""
    text = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    text = re.sub(r"([A-Z]+|[0-9])([A-Z][a-z])", r"\1_\2", text)
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def wanted(value: str, allowed: Sequence[str] | None) -> bool:
    return not allowed or value in allowed


def keep_series(
    key: SeriesKey,
    services: Sequence[str] | None,
    metrics: Sequence[str] | None,
    instances: Sequence[str] | None,
) -> bool:
    """The same filter the replay store applies in SQL, for stores that filter here."""
    return (
        wanted(key.service, services)
        and wanted(key.metric, metrics)
        and wanted(key.instance, instances)
    )


class SeriesBuilder:
    """Collects points per key from pages of results; yields sorted, deduplicated Series."""

    def __init__(self) -> None:
        self._ts: dict[SeriesKey, list[float]] = defaultdict(list)
        self._values: dict[SeriesKey, list[float]] = defaultdict(list)

    def add(self, key: SeriesKey, ts: Iterable[float], values: Iterable[float]) -> None:
        self._ts[key].extend(ts)
        self._values[key].extend(values)

    def keys(self) -> list[SeriesKey]:
        return sorted(self._ts, key=lambda k: (k.service, k.instance, k.metric))

    def series(self, start_s: float, end_s: float) -> list[Series]:
        """One Series per key with its points in [start_s, end_s], ascending."""
        out = []
        for key in self.keys():
            ts = np.asarray(self._ts[key], dtype=np.float64)
            values = np.asarray(self._values[key], dtype=np.float64)
            order = np.argsort(ts, kind="stable")
            ts, values = ts[order], values[order]
            keep = (ts >= start_s) & (ts <= end_s)
            if len(ts) > 1:
                keep[1:] &= ts[1:] != ts[:-1]
            if keep.any():
                out.append(Series(key=key, ts=ts[keep], values=values[keep]))
        return out
