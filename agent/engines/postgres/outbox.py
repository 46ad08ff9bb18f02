"""The outbox in PostgreSQL: the Outbox interface (agent/dispatch/outbox.py) on the
`outbox` (messages for people to publish) and `sends` (the send ledger) tables."""

from __future__ import annotations

import json
from typing import Any

from psycopg.types.json import Jsonb

from agent.dispatch.guard import SendPermit, UnapprovedSendError
from agent.engines.postgres.db import Database, where


class PostgresOutbox:
    """Shared by every process, so a send one worker began is known to all."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def where(self) -> str:
        return f"table outbox on {where(self.db.url)}"

    def add(self, record: dict[str, Any], permit: SendPermit) -> bool:
        if not isinstance(permit, SendPermit):
            raise UnapprovedSendError("the outbox needs a SendPermit from authorize()")
        key = f"{permit.incident_id}/{permit.draft_id}/r{permit.revision}"
        with self.db.pool.connection() as connection:
            added = connection.execute(
                "INSERT INTO outbox (key, incident_id, draft_id, revision, channel, record)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING key",
                (
                    key,
                    permit.incident_id,
                    permit.draft_id,
                    permit.revision,
                    str(record.get("channel", "")),
                    Jsonb(json.loads(json.dumps(record, default=str))),
                ),
            ).fetchone()
        return added is not None

    def messages(self) -> list[dict[str, Any]]:
        with self.db.pool.connection() as connection:
            rows = connection.execute("SELECT record FROM outbox ORDER BY added_at, key").fetchall()
        return [dict(r["record"]) for r in rows]

    def reserve(self, key: str) -> dict[str, Any] | None:
        with self.db.pool.connection() as connection:
            connection.execute(
                "INSERT INTO sends (key) VALUES (%s) ON CONFLICT (key) DO NOTHING", (key,)
            )
            row = connection.execute(
                "SELECT result FROM sends WHERE key = %s AND sent", (key,)
            ).fetchone()
        return dict(row["result"]) if row is not None else None

    def settle(self, key: str, result: dict[str, Any]) -> None:
        with self.db.pool.connection() as connection:
            connection.execute(
                "UPDATE sends SET sent = %s, result = %s, settled_at = now() WHERE key = %s",
                (result.get("status") == "sent", Jsonb(result), key),
            )
