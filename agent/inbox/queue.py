"""Handing accepted inbox rows to workers: the interface, and the embedded queue.

A delivery is acknowledged only after its triage is recorded on the row (done or
failed), so a worker that dies mid-triage leaves it to be delivered again; the
run resumes from its checkpoint, it does not start over.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from agent.inbox.sqlite import SqliteInbox


@dataclass(frozen=True)
class Delivery:
    """One row handed to this worker; `token` is the queue's own handle for the ack."""

    inbox_id: int
    token: str = ""


class AlertQueue(Protocol):
    """Delivers inbox rows to workers, at least once each."""

    def publish(self, inbox_ids: Sequence[int]) -> None:
        """Rows now durable in the inbox, to be triaged."""
        ...

    def receive(self, limit: int, wait_s: float) -> list[Delivery]:
        """Up to `limit` rows for this worker, waiting up to `wait_s` for one."""
        ...

    def ack(self, delivery: Delivery) -> None:
        """The row's triage is recorded: never deliver it again."""
        ...

    def recover(self) -> int:
        """At a worker's start: rows a stopped worker left half done, delivered again."""
        ...

    def wake(self) -> None:
        """Let a waiting `receive` return (stopping)."""
        ...

    def problem(self) -> str | None:
        """Why accepted alerts cannot reach workers now, in one line (None: they can)."""
        ...

    def close(self) -> None: ...


class InboxPolling:
    """The embedded queue: the SQLite inbox's own queued rows, claimed oldest first.

    One process serves and triages, so the only worker that can die mid-triage is
    this process: at its next start `recover` queues those rows again.
    """

    def __init__(self, inbox: SqliteInbox, clock: Callable[[], datetime]) -> None:
        self.inbox = inbox
        self.clock = clock

    def publish(self, inbox_ids: Sequence[int]) -> None:
        if inbox_ids:
            self.inbox.arrived.set()

    def receive(self, limit: int, wait_s: float) -> list[Delivery]:
        ids = self.inbox.claim(limit, self.clock())
        if not ids and self.inbox.arrived.wait(wait_s):
            self.inbox.arrived.clear()
            ids = self.inbox.claim(limit, self.clock())
        return [Delivery(i) for i in ids]

    def ack(self, delivery: Delivery) -> None:
        """The row's state already says it is finished."""

    def recover(self) -> int:
        return self.inbox.recover(self.clock())

    def wake(self) -> None:
        self.inbox.arrived.set()

    def problem(self) -> str | None:
        """The inbox is its own queue: when it fails, intake says so first."""
        return None

    def close(self) -> None:
        """The inbox is closed by its owner."""
