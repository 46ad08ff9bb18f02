"""Fixtures for the eval harness tests: the tiny dataset and engines with known answers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.alert.models import Alert
from agent.isolation.models import Hypothesis, Isolation
from tests.evals.tiny_dataset import write_tiny_dataset
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.replay.format import FaultType

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("TRIAGE_SHARED_DIR", REPO.parent / "shared"))
REPLAY = SHARED / "replay"

Engine = Callable[[TelemetryBackend, list[Alert]], Isolation]

# What `fixed_engine` says for every case: cart, then db, then frontend.
FIXED_ORDER = ("cart", "db", "frontend")
FIXED_CONFIDENCE = (0.7, 0.2, 0.1)
FIXED_FAULT_TYPES: tuple[FaultType, ...] = ("cpu", "unknown", "unknown")


def make_fixed_engine(calls: list[tuple[TelemetryBackend, list[Alert]]] | None = None) -> Engine:
    """An engine that always ranks FIXED_ORDER, and records what it was given."""

    def engine(backend: TelemetryBackend, alerts: list[Alert]) -> Isolation:
        if calls is not None:
            calls.append((backend, alerts))
        hypotheses = [
            Hypothesis(service=s, confidence=c, fault_type=f, score=10 * c)
            for s, c, f in zip(FIXED_ORDER, FIXED_CONFIDENCE, FIXED_FAULT_TYPES, strict=True)
        ]
        return Isolation(hypotheses=hypotheses, verdict="conclusive", now=backend.now)

    return engine


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny dataset with truth, parsed into a cache of this test's own."""
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    return write_tiny_dataset(tmp_path / "tiny-shop")


@pytest.fixture
def fixed_engine() -> Engine:
    return make_fixed_engine()
