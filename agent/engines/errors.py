"""An engine that cannot be reached at start is one clear line, never a traceback."""

from __future__ import annotations


class EngineUnavailable(RuntimeError):
    """PostgreSQL or Redis could not be reached or set up; the message says where and why."""


def unreachable(error: BaseException) -> str | None:
    """Which engine `error` says went away (a dropped or refused connection, a pool that
    found none in time): "PostgreSQL" or "Redis"; None for any other error."""
    import psycopg
    import redis
    from psycopg_pool import PoolTimeout

    if isinstance(error, psycopg.OperationalError | PoolTimeout):
        return "PostgreSQL"
    if isinstance(error, redis.ConnectionError | redis.TimeoutError):
        return "Redis"
    return None


def one_line(error: BaseException) -> str:
    """`Type: message` on one line (drivers' messages run over several)."""
    return " ".join(f"{type(error).__name__}: {error}".split())
