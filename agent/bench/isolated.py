"""A PostgreSQL schema and a Redis stream of one's own, so benchmarks and tests sharing
the engines with other people never meet their data (created, then dropped)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import redis

from agent.config.engines import EnginesConfig
from agent.engines.postgres.db import DatabaseUnavailable, where
from agent.engines.redis_queue import QueueUnavailable, redis_where


def in_schema(url: str, schema: str) -> str:
    """`url` with every connection's search_path set to `schema`."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


@contextmanager
def isolated(database_url: str, queue_url: str | None, label: str) -> Iterator[EnginesConfig]:
    """Engines settings on a fresh schema (and stream) named after `label`; both removed
    after. Fails with one line saying which engine is unreachable."""
    name = f"{label}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(database_url, autocommit=True, connect_timeout=5)
    except psycopg.Error as error:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {where(database_url)}: {str(error).strip()}"
        ) from None
    stream = f"triage:{name}"
    queue = redis.Redis.from_url(queue_url, socket_connect_timeout=5) if queue_url else None
    try:
        if queue is not None:
            queue.ping()
    except redis.RedisError as error:
        admin.close()
        at = redis_where(queue_url or "")
        raise QueueUnavailable(f"cannot connect to Redis at {at}: {error}") from None
    try:
        admin.execute(f'CREATE SCHEMA "{name}"')
        yield EnginesConfig(
            database_url=in_schema(database_url, name),
            queue_url=queue_url,
            stream=stream,
        )
    finally:
        admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.close()
        if queue is not None:
            queue.delete(stream)
            queue.close()
