"""The alert inbox in PostgreSQL: the Inbox interface (agent/inbox/models.py) on the
`inbox` and `inbox_keys` tables, shared by the API that accepts and the workers that triage.

A row is committed before the sender hears 202 and before it is put on the
alert stream; `published` says it reached the stream, so a row whose publish was
cut short (the API died, Redis was away) is found and published again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from pydantic import TypeAdapter

from agent.alert.models import Alert
from agent.engines.postgres.db import Database
from agent.inbox.models import ERROR_CHARS, Accepted, InboxItem, InboxState, alert_key
from agent.inbox.queue import Delivery

_ALERTS = TypeAdapter(list[Alert])
COLUMNS = (
    "id, source, received_at, body_sha256, alerts::text AS alerts, state, attempts,"
    " incident_id, correlated, outcome, error, updated_at"
)


class PostgresInbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def close(self) -> None:
        """The pool belongs to the engines."""

    def put(
        self, source: str, alerts: Sequence[Alert], received_at: datetime, body_sha256: str
    ) -> Accepted:
        """One row of the alerts not seen before; a redelivery answers with the first row."""
        keyed = {alert_key(a): a for a in alerts}
        keys = list(keyed)
        with self.db.pool.connection() as connection:
            with connection.transaction():
                row = connection.execute(
                    "INSERT INTO inbox (source, received_at, body_sha256, alerts, state,"
                    " updated_at) VALUES (%s, %s, %s, %s::jsonb, 'queued', %s) RETURNING id",
                    (source, received_at, body_sha256, _dump(list(keyed.values())), received_at),
                ).fetchone()
                assert row is not None
                row_id = int(row["id"])
                fresh = {
                    r["key"]
                    for r in connection.execute(
                        "INSERT INTO inbox_keys (key, inbox_id) SELECT k, %s FROM"
                        " unnest(%s::text[]) AS k ON CONFLICT DO NOTHING RETURNING key",
                        (row_id, keys),
                    ).fetchall()
                }
                if fresh and len(fresh) < len(keys):
                    kept = [a for k, a in keyed.items() if k in fresh]
                    connection.execute(
                        "UPDATE inbox SET alerts = %s::jsonb WHERE id = %s", (_dump(kept), row_id)
                    )
                if not fresh:
                    raise psycopg.Rollback()
            if fresh:
                return Accepted(inbox_id=row_id, duplicate=False, alerts=len(fresh))
            first = connection.execute(
                "SELECT min(inbox_id) AS id FROM inbox_keys WHERE key = ANY(%s)", (keys,)
            ).fetchone()
        return Accepted(inbox_id=int(first["id"] or 0) if first else 0, duplicate=True, alerts=0)

    def published(self, inbox_ids: Sequence[int], at: datetime) -> None:
        self._execute(
            "UPDATE inbox SET published = TRUE, updated_at = %s WHERE id = ANY(%s)",
            (at, list(inbox_ids)),
        )

    def unpublished(self, older_than: datetime, stale_before: datetime) -> list[int]:
        """Queued rows to put on the stream again: never published and accepted before
        `older_than`, or published but untouched since `stale_before` (the stream lost them)."""
        with self.db.pool.connection() as connection:
            rows = connection.execute(
                "SELECT id FROM inbox WHERE state = 'queued' AND ((NOT published AND"
                " received_at < %s) OR updated_at < %s) ORDER BY id LIMIT 500",
                (older_than, stale_before),
            ).fetchall()
        return [int(r["id"]) for r in rows]

    def start(self, item_id: int, at: datetime) -> InboxItem | None:
        """The row, now running; None when it is already done or failed (a repeat delivery)."""
        rows = self._select(
            "UPDATE inbox SET state = 'running', attempts = attempts + 1, updated_at = %s"
            f" WHERE id = %s AND state IN ('queued', 'running') RETURNING {COLUMNS}",
            (at, item_id),
        )
        return rows[0] if rows else None

    def finish(
        self,
        item_id: int,
        incident_id: str | None,
        correlated: str | None,
        at: datetime,
        outcome: str | None = None,
    ) -> None:
        self._execute(
            "UPDATE inbox SET state = 'done', incident_id = %s, correlated = %s, outcome = %s,"
            " error = NULL, updated_at = %s WHERE id = %s",
            (incident_id, correlated, outcome, at, item_id),
        )

    def fail(self, item_id: int, error: str, at: datetime) -> None:
        """Failed, unless a repeat delivery of the row (a claim) recorded its triage first."""
        self._execute(
            "UPDATE inbox SET state = 'failed', error = %s, updated_at = %s"
            " WHERE id = %s AND state <> 'done'",
            (error[:ERROR_CHARS], at, item_id),
        )

    def retry(self, item_id: int, at: datetime) -> InboxItem:
        self.get(item_id)
        self._execute(
            "UPDATE inbox SET state = 'queued', published = FALSE, updated_at = %s"
            " WHERE id = %s AND state = 'failed'",
            (at, item_id),
        )
        return self.get(item_id)

    def get(self, item_id: int) -> InboxItem:
        rows = self._select(f"SELECT {COLUMNS} FROM inbox WHERE id = %s", (item_id,))
        if not rows:
            raise KeyError(f"no inbox item {item_id}")
        return rows[0]

    def items(self, state: InboxState | None = None, limit: int = 100) -> list[InboxItem]:
        where, params = ("WHERE state = %s", (state,)) if state else ("", ())
        return self._select(
            f"SELECT {COLUMNS} FROM inbox {where} ORDER BY id DESC LIMIT %s", (*params, limit)
        )

    def counts(self) -> dict[str, int]:
        with self.db.pool.connection() as connection:
            rows = connection.execute("SELECT state, count(*) AS n FROM inbox GROUP BY state")
            return {r["state"]: int(r["n"]) for r in rows.fetchall()}

    def alerts_stored(self) -> int:
        with self.db.pool.connection() as connection:
            row = connection.execute("SELECT count(*) AS n FROM inbox_keys").fetchone()
        return int(row["n"]) if row else 0

    def _execute(self, sql: str, params: tuple[Any, ...]) -> None:
        with self.db.pool.connection() as connection:
            connection.execute(sql, params)

    def _select(self, sql: str, params: tuple[Any, ...]) -> list[InboxItem]:
        with self.db.pool.connection() as connection:
            rows = connection.execute(sql, params).fetchall()
        return [
            InboxItem.model_validate({**r, "alerts": _ALERTS.validate_json(r["alerts"])})
            for r in rows
        ]


def _dump(alerts: list[Alert]) -> str:
    return _ALERTS.dump_json(alerts).decode()


class PostgresPolling:
    """The queue when there is a database but no Redis: the serving process claims queued
    rows itself (FOR UPDATE SKIP LOCKED), as the embedded inbox does."""

    def __init__(self, inbox: PostgresInbox, clock: Callable[[], datetime]) -> None:
        self.inbox = inbox
        self.clock = clock
        self._arrived = threading.Event()

    def publish(self, inbox_ids: Sequence[int]) -> None:
        self.inbox.published(inbox_ids, self.clock())
        self._arrived.set()

    def receive(self, limit: int, wait_s: float) -> list[Delivery]:
        claimed = self._claim(limit)
        if not claimed and self._arrived.wait(wait_s):
            self._arrived.clear()
            claimed = self._claim(limit)
        return [Delivery(i) for i in claimed]

    def _claim(self, limit: int) -> list[int]:
        with self.inbox.db.pool.connection() as connection:
            rows = connection.execute(
                "UPDATE inbox SET state = 'running', updated_at = %s WHERE id IN"
                " (SELECT id FROM inbox WHERE state = 'queued' ORDER BY id"
                " LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id",
                (self.clock(), limit),
            ).fetchall()
        return sorted(int(r["id"]) for r in rows)

    def ack(self, delivery: Delivery) -> None:
        """The row's state already says it is finished."""

    def recover(self) -> int:
        """Rows a stopped server left running (one serving process owns them all)."""
        with self.inbox.db.pool.connection() as connection:
            cursor = connection.execute(
                "UPDATE inbox SET state = 'queued', updated_at = %s WHERE state = 'running'",
                (self.clock(),),
            )
            count = cursor.rowcount
        if count:
            self._arrived.set()
        return count

    def wake(self) -> None:
        self._arrived.set()

    def problem(self) -> str | None:
        """The inbox table is the queue: a PostgreSQL failure shows on the inbox itself."""
        return None

    def close(self) -> None:
        """The pool belongs to the engines."""
