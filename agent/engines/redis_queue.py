"""Accepted alerts to workers over a Redis stream with one consumer group.

The API commits the inbox row to PostgreSQL, then adds its id to the stream and
marks the row published. Each worker reads new entries as a consumer of the
group; an entry stays pending until the worker acknowledges it, which it does
only after the row's triage is recorded (done or failed). A worker that dies
mid-triage leaves its entries pending: after `claim_after_s` another worker
takes them over (XAUTOCLAIM) and the run resumes from its checkpoint. Rows
whose publish was cut short, or that wait far longer than a claim timeout (a
Redis that lost its data), are published again by the same sweep; a repeat is
harmless, since a finished row is not started again and a run resumes.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import redis

from agent.config.engines import EnginesConfig
from agent.engines.errors import EngineUnavailable
from agent.engines.postgres.db import where
from agent.engines.postgres.inbox import PostgresInbox
from agent.inbox.queue import Delivery

log = logging.getLogger(__name__)
FIELD = "inbox"
PUBLISH_GRACE_S = 5.0  # a row younger than this may still be being published by its API
STALE_CLAIMS = 10  # a row queued this many claim timeouts after its publish: the stream lost it
REDIS_PORT = 6379
# How long the health check waits for Redis to answer a PING.
HEALTH_TIMEOUT_S = 2.0


class QueueUnavailable(EngineUnavailable):
    """Redis could not be reached."""


class RedisStreamQueue:
    """The AlertQueue interface (agent/inbox/queue.py) on a Redis stream."""

    def __init__(
        self,
        url: str,
        settings: EnginesConfig,
        inbox: PostgresInbox,
        clock: Callable[[], datetime],
        consumer: str | None = None,
    ) -> None:
        self.redis: Any = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=None, socket_connect_timeout=10
        )
        # Reads block for seconds; the health check must not wait behind them.
        self.health: Any = redis.Redis.from_url(
            url, socket_timeout=HEALTH_TIMEOUT_S, socket_connect_timeout=HEALTH_TIMEOUT_S
        )
        self.url = url
        self.stream = settings.stream
        self.group = settings.group
        self.claim_after_ms = int(settings.claim_after_s * 1000)
        self.inbox = inbox
        self.clock = clock
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self._sweep_at = 0.0
        self._ensure_group()

    def _ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        except redis.ConnectionError as error:
            raise QueueUnavailable(
                f"cannot connect to Redis at {redis_where(self.url)} (TRIAGE_QUEUE_URL or"
                f" engines.queue_url): {error}"
            ) from None

    def publish(self, inbox_ids: Sequence[int]) -> None:
        """Add the rows to the stream and mark them published; a failure leaves them to the
        sweep (they are durable in the inbox already)."""
        if not inbox_ids:
            return
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for inbox_id in inbox_ids:
                    pipe.xadd(self.stream, {FIELD: str(inbox_id)})
                pipe.execute()
        except redis.RedisError as error:
            log.warning(
                "could not publish inbox rows %s (kept; published later): %s", inbox_ids, error
            )
            return
        self.inbox.published(inbox_ids, self.clock())

    def receive(self, limit: int, wait_s: float) -> list[Delivery]:
        """Entries a dead worker left (after the claim timeout), else new ones."""
        taken = self._sweep(limit) if time.monotonic() >= self._sweep_at else []
        if not taken:
            taken = self._read(limit, max(1, int(wait_s * 1000)))
        return [
            Delivery(int(fields[FIELD]), entry_id) for entry_id, fields in taken if FIELD in fields
        ]

    def _read(self, limit: int, block_ms: int) -> list[tuple[str, dict[str, str]]]:
        """New entries for this consumer; a group Redis lost (restarted empty) is made again
        and the accepted rows it carried are published again by the next sweep."""
        try:
            found = self.redis.xreadgroup(
                self.group, self.consumer, {self.stream: ">"}, count=limit, block=block_ms
            )
        except redis.ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            log.warning("the stream's consumer group is gone (Redis lost it); making it again")
            self._ensure_group()
            return []
        return [entry for _, entries in found or [] for entry in entries]

    def ack(self, delivery: Delivery) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, self.group, delivery.token)
            pipe.xdel(self.stream, delivery.token)
            pipe.execute()

    def recover(self) -> int:
        """At start: whatever dead workers left is claimed by the first sweep."""
        self._sweep_at = 0.0
        return 0

    def wake(self) -> None:
        """Reads block at most `wait_s`; nothing to interrupt."""

    def problem(self) -> str | None:
        """Redis not answering: accepted alerts wait in the inbox, unpublished, until it does."""
        try:
            self.health.ping()
        except redis.RedisError as error:
            return (
                f"Redis at {redis_where(self.url)} is not answering ({type(error).__name__}):"
                " accepted alerts wait in the inbox and reach workers when it answers"
            )
        return None

    def close(self) -> None:
        self.redis.close()
        self.health.close()

    def pending(self) -> int:
        """Entries delivered to some worker and not yet acknowledged."""
        summary = self.redis.xpending(self.stream, self.group)
        return int(summary["pending"]) if summary else 0

    def _sweep(self, limit: int) -> list[tuple[str, dict[str, str]]]:
        """Claim entries idle past the timeout, and publish rows that never reached the
        stream; at most once per half timeout."""
        self._sweep_at = time.monotonic() + self.claim_after_ms / 2000
        now = self.clock()
        stale = now - timedelta(milliseconds=self.claim_after_ms * STALE_CLAIMS)
        lost = self.inbox.unpublished(now - timedelta(seconds=PUBLISH_GRACE_S), stale)
        if lost:
            log.warning("publishing %d accepted row(s) the stream does not carry", len(lost))
            self.publish(lost)
        _, claimed, _ = self.redis.xautoclaim(
            self.stream, self.group, self.consumer, self.claim_after_ms, "0-0", count=limit
        )
        if claimed:
            log.warning("took over %d alert(s) a stopped worker left mid-triage", len(claimed))
            self._sweep_at = 0.0  # there may be more: look again at the next receive
        return [(entry_id, fields) for entry_id, fields in claimed if fields]


def redis_where(url: str) -> str:
    """host:port/db of a Redis URL, without its password (for messages)."""
    return where(url, REDIS_PORT)
