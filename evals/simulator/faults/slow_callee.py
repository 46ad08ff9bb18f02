"""A slow callee with timing-out callers: a dependency gets slow and the
services that call it give up at their client timeouts, fail their own
requests and log the timeouts, so the callers look loudest while the callee
itself barely complains.

Either the wire into the callee got slow (`network-delay`: its own processing
time and CPU stay flat, only what its callers wait grows) or its own
processing slowed (`cpu`: its CPU pinned, its own server time up). A callee
that writes server spans shows where the time went in client-vs-server span
timing; one that does not (a cache, a queue, a database) is seen only in its
callers' client spans, per-edge latency and timeouts. A database's own
slowness is the `database` fault (slow-query), so a slow database here is
always the network into it.
"""

from __future__ import annotations

import numpy as np

from evals.simulator.estate import Estate
from evals.simulator.faults.base import FaultContext, Outcome, symptom_alerts
from evals.simulator.faults.resource import pin_cpu
from evals.simulator.propagate import load_factor, timed_out_by_pod
from evals.simulator.state import CaseState, LogStream
from evals.simulator.vocab import client_gone

# Callees whose own slowness is another fault type (see the module docstring).
NETWORK_ONLY_KINDS = ("database",)
NETWORK_CAUSES = (
    "a node's ENA driver renegotiated to a degraded link after a kernel upgrade",
    "a traffic-shaping rule left on its nodes by a load test",
    "conntrack table pressure on its node",
    "a cross-zone route after its nodes were rescheduled into another availability zone",
)
CPU_CAUSES = {
    "service": (
        "a regex with catastrophic backtracking on a new kind of product name",
        "an O(n^2) merge over a list that grew fifty-fold overnight",
        "JSON re-serialisation of a 4 MB payload on every request",
    ),
    "cache": (
        "a debug job running KEYS * and large ZRANGEs in a loop blocks the event loop",
        "a Lua script scanning a 2M-member set on every call",
    ),
    "queue": (
        "brokers re-compressing every batch (producer zstd, topic gzip)",
        "the log cleaner compacting a 300 GB topic on every broker at once",
    ),
}
# Client-disconnect lines a server writes when its caller has already given up.
GONE_RATE_CAP = 6.0
GONE_KEEP = 1 / 100


def slow_callee(ctx: FaultContext) -> Outcome:
    """Slow the culprit until its callers time out on a share of their calls."""
    svc, state = ctx.svc, ctx.state
    variants = (
        ("network-delay",) if svc.component.kind in NETWORK_ONLY_KINDS else ("network-delay", "cpu")
    )
    fault_type = variants[int(ctx.rng.integers(0, len(variants)))]
    whole = bool(ctx.rng.random() < 0.5)
    slots = list(range(svc.pods)) if whole else [ctx.slot]
    # How slow: around the first client timeout the slowness meets.
    budget = budget_ms(state.estate, ctx.culprit)
    target_ms = budget * float(ctx.rng.uniform(0.7, 1.6))
    where = "every pod" if whole else ctx.instance
    if fault_type == "network-delay":
        for slot in slots:
            svc.net_ms[slot] += target_ms * ctx.ramp(1.0)
        cause = NETWORK_CAUSES[int(ctx.rng.integers(0, len(NETWORK_CAUSES)))]
        detail = f"{target_ms:.0f} ms of added network latency into {ctx.culprit} ({where})"
        detail += f": {cause}"
    else:
        _slow_own_work(ctx, slots, target_ms)
        causes = CPU_CAUSES.get(svc.component.kind, CPU_CAUSES["service"])
        cause = causes[int(ctx.rng.integers(0, len(causes)))]
        detail = f"{ctx.culprit} CPU-bound on {where} ({cause}): own work ~{target_ms:.0f} ms"
    return Outcome(
        f"{detail}; calls time out after {budget:.0f} ms",
        instance=None if whole else ctx.instance,
        fault_type=fault_type,
        alerts=symptom_alerts(state, ctx.culprit),
        after=[lambda s: _callers_gone(s, ctx.culprit)],
    )


def budget_ms(estate: Estate, callee: str) -> float:
    """The first client timeout slowness in `callee` meets on its way up: the
    timeout its callers give it, or a smaller one their own callers give them
    (a database slower than its callers' callers' patience)."""
    limits = [estate[callee].behaviour.timeout_ms]
    limits += [
        estate[caller].behaviour.timeout_ms
        for caller in estate.callers(callee)
        if estate.callers(caller)
    ]
    return min(limits)


def _slow_own_work(ctx: FaultContext, slots: list[int], target_ms: float) -> None:
    """Pin the pods' CPU at their limit, whatever their traffic, and slow
    their own work until it takes about `target_ms` there (what a CPU-bound
    code path does)."""
    svc = ctx.svc
    rise = ctx.ramp(2.0)
    pin_cpu(ctx, slots, rise, extra=100.0)
    saturated = float(load_factor(np.array([100.0]))[0])
    wanted = target_ms / (svc.component.behaviour.self_ms * saturated)
    for slot in slots:
        svc.self_mult[slot] *= 1.0 + max(wanted - 1.0, 0.0) * rise


def _callers_gone(state: CaseState, callee: str) -> None:
    """The callee's own trace of the timeouts: a server notices its client
    hung up (broken pipe, context canceled) when it finally answers, pod by
    pod as the timeouts hit them; a cache and a queue broker log nothing."""
    line = client_gone(state.estate[callee])
    if line is None:
        return
    level, message = line
    callers = state.estate.callers(callee)
    calls = sum(
        (state.derived[c].edge_calls.get(callee, 0.0) for c in callers), np.zeros(state.minutes)
    )
    timed_out = timed_out_by_pod(state, callee)
    for slot in range(state.services[callee].pods):
        rate = np.minimum(calls * timed_out[slot] * 60.0 * GONE_KEEP, GONE_RATE_CAP)
        state.add_stream(LogStream(callee, level, message, rate, slot=slot))
