"""One triage through the engine, and what it cost: the parity tests' shared steps.

The engine's answer (ranking, confidences, fault types, evidence ids, verdict)
must not depend on which store holds the data; the queries a store sent per
triage are counted and printed beside the time it took.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from agent.alert.parse import parse_alert
from agent.isolation.engine import isolate
from agent.isolation.models import Isolation
from tools.telemetry.composite import Telemetry, open_telemetry
from tools.telemetry.config import TelemetryConfig
from tools.telemetry.metering import Usage
from tools.telemetry.replay.format import CaseRecord

# Queries one triage may send to a live store (a regression guard on cost). Without
# Logs Insights (moto), the security scan's regex reads the window with
# FilterLogEvents in up to six slices per log group: about 30 calls here.
MAX_QUERIES = 40


@dataclass(frozen=True)
class Run:
    isolation: Isolation
    seconds: float
    usage: dict[str, Usage]


def triage(config: TelemetryConfig, case: CaseRecord) -> Run:
    opened = open_telemetry(config)
    assert opened is not None
    before = opened.usage() if isinstance(opened, Telemetry) else {}
    alerts = parse_alert(case.alert.payload, case.alert.source)
    started = time.perf_counter()
    isolation = isolate(opened(case.now), alerts)
    seconds = time.perf_counter() - started
    after = opened.usage() if isinstance(opened, Telemetry) else {}
    usage = {
        name: Usage(
            {k: v - before[name].calls.get(k, 0) for k, v in used.calls.items()},
            used.seconds - before[name].seconds,
            used.bytes_scanned - before[name].bytes_scanned,
        )
        for name, used in after.items()
    }
    return Run(isolation, seconds, usage)


def ranking(isolation: Isolation) -> list[str]:
    return [h.service for h in isolation.hypotheses]


def assert_same(live: Run, replay: Run, label: str) -> None:
    assert ranking(live.isolation) == ranking(replay.isolation)
    for ours, theirs in zip(live.isolation.hypotheses, replay.isolation.hypotheses, strict=True):
        assert ours.confidence == pytest.approx(theirs.confidence, abs=1e-6)
        assert ours.fault_type == theirs.fault_type
    assert {e.id for e in live.isolation.evidence} == {e.id for e in replay.isolation.evidence}
    assert live.isolation.verdict == replay.isolation.verdict
    for store, used in live.usage.items():
        assert used.total <= MAX_QUERIES, f"{store}: {used}"
        print(f"\n{label}: {store}: {used}; triage {live.seconds:.2f} s")
