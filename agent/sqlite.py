"""The SQLite settings every durable store of the agent shares (incidents, the alert inbox).

WAL so readers never block the writer, a busy timeout so a second process waits
instead of failing, and explicit `BEGIN IMMEDIATE` transactions so a write
takes the lock up front and is all-or-nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

BUSY_TIMEOUT_MS = 10_000


def open_db(
    path: Path, schema: str, synchronous: Literal["full", "normal"] = "full"
) -> sqlite3.Connection:
    """A connection to `path` (created with `schema` if new), shareable between threads
    that take turns; commits only through `immediate`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous.upper()}")
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    db.executescript(schema)
    return db


def add_column(db: sqlite3.Connection, table: str, column: str, declaration: str) -> None:
    """`column` added to `table` in a file an earlier version made without it."""
    with immediate(db):
        known = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in known:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed when the block ends, rolled back if it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
