"""Graph checkpoints in PostgreSQL (langgraph-checkpoint-postgres) on the shared pool,
so an approval in any process resumes the run wherever it was interrupted."""

from __future__ import annotations

from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.serde.base import SerializerProtocol

from agent.engines.postgres.db import MIGRATION_LOCK, Database


def open_postgres_saver(db: Database, serde: SerializerProtocol) -> PostgresSaver:
    saver = PostgresSaver(db.pool, serde=serde)
    with db.pool.connection() as connection:  # its own migrations, one process at a time
        connection.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            saver.setup()
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return saver
