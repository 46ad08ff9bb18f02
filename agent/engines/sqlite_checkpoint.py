"""Embedded graph checkpoints: SQLite (WAL) under the data directory."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.sqlite import SqliteSaver


def open_sqlite_saver(path: Path, serde: SerializerProtocol) -> SqliteSaver:
    """A checkpointer on `path` (created if needed), safe to share between threads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    saver = SqliteSaver(connection, serde=serde)
    saver.setup()
    return saver
