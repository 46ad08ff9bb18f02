"""Log lines as the live stores hand them back, before they are replay/1 records.

CloudWatch and Datadog both return raw lines; both filter what their search
could not (a regex, a case-insensitive phrase), mask each line into the replay
store's template and count templates per bucket here, the same way, so a line
has the same template and count whichever store it came from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tools.telemetry.models import LogRecord, TemplateCounts, from_epoch
from tools.telemetry.replay.store import mask_template

EXAMPLE_CHARS = 300


@dataclass(frozen=True, slots=True)
class Line:
    ts_s: float
    service: str
    instance: str
    level: str
    message: str
    trace_id: str | None


@dataclass(frozen=True, slots=True)
class LineFilter:
    """The replay store's filters, applied here to lines a store filtered only roughly."""

    services: frozenset[str] | None
    levels: frozenset[str] | None
    contains: str | None
    regex: re.Pattern[str] | None

    @classmethod
    def of(
        cls,
        services: Sequence[str] | None,
        levels: Sequence[str] | None,
        contains: str | None = None,
        pattern: str | None = None,
    ) -> LineFilter:
        return cls(
            frozenset(services) if services else None,
            frozenset(lv.upper() for lv in levels) if levels else None,
            contains.lower() if contains else None,
            re.compile(pattern) if pattern else None,
        )

    def keep(self, line: Line) -> bool:
        return (
            (self.services is None or line.service in self.services)
            and (self.levels is None or line.level in self.levels)
            and (self.contains is None or self.contains in line.message.lower())
            and (self.regex is None or self.regex.search(line.message) is not None)
        )


def to_record(line: Line) -> LogRecord:
    return LogRecord(
        ts=from_epoch(line.ts_s),
        service=line.service,
        instance=line.instance,
        level=line.level,
        message=line.message,
        template=mask_template(line.message),
        trace_id=line.trace_id,
    )


class TemplateCounter:
    """Accumulates (bucket, service, level, template) counts, first message as example."""

    def __init__(self, bucket_s: float) -> None:
        self.bucket_s = bucket_s
        self._counts: dict[tuple[float, str, str, str], list[Any]] = {}

    def add(self, bucket: float, line: Line, n: int) -> None:
        key = (bucket, line.service, line.level, mask_template(line.message))
        entry = self._counts.get(key)
        if entry is None:
            self._counts[key] = [n, line.message[:EXAMPLE_CHARS]]
        else:
            entry[0] += n

    def add_line(self, line: Line) -> None:
        """One raw line, counted in the bucket its timestamp falls in."""
        self.add(math.floor(line.ts_s / self.bucket_s) * self.bucket_s, line, 1)

    def frame(self) -> TemplateCounts:
        keys = sorted(self._counts, key=lambda k: k[0])

        def column(i: int) -> np.ndarray:
            return np.array([k[i] for k in keys], dtype=object)

        return TemplateCounts(
            bucket_s=np.array([k[0] for k in keys], dtype=np.float64),
            service=column(1),
            level=column(2),
            template=column(3),
            count=np.array([self._counts[k][0] for k in keys], dtype=np.int64),
            example=np.array([self._counts[k][1] for k in keys], dtype=object),
        )
