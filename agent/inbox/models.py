"""What the inbox holds and the interface both implementations keep."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from agent.alert.models import Alert

InboxState = Literal["queued", "running", "done", "failed"]
ERROR_CHARS = 2_000


class InboxItem(BaseModel):
    """One accepted request: its alerts and what became of their triage."""

    id: int
    source: str
    received_at: datetime
    body_sha256: str
    alerts: list[Alert] = Field(default_factory=list)
    state: InboxState
    attempts: int = 0
    incident_id: str | None = None
    correlated: str | None = None
    outcome: str | None = Field(
        None,
        description="Why a done row holds no incident (a recovery that no open incident"
        " holds: nothing to do); None when it has one.",
    )
    error: str | None = Field(None, description="The last triage failure, if any.")
    updated_at: datetime

    @property
    def run_id(self) -> str:
        """The graph thread for this row: stable, so a re-run resumes instead of repeating."""
        return f"run-inbox-{self.id}"


@dataclass(frozen=True)
class Accepted:
    """What `put` did: a new row, or the row that already holds these alerts."""

    inbox_id: int
    duplicate: bool
    alerts: int


def alert_key(alert: Alert) -> str:
    """The same condition, start and status is the same alert, however often it is sent."""
    return f"{alert.source}|{alert.fingerprint}|{alert.starts_at.isoformat()}|{alert.status}"


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class Inbox(Protocol):
    """Durable intake, and the record of each row's triage.

    `put` returns only once the row is durable; a redelivery of alerts already
    stored returns their first row as a duplicate. Rows move queued -> running ->
    done | failed; `start` marks a row running when a worker takes it.
    """

    def put(
        self, source: str, alerts: Sequence[Alert], received_at: datetime, body_sha256: str
    ) -> Accepted: ...

    def start(self, item_id: int, at: datetime) -> InboxItem | None:
        """The row, now running (one more attempt); None if it is already done or failed."""
        ...

    def finish(
        self,
        item_id: int,
        incident_id: str | None,
        correlated: str | None,
        at: datetime,
        outcome: str | None = None,
    ) -> None:
        """Done: the incident the row opened or joined, or (`outcome`) why it has none."""
        ...

    def fail(self, item_id: int, error: str, at: datetime) -> None: ...

    def retry(self, item_id: int, at: datetime) -> InboxItem:
        """Queue a failed row again (after fixing what failed it)."""
        ...

    def get(self, item_id: int) -> InboxItem:
        """The row; KeyError if there is none."""
        ...

    def items(self, state: InboxState | None = None, limit: int = 100) -> list[InboxItem]:
        """Newest first."""
        ...

    def counts(self) -> dict[str, int]: ...

    def alerts_stored(self) -> int: ...

    def close(self) -> None: ...
