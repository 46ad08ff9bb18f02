"""Which engine holds what, chosen in one place.

| concern | embedded (default) | distributed |
| --- | --- | --- |
| incidents | SQLite `incidents.sqlite` | PostgreSQL `incidents` |
| inbox | SQLite `inbox.sqlite` | PostgreSQL `inbox` |
| queue | the inbox's queued rows | a Redis stream, one consumer group |
| outbox | `outbox.jsonl` (+ `.sends`) | PostgreSQL `outbox`, `sends` |
| checkpoints | SQLite `checkpoints.sqlite` | PostgreSQL (langgraph-checkpoint-postgres) |
| locks | one lock in the process | PostgreSQL advisory locks |
| memory | Chroma folder `memory/` | a Chroma server (`memory.server_url`) |

`engines.database_url` moves incidents, inbox, outbox, checkpoints and locks to
PostgreSQL; `engines.queue_url` (which needs it) adds the Redis stream, so that
`triage serve --role api` accepts and `triage worker` processes triage. Each part
is opened on first use, so a command that only reads incidents never touches Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.config import TriageConfig
from agent.dispatch.outbox import FileOutbox, Outbox
from agent.engines.locks import Locks, ProcessLocks
from agent.inbox.models import Inbox
from agent.inbox.queue import AlertQueue, InboxPolling
from agent.inbox.sqlite import SqliteInbox
from agent.incident.store import IncidentStore, SqliteIncidentStore

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.checkpoint.serde.base import SerializerProtocol

    from agent.engines.postgres.db import Database


class Engines:
    """The durable parts of one process, embedded or distributed as the config says."""

    def __init__(self, config: TriageConfig, home: Path, outbox_path: Path) -> None:
        self.settings = config.engines
        self.inbox_sync = config.server.inbox_sync
        self.home = home
        self.outbox_path = outbox_path

    @property
    def distributed(self) -> bool:
        return self.settings.distributed

    def describe(self) -> dict[str, str]:
        """Which engine holds what, for /v1/health and the start-up log."""
        from agent.engines.postgres.db import where

        url = self.settings.database_url
        database = f"postgresql {where(url)}" if url else f"sqlite {self.home}"
        queue = self.settings.queue_url
        return {
            "incidents": database,
            "inbox": database,
            "queue": f"redis stream {self.settings.stream}" if queue else "inbox table",
            "checkpoints": database,
        }

    def problem(self) -> str | None:
        """Why the database does not answer now, in one line (None: it does, or is SQLite)."""
        return self.database.problem() if self.database is not None else None

    @cached_property
    def database(self) -> Database | None:
        """The PostgreSQL pool, migrated, when a database URL is configured."""
        if self.settings.database_url is None:
            return None
        from agent.engines.postgres.db import Database

        db = Database(self.settings.database_url, self.settings)
        db.migrate()
        return db

    @cached_property
    def store(self) -> IncidentStore:
        if self.database is None:
            return SqliteIncidentStore(self.home / "incidents.sqlite")
        from agent.engines.postgres.incidents import PostgresIncidentStore

        return PostgresIncidentStore(self.database)

    @cached_property
    def inbox(self) -> Inbox:
        if self.database is None:
            return SqliteInbox(self.home / "inbox.sqlite", self.inbox_sync)
        from agent.engines.postgres.inbox import PostgresInbox

        return PostgresInbox(self.database)

    def queue(self, clock: Callable[[], datetime]) -> AlertQueue:
        """The queue that carries this inbox's rows to workers."""
        inbox = self.inbox
        if isinstance(inbox, SqliteInbox):
            return InboxPolling(inbox, clock)
        from agent.engines.postgres.inbox import PostgresInbox, PostgresPolling

        assert isinstance(inbox, PostgresInbox)
        if self.settings.queue_url is None:
            return PostgresPolling(inbox, clock)
        from agent.engines.redis_queue import RedisStreamQueue

        return RedisStreamQueue(self.settings.queue_url, self.settings, inbox, clock)

    @cached_property
    def outbox(self) -> Outbox:
        if self.database is None:
            return FileOutbox(self.outbox_path)
        from agent.engines.postgres.outbox import PostgresOutbox

        return PostgresOutbox(self.database)

    @cached_property
    def locks(self) -> Locks:
        if self.database is None:
            return ProcessLocks()
        from agent.engines.locks import AdvisoryLocks

        return AdvisoryLocks(self.database.pool)

    def checkpointer(self, serde: SerializerProtocol) -> BaseCheckpointSaver[Any]:
        """Where graph runs are checkpointed, with the graph's own serializer."""
        if self.database is None:
            from agent.engines.sqlite_checkpoint import open_sqlite_saver

            return open_sqlite_saver(self.home / "checkpoints.sqlite", serde)
        from agent.engines.postgres.checkpoint import open_postgres_saver

        return open_postgres_saver(self.database, serde)

    def close(self) -> None:
        if self.database is not None:
            self.database.close()
