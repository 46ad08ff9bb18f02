"""Where incidents live: the interface every surface uses, and the embedded SQLite store.

The store is the single source of truth every surface reads (CLI, war room,
chat, workers): the graph's checkpoints say where a run stopped, the store
says what the incident is. Each incident is one JSON document (its alerts,
isolation, severity, routing, drafts, approvals, dispatches and timeline) plus
the columns needed to find it, written in one transaction, so a crash never
leaves half an incident.

Two implementations keep `IncidentStore`: `SqliteIncidentStore` (one file under
the data directory, the embedded default) and PostgreSQL
(agent/engines/postgres/incidents.py), chosen in agent/engines. Writers take
turns through the desk's locks (agent/service/desk.py): `save` replaces the
whole document, so a caller saves only what it read under the incident's lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Protocol

from agent.incident.models import Incident, IncidentStatus
from agent.sqlite import immediate, open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_status ON incidents (status, updated_at);
CREATE TABLE IF NOT EXISTS incident_keys (
    key TEXT NOT NULL,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    PRIMARY KEY (key, incident_id)
);
CREATE TABLE IF NOT EXISTS counters (day TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""
ENDED = "('resolved', 'closed')"  # the statuses alerts no longer join (Incident.ended)


class IncidentNotFound(LookupError):
    """No incident with that id; the message lists the recent ones."""


class IncidentStore(Protocol):
    """Create, save and look up incidents (the interface both engines keep)."""

    def new_id(self, opened_at: datetime) -> str:
        """A fresh id, INC-YYYYMMDD-NNNN, numbered per UTC day; never handed out twice."""
        ...

    def save(self, incident: Incident) -> Incident:
        """Write the whole incident and the keys it is found by (Incident.lookup_keys)."""
        ...

    def get(self, incident_id: str) -> Incident:
        """The incident; IncidentNotFound (naming recent ones) if there is none."""
        ...

    def recent(self, status: IncidentStatus | None = None, limit: int = 50) -> list[Incident]:
        """Newest (last updated) first."""
        ...

    def open_with_keys(self, keys: set[str], since: datetime) -> list[Incident]:
        """Unresolved incidents updated since `since` that carry any of `keys`, newest first."""
        ...

    def ended_with_keys(self, keys: set[str], since: datetime) -> list[Incident]:
        """Resolved or closed incidents updated since `since` that carry any of `keys`,
        newest first (where a late recovery of their alerts is recorded)."""
        ...

    def close(self) -> None: ...


def not_found(store: IncidentStore, incident_id: str) -> IncidentNotFound:
    recent = ", ".join(i.id for i in store.recent(limit=5)) or "none yet"
    return IncidentNotFound(f"no incident {incident_id!r} (recent: {recent})")


class SqliteIncidentStore:
    """The embedded store: one SQLite file (WAL) under the data directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = open_db(path, SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, immediate(self._db) as db:
            yield db

    def new_id(self, opened_at: datetime) -> str:
        """INC-YYYYMMDD-NNNN, numbered per UTC day."""
        day = opened_at.strftime("%Y%m%d")
        with self._transaction() as db:
            db.execute(
                "INSERT INTO counters (day, n) VALUES (?, 1)"
                " ON CONFLICT (day) DO UPDATE SET n = n + 1",
                (day,),
            )
            (n,) = db.execute("SELECT n FROM counters WHERE day = ?", (day,)).fetchone()
        return f"INC-{day}-{n:04d}"

    def save(self, incident: Incident) -> Incident:
        """Write the incident and the keys it is found by."""
        keys = incident.lookup_keys()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO incidents (id, status, opened_at, updated_at, document)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " status = excluded.status, updated_at = excluded.updated_at,"
                " document = excluded.document",
                (
                    incident.id,
                    incident.status,
                    incident.opened_at.isoformat(),
                    incident.updated_at.isoformat(),
                    incident.model_dump_json(),
                ),
            )
            db.execute("DELETE FROM incident_keys WHERE incident_id = ?", (incident.id,))
            db.executemany(
                "INSERT INTO incident_keys (key, incident_id) VALUES (?, ?)",
                [(k, incident.id) for k in sorted(keys)],
            )
        return incident

    def get(self, incident_id: str) -> Incident:
        row = self._db.execute(
            "SELECT document FROM incidents WHERE id = ?", (incident_id,)
        ).fetchone()
        if row is None:
            raise not_found(self, incident_id)
        return Incident.model_validate_json(row[0])

    def recent(self, status: IncidentStatus | None = None, limit: int = 50) -> list[Incident]:
        """Newest first."""
        sql = "SELECT document FROM incidents"
        params: tuple[object, ...] = ()
        if status is not None:
            sql += " WHERE status = ?"
            params = (status,)
        rows = self._db.execute(f"{sql} ORDER BY updated_at DESC LIMIT ?", (*params, limit))
        return [Incident.model_validate_json(r[0]) for r in rows]

    def open_with_keys(self, keys: set[str], since: datetime) -> list[Incident]:
        """Unresolved incidents updated since `since` that carry any of `keys`."""
        return self._with_keys(keys, since, ended=False)

    def ended_with_keys(self, keys: set[str], since: datetime) -> list[Incident]:
        return self._with_keys(keys, since, ended=True)

    def _with_keys(self, keys: set[str], since: datetime, ended: bool) -> list[Incident]:
        if not keys:
            return []
        marks = ", ".join("?" for _ in keys)
        rows = self._db.execute(
            "SELECT DISTINCT i.document FROM incidents i JOIN incident_keys k"
            f" ON k.incident_id = i.id WHERE k.key IN ({marks})"
            f" AND i.status {'' if ended else 'NOT '}IN {ENDED}"
            " AND i.updated_at >= ? ORDER BY i.updated_at DESC",
            (*sorted(keys), since.isoformat()),
        )
        return [Incident.model_validate_json(r[0]) for r in rows]
