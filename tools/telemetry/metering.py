"""A small counter of the queries a store sends: how many, of what, how long.

Live stores cost money and rate limits (Logs Insights bills per byte scanned,
CloudTrail allows two lookups a second), so every store counts its calls; the
counts are what `triage doctor` and the tests report per triage.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Usage:
    """What a store sent over some period."""

    calls: dict[str, int]
    seconds: float
    bytes_scanned: int

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def __str__(self) -> str:
        ops = ", ".join(f"{op}={n}" for op, n in sorted(self.calls.items()))
        scanned = f", {self.bytes_scanned} bytes scanned" if self.bytes_scanned else ""
        return f"{self.total} queries in {self.seconds:.2f} s ({ops}){scanned}"


@dataclass
class QueryCounter:
    """Thread-safe: the engine queries metrics, logs and traces in parallel."""

    calls: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    bytes_scanned: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, operation: str, seconds: float = 0.0) -> None:
        with self._lock:
            self.calls[operation] += 1
            self.seconds += seconds

    def add_time(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds

    def add_scanned(self, nbytes: int) -> None:
        with self._lock:
            self.bytes_scanned += nbytes

    @contextmanager
    def timed(self, operation: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.record(operation, time.perf_counter() - started)

    def usage(self) -> Usage:
        with self._lock:
            return Usage(dict(self.calls), self.seconds, self.bytes_scanned)

    def since(self, before: Usage) -> Usage:
        """What was sent after `before` was taken."""
        now = self.usage()
        calls = {k: v - before.calls.get(k, 0) for k, v in now.calls.items()}
        return Usage(
            {k: v for k, v in calls.items() if v},
            now.seconds - before.seconds,
            now.bytes_scanned - before.bytes_scanned,
        )
