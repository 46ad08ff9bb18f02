"""Graph checkpoints in PostgreSQL (langgraph-checkpoint-postgres) on the shared pool,
so an approval in any process resumes the run wherever it was interrupted."""

from __future__ import annotations

from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.serde.base import SerializerProtocol

from agent.engines.postgres.db import Database


def open_postgres_saver(db: Database, serde: SerializerProtocol) -> PostgresSaver:
    saver = PostgresSaver(db.pool, serde=serde)
    with db.migrating():  # its own migrations, one process at a time
        saver.setup()
    return saver
