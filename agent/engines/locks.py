"""Turns at writing an incident: the interface, in-process and PostgreSQL advisory locks.

The graph's steps save whole incidents, so two writers interleaving would lose
one's change, and two workers correlating alerts of one incident at the same
moment would open two. The desk (agent/service/desk.py) therefore holds, around
every write, the lock of each name it touches: `key:<correlation key>` while
alerts are matched to incidents, `incident:<id>` while one is changed.

Embedded, one process triages: one reentrant lock stands for every name (as
before scale-out). Distributed, names are PostgreSQL session advisory locks on
a connection of their own: a worker killed mid-triage loses its connection and
PostgreSQL lets its locks go at once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg_pool import ConnectionPool


class Held:
    """Locks taken; released by `release()` (idempotent) or at the end of a `with` block."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release: Callable[[], None] | None = release

    def release(self) -> None:
        if self._release is not None:
            done, self._release = self._release, None
            done()

    def __enter__(self) -> Held:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


class Locks(Protocol):
    def acquire(self, names: Iterable[str]) -> Held:
        """Wait for every lock in `names` (taken in one order, so holders never deadlock)."""
        ...


def incident_lock(incident_id: str) -> str:
    return f"incident:{incident_id}"


def key_locks(keys: Iterable[str]) -> list[str]:
    return [f"key:{k}" for k in keys]


class ProcessLocks:
    """Embedded: one reentrant lock for every name, so writes take turns as they always did."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def acquire(self, names: Iterable[str]) -> Held:
        self._lock.acquire()
        return Held(self._lock.release)


class AdvisoryLocks:
    """Distributed: PostgreSQL session advisory locks, one connection per holder."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def acquire(self, names: Iterable[str]) -> Held:
        numbers = sorted({lock_number(n) for n in names})
        connection = self.pool.getconn()
        try:
            for number in numbers:
                connection.execute("SELECT pg_advisory_lock(%s)", (number,))
        except BaseException:
            self._let_go(connection)
            raise
        return Held(lambda: self._let_go(connection))

    def _let_go(self, connection: Connection[Any]) -> None:
        try:
            connection.execute("SELECT pg_advisory_unlock_all()")
        finally:
            self.pool.putconn(connection)


def lock_number(name: str) -> int:
    """A name as PostgreSQL's advisory lock key: a signed 64-bit number."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
