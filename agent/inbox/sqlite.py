"""The embedded alert inbox: every accepted alert on disk before the sender hears 202.

One SQLite file (WAL) under the data directory. A row is one request's new
alerts, triaged as one run; `inbox_keys` holds one key per alert (source,
fingerprint, start, status) so a redelivery finds its first copy instead of a
second row. Rows move queued -> running -> done | failed; a server killed
mid-triage leaves rows `running`, and `recover()` queues them again at start.

Concurrent requests are committed in groups: each writer queues its insert and
the first to take the lock commits everyone waiting, so one fsync covers many
alerts without any of them being answered before it is durable.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import TypeAdapter

from agent.alert.models import Alert
from agent.inbox.models import ERROR_CHARS, Accepted, InboxItem, InboxState, alert_key
from agent.sqlite import add_column, immediate, open_db

_ALERTS = TypeAdapter(list[Alert])

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    alerts TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    incident_id TEXT,
    correlated TEXT,
    outcome TEXT,
    error TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_state ON inbox (state, id);
CREATE TABLE IF NOT EXISTS inbox_keys (
    key TEXT PRIMARY KEY,
    inbox_id INTEGER NOT NULL REFERENCES inbox (id)
);
"""


@dataclass
class _Pending:
    source: str
    alerts: list[Alert]
    received_at: datetime
    body_sha256: str
    done: threading.Event = field(default_factory=threading.Event)
    result: Accepted | None = None
    error: BaseException | None = None


class SqliteInbox:
    """The embedded inbox (see agent.inbox.models.Inbox), and the rows the embedded queue
    claims (agent.inbox.queue.InboxPolling)."""

    def __init__(self, path: Path, synchronous: Literal["full", "normal"] = "full") -> None:
        self.path = path
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._db = open_db(path, SCHEMA, synchronous)
        add_column(self._db, "inbox", "outcome", "TEXT")
        self.arrived = threading.Event()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- intake ---------------------------------------------------------------------------

    def put(
        self, source: str, alerts: Sequence[Alert], received_at: datetime, body_sha256: str
    ) -> Accepted:
        """Store the alerts not seen before as one queued row; return once it is on disk."""
        pending = _Pending(source, list(alerts), received_at, body_sha256)
        with self._queue_lock:
            self._queue.append(pending)
        while not pending.done.is_set():
            with self._lock:
                if not pending.done.is_set():
                    self._commit_queued()
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None
        return pending.result

    def _commit_queued(self) -> None:
        """Commit every queued insert in one transaction (caller holds `_lock`)."""
        with self._queue_lock:
            batch, self._queue = self._queue, []
        if not batch:
            return
        try:
            with immediate(self._db) as db:
                results = [self._insert_alone(db, item) for item in batch]
        except BaseException as error:
            for item in batch:
                item.error = error
                item.done.set()
            raise
        for item, result in zip(batch, results, strict=True):
            if isinstance(result, Accepted):
                item.result = result
            else:
                item.error = result
            item.done.set()
        if any(isinstance(r, Accepted) and not r.duplicate for r in results):
            self.arrived.set()

    def _insert_alone(self, db: sqlite3.Connection, item: _Pending) -> Accepted | Exception:
        """One request's insert in the shared transaction; if it fails, only that request
        fails: the other senders' alerts in the batch are still committed."""
        db.execute("SAVEPOINT request")
        try:
            result = self._insert(db, item)
        except Exception as error:
            db.execute("ROLLBACK TO request")
            db.execute("RELEASE request")
            return error
        db.execute("RELEASE request")
        return result

    def _insert(self, db: sqlite3.Connection, item: _Pending) -> Accepted:
        keys = {alert_key(a): a for a in item.alerts}
        known = self._known(db, list(keys))
        fresh = [a for k, a in keys.items() if k not in known]
        if not fresh:
            first = min(known.values()) if known else 0
            return Accepted(inbox_id=first, duplicate=True, alerts=0)
        stamp = item.received_at.isoformat()
        cursor = db.execute(
            "INSERT INTO inbox (source, received_at, body_sha256, alerts, state, updated_at)"
            " VALUES (?, ?, ?, ?, 'queued', ?)",
            (item.source, stamp, item.body_sha256, _ALERTS.dump_json(fresh).decode(), stamp),
        )
        row_id = int(cursor.lastrowid or 0)
        db.executemany(
            "INSERT INTO inbox_keys (key, inbox_id) VALUES (?, ?)",
            [(alert_key(a), row_id) for a in fresh],
        )
        return Accepted(inbox_id=row_id, duplicate=False, alerts=len(fresh))

    @staticmethod
    def _known(db: sqlite3.Connection, keys: list[str]) -> dict[str, int]:
        if not keys:
            return {}
        marks = ", ".join("?" for _ in keys)
        rows = db.execute(f"SELECT key, inbox_id FROM inbox_keys WHERE key IN ({marks})", keys)
        return {key: int(row_id) for key, row_id in rows}

    # -- the work queue ---------------------------------------------------------------------

    def recover(self, at: datetime) -> int:
        """Queue again the rows a stopped server left running; how many there were."""
        with self._lock, immediate(self._db) as db:
            cursor = db.execute(
                "UPDATE inbox SET state = 'queued', updated_at = ? WHERE state = 'running'",
                (at.isoformat(),),
            )
            count = cursor.rowcount
        if count:
            self.arrived.set()
        return count

    def claim(self, limit: int, at: datetime) -> list[int]:
        """Ids of up to `limit` queued rows, oldest first, marked running (`start` counts
        attempts and reads the row)."""
        with self._lock, immediate(self._db) as db:
            rows = db.execute(
                "SELECT id FROM inbox WHERE state = 'queued' ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
            ids = [int(r[0]) for r in rows]
            db.executemany(
                "UPDATE inbox SET state = 'running', updated_at = ? WHERE id = ?",
                [(at.isoformat(), i) for i in ids],
            )
        return ids

    def start(self, item_id: int, at: datetime) -> InboxItem | None:
        where = "state IN ('queued', 'running')"
        self._update(item_id, "state = 'running', attempts = attempts + 1", (), at, where=where)
        item = self.get(item_id)
        return item if item.state == "running" else None

    def finish(
        self,
        item_id: int,
        incident_id: str | None,
        correlated: str | None,
        at: datetime,
        outcome: str | None = None,
    ) -> None:
        self._update(
            item_id,
            "state = 'done', incident_id = ?, correlated = ?, outcome = ?, error = NULL",
            (incident_id, correlated, outcome),
            at,
        )

    def fail(self, item_id: int, error: str, at: datetime) -> None:
        """Failed, unless a repeat delivery of the row recorded its triage first."""
        self._update(
            item_id, "state = 'failed', error = ?", (error[:ERROR_CHARS],), at, "state != 'done'"
        )

    def retry(self, item_id: int, at: datetime) -> InboxItem:
        """Queue a failed row again (after fixing what failed it)."""
        self.get(item_id)
        self._update(item_id, "state = 'queued'", (), at, where="state = 'failed'")
        self.arrived.set()
        return self.get(item_id)

    def _update(
        self, item_id: int, sets: str, params: tuple[object, ...], at: datetime, where: str = "1"
    ) -> None:
        with self._lock, immediate(self._db) as db:
            db.execute(
                f"UPDATE inbox SET {sets}, updated_at = ? WHERE id = ? AND {where}",
                (*params, at.isoformat(), item_id),
            )

    # -- reading ----------------------------------------------------------------------------

    def get(self, item_id: int) -> InboxItem:
        rows = self._select("WHERE id = ?", (item_id,))
        if not rows:
            raise KeyError(f"no inbox item {item_id}")
        return rows[0]

    def items(self, state: InboxState | None = None, limit: int = 100) -> list[InboxItem]:
        """Newest first."""
        where, params = ("WHERE state = ?", (state,)) if state else ("", ())
        return self._select(f"{where} ORDER BY id DESC LIMIT ?", (*params, limit))

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM inbox GROUP BY state").fetchall()
        return {state: int(n) for state, n in rows}

    def alerts_stored(self) -> int:
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM inbox_keys").fetchone()
        return int(n)

    def _select(self, tail: str, params: tuple[object, ...]) -> list[InboxItem]:
        columns = (
            "id, source, received_at, body_sha256, alerts, state, attempts, incident_id,"
            " correlated, outcome, error, updated_at"
        )
        with self._lock:
            rows = self._db.execute(f"SELECT {columns} FROM inbox {tail}", params).fetchall()
        return [_item(row) for row in rows]


def _item(row: tuple[object, ...]) -> InboxItem:
    names = (
        "id", "source", "received_at", "body_sha256", "alerts", "state", "attempts",
        "incident_id", "correlated", "outcome", "error", "updated_at",
    )  # fmt: skip
    values = dict(zip(names, row, strict=True))
    values["alerts"] = json.loads(str(values["alerts"]))
    return InboxItem.model_validate(values)
