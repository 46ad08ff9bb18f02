"""Fixtures for the incident memory: sample records, an embedded store and a real
`chroma run` server on 127.0.0.1, so the same tests run against both."""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.alert.models import Alert
from agent.incident.models import Incident
from agent.isolation.models import Hypothesis, Isolation
from knowledge.config import MemoryConfig
from knowledge.records import PastIncident, Runbook
from knowledge.store import MemoryStore

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "knowledge" / "seed"
CHROMA = Path(sys.executable).with_name("chroma")
BOOT_S = 30.0
_collections = itertools.count()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def incident(record_id: str, service: str, fault: str, end: str, **extra: object) -> PastIncident:
    """A past incident resolved at `end` (an hour after it started)."""
    fields: dict[str, object] = {
        "id": record_id,
        "title": f"{service} {fault} incident",
        "services": [service],
        "fault_type": fault,
        "root_cause": f"{fault} in {service}",
        "resolution": f"fixed {service}",
        "start": at(end).replace(hour=at(end).hour - 1),
        "end": at(end),
        **extra,
    }
    return PastIncident.model_validate(fields)


@pytest.fixture
def records() -> list[PastIncident | Runbook]:
    """A small estate's history: two payment deploys, a cache fault, a later repeat, a runbook."""
    return [
        incident(
            "INC-A",
            "payment",
            "bad-deploy",
            "2026-03-01T11:00:00",
            title="Payments failing after payment v2.3 deploy",
            services=["payment", "checkout"],
            root_cause="payment v2.3 sent a malformed 3-D Secure request to the PSP",
            resolution="rolled back payment to v2.2",
            alert_names=["PaymentHighErrorRate"],
            log_templates=["ThreeDSecure verify failed: signature mismatch for order <*>"],
        ),
        incident(
            "INC-B",
            "cache",
            "memory",
            "2026-03-10T11:00:00",
            title="Redis evictions slow down the cart",
            services=["cache", "cart"],
            root_cause="redis reached maxmemory and evicted session keys",
            resolution="raised maxmemory and fixed the TTL of cart keys",
            alert_names=["RedisCacheHitRatioLow"],
        ),
        incident(
            "INC-C",
            "orders-db",
            "database",
            "2026-03-20T11:00:00",
            title="Orders database lock contention during a migration",
            root_cause="ALTER TABLE held an exclusive lock on orders",
            resolution="killed the migration and re-ran it with lock_timeout",
        ),
        incident(
            "INC-LATER",
            "payment",
            "bad-deploy",
            "2026-06-01T11:00:00",
            title="Payments failing after payment v2.9 deploy",
            root_cause="payment v2.9 broke the PSP client",
            resolution="rolled back payment to v2.8",
            alert_names=["PaymentHighErrorRate"],
        ),
        Runbook(
            id="RB-payment",
            title="Payment error rate is high",
            services=["payment"],
            alert_names=["PaymentHighErrorRate"],
            fault_types=["bad-deploy", "dependency-down"],
            body="## Diagnosis\nCheck recent deploys.\n## Mitigation\nRoll back.",
        ),
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_heartbeat(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + BOOT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"chroma run gave no heartbeat at {url} within {BOOT_S:.0f} s")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` on a free port of 127.0.0.1, stopped after the session."""
    if not CHROMA.exists() and shutil.which("chroma") is None:
        raise RuntimeError("the chroma CLI is not installed (it comes with chromadb)")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    command = [str(CHROMA if CHROMA.exists() else "chroma"), "run", "--path", str(data)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_heartbeat(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def fresh_config(**fields: object) -> MemoryConfig:
    """A config with a collection of its own, so tests sharing a server never meet."""
    return MemoryConfig.model_validate({"collection": f"t{next(_collections)}", **fields})


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MemoryStore:
    """An empty store: embedded under tmp_path, or in the chroma server."""
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        return MemoryStore(fresh_config(server_url=url), tmp_path)
    return MemoryStore(fresh_config(), tmp_path)


@pytest.fixture
def resolved_incident() -> Incident:
    """An incident the agent triaged: it blamed payment; the responder says orders-db."""
    alert = Alert.model_validate(
        {
            "source": "alertmanager",
            "name": "DBConnectionPoolSaturated",
            "status": "firing",
            "fingerprint": "fp-1",
            "starts_at": at("2026-04-02T00:10:00"),
            "service": "orders-db",
        }
    )
    return Incident(
        id="INC-20260402-0001",
        title="DBConnectionPoolSaturated",
        opened_at=at("2026-04-02T00:12:00"),
        updated_at=at("2026-04-02T00:12:00"),
        alerts=[alert],
        services=["orders-db"],
        isolation=Isolation(
            hypotheses=[Hypothesis(service="payment", fault_type="bad-deploy", confidence=0.6)],
            verdict="conclusive",
        ),
    )
