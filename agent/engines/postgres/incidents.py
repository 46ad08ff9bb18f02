"""Incidents in PostgreSQL: the IncidentStore interface (agent/incident/store.py) on the
`incidents`, `incident_keys` and `incident_counters` tables."""

from __future__ import annotations

from datetime import datetime

from agent.engines.postgres.db import Database
from agent.incident.models import Incident, IncidentStatus
from agent.incident.store import ENDED, not_found


class PostgresIncidentStore:
    """The distributed store: every worker and the API read and write the same incidents."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def close(self) -> None:
        """The pool belongs to the engines."""

    def new_id(self, opened_at: datetime) -> str:
        day = opened_at.strftime("%Y%m%d")
        with self.db.pool.connection() as connection:
            row = connection.execute(
                "INSERT INTO incident_counters (day, n) VALUES (%s, 1) ON CONFLICT (day)"
                " DO UPDATE SET n = incident_counters.n + 1 RETURNING n",
                (day,),
            ).fetchone()
        assert row is not None
        return f"INC-{day}-{row['n']:04d}"

    def save(self, incident: Incident) -> Incident:
        keys = sorted(incident.lookup_keys())
        with self.db.pool.connection() as connection, connection.transaction():
            connection.execute(
                "INSERT INTO incidents (id, status, opened_at, updated_at, document)"
                " VALUES (%s, %s, %s, %s, %s::jsonb) ON CONFLICT (id) DO UPDATE SET"
                " status = excluded.status, updated_at = excluded.updated_at,"
                " document = excluded.document",
                (
                    incident.id,
                    incident.status,
                    incident.opened_at,
                    incident.updated_at,
                    incident.model_dump_json(),
                ),
            )
            connection.execute(
                "DELETE FROM incident_keys WHERE incident_id = %s AND NOT (key = ANY(%s))",
                (incident.id, keys),
            )
            connection.execute(
                "INSERT INTO incident_keys (key, incident_id) SELECT k, %s FROM unnest(%s::text[])"
                " AS k ON CONFLICT DO NOTHING",
                (incident.id, keys),
            )
        return incident

    def get(self, incident_id: str) -> Incident:
        with self.db.pool.connection() as connection:
            row = connection.execute(
                "SELECT document::text AS doc FROM incidents WHERE id = %s", (incident_id,)
            ).fetchone()
        if row is None:
            raise not_found(self, incident_id)
        return Incident.model_validate_json(row["doc"])

    def recent(self, status: IncidentStatus | None = None, limit: int = 50) -> list[Incident]:
        where, params = ("WHERE status = %s", (status,)) if status is not None else ("", ())
        return self._documents(
            f"SELECT document::text AS doc FROM incidents {where}"
            " ORDER BY updated_at DESC LIMIT %s",
            (*params, limit),
        )

    def open_with_keys(self, keys: set[str], since: datetime) -> list[Incident]:
        return self._with_keys(keys, since, ended=False)

    def ended_with_keys(self, keys: set[str], since: datetime) -> list[Incident]:
        return self._with_keys(keys, since, ended=True)

    def _with_keys(self, keys: set[str], since: datetime, ended: bool) -> list[Incident]:
        if not keys:
            return []
        return self._documents(
            "SELECT document::text AS doc FROM incidents WHERE id IN"
            " (SELECT incident_id FROM incident_keys WHERE key = ANY(%s))"
            f" AND status {'' if ended else 'NOT '}IN {ENDED} AND updated_at >= %s"
            " ORDER BY updated_at DESC",
            (sorted(keys), since),
        )

    def _documents(self, sql: str, params: tuple[object, ...]) -> list[Incident]:
        with self.db.pool.connection() as connection:
            rows = connection.execute(sql, params).fetchall()
        return [Incident.model_validate_json(r["doc"]) for r in rows]
