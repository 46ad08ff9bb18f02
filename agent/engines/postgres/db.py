"""The connection pool every PostgreSQL-backed part of a process shares, and migrations."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import Connection
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from agent.config.engines import EnginesConfig
from agent.engines.errors import EngineUnavailable

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x7472696167650001  # one process migrates at a time
# How long the health check waits for a connection and a `SELECT 1`; requests and triages
# wait `engines.pool_timeout_s` instead (a triage then waits and resumes).
HEALTH_TIMEOUT_S = 2.0
MIGRATION_POLL_S = 0.2


class DatabaseUnavailable(EngineUnavailable):
    """PostgreSQL could not be reached or set up."""


def where(url: str, default_port: int = 5432) -> str:
    """host:port/db of a URL, without user or password (for messages)."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or default_port}{parts.path or ''}"


class Database:
    """A pool of autocommit connections returning rows as dicts (as the LangGraph
    checkpointer needs); write transactions are explicit (`connection.transaction()`)."""

    def __init__(self, url: str, settings: EnginesConfig) -> None:
        self.url = url
        self.pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=1,
            max_size=settings.pool_size,
            timeout=settings.pool_timeout_s,  # not psycopg's 30 s: callers are waiting
            kwargs={
                "autocommit": True,
                "prepare_threshold": 0,
                "row_factory": dict_row,
                "connect_timeout": settings.connect_timeout_s,
            },
            open=False,
            name="triage",
        )
        try:
            # One connection first: its error says why (refused, no such database, auth),
            # where the pool would only retry in the log and then time out.
            psycopg.connect(url, connect_timeout=settings.connect_timeout_s).close()
            self.pool.open(wait=True, timeout=settings.connect_timeout_s)
        except (PoolTimeout, psycopg.Error) as error:
            self.pool.close()
            reason = " ".join(str(error).split()) or type(error).__name__
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {where(url)} (TRIAGE_DATABASE_URL or"
                f" engines.database_url): {reason}"
            ) from None

    @contextmanager
    def migrating(self) -> Iterator[Connection[Any]]:
        """A connection holding the migration lock: one process sets up at a time.

        The lock is polled, never waited for inside a statement: a waiting statement
        would hold a snapshot, and the checkpointer's CREATE INDEX CONCURRENTLY in the
        process that has the lock would wait for it in turn.
        """
        with self.pool.connection() as connection:
            while not _locked(connection):
                time.sleep(MIGRATION_POLL_S)
            try:
                yield connection
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied, in order; the names applied now."""
        applied: list[str] = []
        with self.migrating() as connection, connection.transaction():
            connection.execute(
                "CREATE TABLE IF NOT EXISTS triage_migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            done = {
                r["version"] for r in connection.execute("SELECT version FROM triage_migrations")
            }
            for version, name, sql in migrations():
                if version in done:
                    continue
                connection.execute(sql, prepare=False)  # several statements
                connection.execute(
                    "INSERT INTO triage_migrations (version, name) VALUES (%s, %s)", (version, name)
                )
                applied.append(name)
        if applied:
            log.info("PostgreSQL %s: applied %s", where(self.url), ", ".join(applied))
        return applied

    def problem(self) -> str | None:
        """PostgreSQL not answering within HEALTH_TIMEOUT_S, in one line (None: it answers),
        so /v1/health says so at once instead of waiting out the pool."""
        try:
            with self.pool.connection(timeout=HEALTH_TIMEOUT_S) as connection:
                connection.execute("SELECT 1")
        except (PoolTimeout, psycopg.Error) as error:
            return (
                f"PostgreSQL at {where(self.url)} is not answering ({type(error).__name__}):"
                " alerts cannot be accepted nor triages recorded until it does"
            )
        return None

    def close(self) -> None:
        self.pool.close()


def _locked(connection: Connection[Any]) -> bool:
    row = connection.execute(
        "SELECT pg_try_advisory_lock(%s) AS locked", (MIGRATION_LOCK,)
    ).fetchone()
    return bool(row and row["locked"])


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration file, NNNN_name.sql, by version."""
    folder = resources.files("agent.engines.postgres") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, _ = entry.name.partition("_")
            found.append((int(number), entry.name.removesuffix(".sql"), entry.read_text("utf-8")))
    return sorted(found)
