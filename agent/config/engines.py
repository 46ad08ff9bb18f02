"""The `engines:` section of triage.yaml: which engine holds the durable state.

Unset, everything is embedded under the data directory (SQLite files, a local
Chroma folder, the inbox table as the work queue), which is what `make demo`,
CI and a small team need. Beyond one machine the same concerns move to engines
operators already run: PostgreSQL (incidents, inbox, outbox, checkpoints),
Redis Streams (accepted alerts to workers) and a Chroma server (the memory,
`memory.server_url`). Containers set them through the environment
(TRIAGE_DATABASE_URL, TRIAGE_QUEUE_URL, TRIAGE_CHROMA_URL), which wins over the file.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

DATABASE_ENV = "TRIAGE_DATABASE_URL"
QUEUE_ENV = "TRIAGE_QUEUE_URL"
CHROMA_ENV = "TRIAGE_CHROMA_URL"


class EnginesConfig(BaseModel):
    """Where incidents, the inbox, the outbox, checkpoints and the alert queue live."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str | None = Field(
        None, description="postgresql://user@host:5432/db; unset: SQLite under the data dir."
    )
    queue_url: str | None = Field(
        None,
        description="redis://host:6379/0 (needs database_url); unset: the inbox table is the"
        " queue, drained by the serving process.",
    )
    stream: str = Field(
        "triage:alerts", min_length=1, max_length=200, description="Redis stream of alerts."
    )
    group: str = Field("triage-workers", min_length=1, max_length=200, description="Its group.")
    claim_after_s: float = Field(
        30.0,
        gt=0,
        description="An alert a worker took but did not finish is given to another after"
        " this long (XAUTOCLAIM); make it longer than a slow triage.",
    )
    pool_size: int = Field(20, ge=2, le=200, description="PostgreSQL connections per process.")
    pool_timeout_s: float = Field(
        5.0,
        gt=0,
        le=120,
        description="How long a request or a triage step waits for a PostgreSQL connection"
        " before it fails: a request answers 503 naming PostgreSQL, a triage waits and resumes.",
    )
    connect_timeout_s: int = Field(
        5,
        ge=2,  # libpq's least
        le=120,
        description="A new PostgreSQL connection is given up after this long, so a network"
        " that drops packets cannot hold the pool's connecting threads (psycopg waits 130 s).",
    )

    @field_validator("database_url")
    @classmethod
    def _postgres(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value or None

    @field_validator("queue_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// URL")
        return value or None

    @property
    def distributed(self) -> bool:
        """Alerts travel through a queue to worker processes (`triage worker`)."""
        return self.queue_url is not None
