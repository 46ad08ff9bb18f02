"""Sampled traces from a propagated case, consistent with its metrics.

Each journey is sampled at its own rate (the busy pages rarely, checkout and
login often: per-endpoint sampling rules as X-Ray or Datadog set them). A
sampled request walks its call tree: every traced service writes a server
span (its own work is drawn from its state that minute) and a client span per
call it makes; datastores, the queue, object storage and the PSP appear only
as client spans named after them (peer-service naming), so their slowness is
their spans' own time. Network delay and retransmits on a pod show up as the
gap between a client span and the server span under it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from evals.simulator.estate import FAIL_THROUGH, SOFT_EDGES, Call
from evals.simulator.propagate import CALL_OVERHEAD_MS, RTO_MS
from evals.simulator.state import CaseState
from evals.simulator.timeutil import iso
from evals.simulator.vocab import hexid

HEADER = "ts,trace_id,span_id,parent_span_id,service,instance,operation,duration_ms,status"
SAMPLE_RATE = {
    "home": 1 / 4000,
    "search": 1 / 4000,
    "product": 1 / 2000,
    "cart": 1 / 800,
    "login": 1 / 500,
    "checkout": 1 / 150,
    "notify": 1 / 20,
    "settle": 1 / 10,
}
DEFAULT_RATE = 1 / 300
Row = tuple[float, str]


@dataclass
class TraceOutput:
    """The spans, and the failed server spans by (service, minute) so error log
    lines can carry the trace ids of real failed requests."""

    rows: list[Row] = field(default_factory=list)
    failed: dict[tuple[str, int], list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )


@dataclass
class _Span:
    start: float
    span_id: str
    parent: str
    service: str
    instance: str
    operation: str
    duration_ms: float
    error: bool
    server: bool = False


class _Walker:
    """Builds the spans of one sampled request."""

    def __init__(self, state: CaseState, minute: int, trace_id: str) -> None:
        self.state = state
        self.rng = state.rng
        self.t = minute
        self.trace_id = trace_id
        self.spans: list[_Span] = []

    def server(self, call: Call, start: float, parent: str) -> tuple[float, bool]:
        """A traced service handling `call`; returns (duration ms, failed)."""
        svc = self.state.services[call.service]
        derived = self.state.derived[call.service]
        slot = self._slot(derived.rps[:, self.t])
        sigma = svc.component.behaviour.sigma
        own = float(derived.self_ms[slot, self.t])
        own_ms = own * float(np.exp(self.rng.normal(-(sigma**2) / 2, sigma)))
        span = _Span(
            start,
            hexid(self.rng, 16),
            parent,
            call.service,
            svc.instance(slot, self.t),
            call.operation,
            0.0,
            False,
            server=True,
        )
        self.spans.append(span)
        failed = bool(self.rng.random() < svc.own_err[slot, self.t])
        clock = start + own_ms * 0.4 / 1000.0
        spent = own_ms
        for child in call.calls:
            for _ in range(self._times(child.count)):
                took, child_failed = self.client(
                    call.service, svc.instance(slot, self.t), child, clock, span.span_id
                )
                clock += took / 1000.0
                spent += took
                through = SOFT_EDGES.get((call.service, child.service), FAIL_THROUGH)
                if child_failed and self.rng.random() < through:
                    failed = True
        span.duration_ms, span.error = spent, failed
        return spent, failed

    def client(
        self, caller: str, instance: str, call: Call, start: float, parent: str
    ) -> tuple[float, bool]:
        """The caller's client span for one call, with the callee under it."""
        callee = self.state.services[call.service]
        derived = self.state.derived[call.service]
        timeout = callee.component.behaviour.timeout_ms
        slot = self._slot(derived.rps[:, self.t])
        wire = CALL_OVERHEAD_MS * float(self.rng.uniform(0.5, 1.5))
        delay = float(callee.net_ms[slot, self.t])
        if delay > 0:
            # netem-style jitter around the added delay.
            wire += delay * float(np.exp(self.rng.normal(0.0, 0.25)))
        if self.rng.random() < 3.0 * callee.loss_pct[slot, self.t] / 100.0:
            wire += RTO_MS * float(self.rng.integers(1, 3))
        refused = callee.up[:, self.t].max() <= 0 or self.rng.random() < callee.reject[self.t]
        if callee.component.traced:
            span = _Span(
                start, hexid(self.rng, 16), parent, caller, instance, call.operation, 0.0, False
            )
            self.spans.append(span)
            if refused:
                span.duration_ms, span.error = wire, True
                return wire, True
            took, failed = self.server(call, start + wire / 2000.0, span.span_id)
            total = took + wire
        else:
            sigma = callee.component.behaviour.sigma
            mean = float(derived.latency_ms[slot, self.t])
            took = mean * float(np.exp(self.rng.normal(-(sigma**2) / 2, sigma)))
            took += float(callee.tail_ms[slot, self.t]) * float(self.rng.random() < 0.05)
            failed = refused or bool(self.rng.random() < derived.err[slot, self.t])
            total = took + wire
            span = _Span(
                start,
                hexid(self.rng, 16),
                parent,
                call.service,
                callee.instance(slot, self.t),
                call.operation,
                0.0,
                False,
            )
            self.spans.append(span)
        if total > timeout:
            total, failed = timeout, True
        span.duration_ms, span.error = total, failed
        return total, failed

    def _slot(self, weights: np.ndarray) -> int:
        if len(weights) == 1:
            return 0
        cumulative = np.cumsum(weights)
        if cumulative[-1] <= 0:
            return 0
        return int(np.searchsorted(cumulative, self.rng.random() * cumulative[-1], side="right"))

    def _times(self, count: float) -> int:
        whole = int(count)
        return whole + int(self.rng.random() < count - whole)


def trace_rows(state: CaseState, end_minute: int) -> TraceOutput:
    """Sampled spans of every journey for minutes before `end_minute`."""
    out = TraceOutput()
    for t in range(min(end_minute, state.minutes)):
        for journey in state.journeys:
            rate = SAMPLE_RATE.get(journey.name, DEFAULT_RATE)
            expected = float(state.journey_rps[journey.name][t]) * 60.0 * rate * state.volume
            for _ in range(int(state.rng.poisson(expected))):
                start = float(state.ts[t] + state.rng.uniform(0, 60))
                walker = _Walker(state, t, hexid(state.rng, 32))
                walker.server(journey.root, start, "")
                _emit(walker, out, t)
    return out


def _emit(walker: _Walker, out: TraceOutput, minute: int) -> None:
    for span in walker.spans:
        status = "error" if span.error else "ok"
        out.rows.append(
            (
                span.start,
                ",".join(
                    (
                        iso(span.start, 6),
                        walker.trace_id,
                        span.span_id,
                        span.parent,
                        span.service,
                        span.instance,
                        span.operation,
                        f"{span.duration_ms:.3f}",
                        status,
                    )
                ),
            )
        )
        if span.error and span.server:
            out.failed[(span.service, minute)].append((walker.trace_id, span.span_id))
