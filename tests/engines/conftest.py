"""The engines the distributed mode runs on, for real: PostgreSQL and Redis on 127.0.0.1
(started before the session, for CI too) and a `chroma run` server.

Each test gets a PostgreSQL schema and a Redis stream of its own, dropped after,
so runs in parallel (other people's too) never meet. An engine that does not
answer fails the test with one line saying which and where; nothing is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.bench.isolated import isolated
from agent.config import TriageConfig
from agent.config.engines import EnginesConfig
from agent.engines.errors import EngineUnavailable
from tests.knowledge.conftest import chroma_server, records
from tests.server.fixtures import pagerduty
from tests.server.support import server_config

POSTGRES_URL = os.environ.get(
    "TRIAGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TRIAGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

__all__ = ["chroma_server", "records"]


@pytest.fixture
def engines() -> Iterator[EnginesConfig]:
    """PostgreSQL (a schema of its own) and Redis (a stream of its own)."""
    try:
        with isolated(POSTGRES_URL, REDIS_URL, "test") as settings:
            yield settings.model_copy(update={"claim_after_s": 2.0})
    except EngineUnavailable as error:
        pytest.fail(f"{error} (the distributed tests need it running)", pytrace=False)


def distributed(base: TriageConfig, engines: EnginesConfig) -> TriageConfig:
    """`base` on the test's own engines."""
    return base.model_copy(update={"engines": engines})


def configured(dataset: Path | None, engines: EnginesConfig, **server: object) -> TriageConfig:
    return distributed(server_config(dataset, **server), engines)


__all__ += ["pagerduty"]
