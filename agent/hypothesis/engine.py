"""The isolation engine (placeholder while the real one is written)."""

from __future__ import annotations

from agent.alert.models import Alert
from agent.hypothesis.models import Hypothesis, Isolation
from tools.telemetry.backend import TelemetryBackend


def isolate(backend: TelemetryBackend, alerts: list[Alert]) -> Isolation:
    """Rank every known service as a suspect for the fault behind `alerts`."""
    services = backend.services()
    hypotheses = [Hypothesis(service=s, confidence=1.0 / max(len(services), 1)) for s in services]
    return Isolation(hypotheses=hypotheses, now=backend.now)
