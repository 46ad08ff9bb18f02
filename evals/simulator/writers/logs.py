"""Log records from a propagated case: chatter, access lines, request errors
and the streams faults and noise added.

Volumes are thinned the way a log pipeline would: access lines are sampled
by status (1 in 1000 successes, 1 in 8 failures, capped), application errors 1
in 5 (capped per pod), normal chatter at a few lines per pod-minute. Thinning
is uniform over time, so rates compare between baseline and incident. Error
lines carry the trace id of a real failed sampled trace where there is one.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from evals.simulator import formats
from evals.simulator.estate import Component, visits_of
from evals.simulator.propagate import seen_error, timeout_share
from evals.simulator.state import CaseState, LineContext, LogStream, MessageFn, ServiceState
from evals.simulator.timeutil import iso
from evals.simulator.traffic import PEAK_RPS
from evals.simulator.vocab import (
    call_failed,
    chatter,
    customer_ip,
    generic_error,
    hexid,
    pick,
    timeout_phrase,
    user_agent,
)
from evals.simulator.writers.files import dumps
from evals.simulator.writers.traces import TraceOutput

OK_KEEP = 1 / 1000
ERROR_KEEP = 1 / 8
ERROR_CAP = 40
APP_ERROR_KEEP = 1 / 5
APP_ERROR_CAP = 30
ACCESS_RUNTIMES = {"nginx", "envoy"}
SEARCH_WORDS = ("スニーカー", "coffee", "tote bag", "抹茶", "rice cooker", "yukata", "umbrella")
Row = tuple[float, str]


class LogWriter:
    """Renders one case's log lines; `rows` returns them in time order."""

    def __init__(self, state: CaseState, traces: TraceOutput, end_minute: int) -> None:
        self.state = state
        self.rng = state.rng
        self.traces = traces
        self.end = min(end_minute, state.minutes)
        self.volume = state.volume
        self.rows: list[Row] = []
        self._slow: dict[str, np.ndarray] = {}

    def render(self) -> list[Row]:
        for _name, svc in self.state.services.items():
            if svc.component.has_pods:
                self._chatter(svc)
            if svc.component.runtime in ACCESS_RUNTIMES:
                self._access(svc)
            elif svc.component.traced:
                self._request_errors(svc)
        for stream in self.state.streams:
            self._stream(stream)
        self.rows.sort(key=lambda row: row[0])
        return self.rows

    # -- records ---------------------------------------------------------------------
    def _emit(  # noqa: PLR0917
        self,
        ts: float,
        svc: ServiceState,
        slot: int,
        t: int,
        level: str,
        fn: MessageFn,
        traced: bool = True,
        attrs: dict[str, object] | None = None,
    ) -> None:
        trace_id, span_id = self._trace(svc, t) if traced else ("", "")
        instance = svc.instance(slot, t)
        ctx = LineContext(ts, svc.component.name, instance, trace_id, span_id)
        record: dict[str, object] = {
            "ts": iso(ts, 6),
            "service": svc.component.name,
            "instance": instance,
            "level": level,
            "message": fn(self.rng, ctx),
        }
        if trace_id:
            record["trace_id"] = trace_id
            record["span_id"] = span_id
        if attrs:
            record["attrs"] = attrs
        self.rows.append((ts, dumps(record)))

    def _trace(self, svc: ServiceState, t: int) -> tuple[str, str]:
        failed = self.traces.failed.get((svc.component.name, t))
        if failed and self.rng.random() < 0.7:
            return failed[int(self.rng.integers(0, len(failed)))]
        return hexid(self.rng, 32), hexid(self.rng, 16)

    def _times(self, t: int, n: int) -> np.ndarray:
        if n <= 0:
            return np.empty(0)
        return np.sort(self.state.ts[t] + self.rng.uniform(0, 60, n))

    def _slot(self, svc: ServiceState, t: int) -> int | None:
        up = np.flatnonzero(svc.up[:, t] > 0)
        return int(up[self.rng.integers(0, len(up))]) if len(up) else None

    # -- sources ----------------------------------------------------------------------
    def _chatter(self, svc: ServiceState) -> None:
        derived = self.state.derived[svc.component.name]
        peak = _peak_pod_rps(self.state, svc)
        for item in chatter(svc.component):
            for slot in range(svc.pods):
                scale = (
                    derived.rps[slot] / peak if item.with_traffic else np.ones(self.state.minutes)
                )
                counts = self.rng.poisson(item.per_pod_min * self.volume * np.maximum(scale, 0.0))
                for t in range(self.end):
                    if svc.up[slot, t] <= 0:
                        continue
                    for ts in self._times(t, int(counts[t])):
                        self._emit(
                            ts, svc, slot, t, item.level, item.message, traced=item.with_traffic
                        )

    def _access(self, svc: ServiceState) -> None:
        name = svc.component.name
        derived = self.state.derived[name]
        routes = _routes(self.state, name)
        reaches = [_services(self.state, journey) for journey, _ in routes]
        causes = list(derived.err_causes)
        shares = np.array([derived.err_causes[c] for c in causes])
        for slot in range(svc.pods):
            served = derived.rps[slot] * 60.0
            failed = served * derived.err[slot]
            ok_n = self.rng.poisson(np.maximum(served - failed, 0) * OK_KEEP * self.volume)
            err_n = np.minimum(self.rng.poisson(failed * ERROR_KEEP * self.volume), ERROR_CAP)
            for t in range(self.end):
                if svc.up[slot, t] <= 0:
                    continue
                weights = np.array([self.state.journey_rps[j][t] for j, _ in routes])
                total = shares[:, t].sum()
                odds = shares[:, t] / total if total > 0 else None
                for ts, bad in self._mixed(t, int(ok_n[t]), int(err_n[t])):
                    code, millis, chances = 200, float(derived.latency_ms[slot, t]), weights
                    failing = name
                    if bad:
                        # Each failure has its cause: its status, its duration, and a
                        # route whose calls reach the failing callee.
                        cause = causes[int(self.rng.choice(len(causes), p=odds))]
                        code, failing = self._failure(svc, t, cause)
                        reach = weights * np.array([failing in r for r in reaches])
                        chances = reach if reach.sum() > 0 else weights
                    pick_at = self.rng.random() * chances.sum()
                    index = int(np.searchsorted(np.cumsum(chances), pick_at, side="right"))
                    millis *= float(np.exp(self.rng.normal(-0.06, 0.35)))
                    if code == 504:
                        # Given up at the upstream's timeout.
                        limit = self.state.services[failing].component.behaviour.timeout_ms
                        millis = limit * float(self.rng.uniform(1.0, 1.03))
                    self._emit(
                        ts,
                        svc,
                        slot,
                        t,
                        _access_level(code),
                        _access_line(svc.component, routes[index][1], code, millis),
                    )

    def _mixed(self, t: int, ok: int, bad: int) -> Iterator[tuple[float, bool]]:
        flags = [False] * ok + [True] * bad
        times = self._times(t, len(flags))
        order = self.rng.permutation(len(flags))
        for i, ts in enumerate(times):
            yield float(ts), flags[int(order[i])]

    def _failure(self, svc: ServiceState, t: int, cause: str) -> tuple[int, str]:
        """The status a request that failed for `cause` got, and the service
        that failed it: the service's own status, or what the failing callee
        turned into (timeouts 504)."""
        if cause == "self":
            return svc.error_status, svc.component.name
        if self._timeouts(cause, t):
            return 504, cause
        return (503 if svc.component.runtime == "envoy" else 502), cause

    def _timeouts(self, callee: str, t: int) -> bool:
        """Whether calls to `callee` fail mostly by running out of time (what
        the caller waits includes the wire, so a network delay times out too)."""
        slow = self._slow.get(callee)
        if slow is None:
            timeouts = timeout_share(self.state, callee)
            slow = self._slow[callee] = timeouts > 0.5 * seen_error(self.state, callee)
        return bool(slow[t])

    def _request_errors(self, svc: ServiceState) -> None:
        name = svc.component.name
        derived = self.state.derived[name]
        own = svc.own_error or generic_error(svc.component)
        callee_fns = {
            c: (
                call_failed(
                    svc.component, self.state.estate[c], self._phrase(svc.component, c, False)
                ),
                call_failed(
                    svc.component, self.state.estate[c], self._phrase(svc.component, c, True)
                ),
            )
            for c in derived.err_causes
            if c != "self"
        }
        causes = list(derived.err_causes)
        shares = np.array([derived.err_causes[c] for c in causes])
        for slot in range(svc.pods):
            errors = derived.rps[slot] * 60.0 * derived.err[slot]
            counts = np.minimum(
                self.rng.poisson(errors * APP_ERROR_KEEP * self.volume), APP_ERROR_CAP
            )
            for t in range(self.end):
                if counts[t] == 0 or svc.up[slot, t] <= 0:
                    continue
                p = shares[:, t] / shares[:, t].sum() if shares[:, t].sum() > 0 else None
                for ts in self._times(t, int(counts[t])):
                    cause = causes[int(self.rng.choice(len(causes), p=p))]
                    if cause == "self":
                        fn = own
                    else:
                        fn = callee_fns[cause][int(self._timeouts(cause, t))]
                    self._emit(ts, svc, slot, t, "ERROR", fn)

    def _phrase(self, caller: Component, callee: str, timeout: bool) -> str:
        component = self.state.estate[callee]
        if timeout:
            return timeout_phrase(caller, component, component.behaviour.timeout_ms)
        return self.state.services[callee].error_phrase

    def _stream(self, stream: LogStream) -> None:
        svc = self.state.services[stream.service]
        scale = self.volume if stream.thinned else 1.0
        counts = self.rng.poisson(np.maximum(stream.rate[: self.end], 0.0) * scale)
        for t in range(self.end):
            for ts in self._times(t, int(counts[t])):
                slot = stream.slot if stream.slot is not None else self._slot(svc, t)
                if slot is None:
                    continue
                self._emit(
                    ts,
                    svc,
                    slot,
                    t,
                    stream.level,
                    stream.message,
                    stream.traced,
                    stream.attrs or None,
                )


def log_rows(state: CaseState, traces: TraceOutput, end_minute: int) -> list[Row]:
    return LogWriter(state, traces, end_minute).render()


def _peak_pod_rps(state: CaseState, svc: ServiceState) -> float:
    total = sum(
        (j.share * PEAK_RPS + j.fixed_rps) * visits_of(j).get(svc.component.name, 0.0)
        for j in state.estate.journeys
    )
    return max(total / max(svc.pods, 1), 1e-3)


def _services(state: CaseState, journey: str) -> set[str]:
    """Every service a journey's requests reach."""
    found = next((j for j in state.journeys if j.name == journey), None)
    return set(visits_of(found)) if found else set()


def _routes(state: CaseState, service: str) -> list[tuple[str, str]]:
    """(journey, operation) pairs this access-logging service serves."""
    out = []
    for journey in state.estate.journeys:
        call = journey.root
        if call.service != service:
            call = next((c for c in call.calls if c.service == service), call)
        if call.service == service:
            out.append((journey.name, call.operation))
    return out


def _access_level(status: int) -> str:
    """The level the pipeline derives from the status (access lines carry none)."""
    if status >= 500:
        return "ERROR"
    return "WARN" if status >= 400 else "INFO"


def _path(operation: str, rng: np.random.Generator) -> tuple[str, str]:
    method, template = operation.split(" ", 1)
    path = template.replace("{id}", str(rng.integers(100000, 999999)))
    if path.endswith("/search"):
        path += f"?q={pick(rng, SEARCH_WORDS)}&page={rng.integers(1, 4)}"
    return method, path


def _access_line(component: Component, operation: str, status: int, millis: float) -> MessageFn:
    def render(rng: np.random.Generator, ctx: LineContext) -> str:
        method, path = _path(operation, rng)
        size = int(rng.integers(800, 60000)) if status < 400 else int(rng.integers(90, 400))
        if component.runtime == "nginx":
            return formats.nginx(
                ctx.ts,
                customer_ip(rng),
                method,
                path,
                status,
                size,
                user_agent(rng),
                millis / 1000.0,
                ctx.trace_id,
            )
        flags = {503: "UF", 504: "UT"}.get(status, "-")
        upstream = f"10.{rng.integers(0, 4)}.{rng.integers(0, 64)}.{rng.integers(2, 250)}:8080"
        return formats.envoy(
            ctx.ts,
            customer_ip(rng),
            method,
            path,
            status,
            size,
            user_agent(rng),
            int(millis),
            ctx.trace_id,
            upstream,
            flags,
        )

    return render
