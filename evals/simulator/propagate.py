"""From each service's own behaviour to what everyone sees: traffic flows down
the journeys, latency and failures flow back up.

A slow callee makes its callers slow by the calls they make to it; a failing
callee fails its callers as often as the edge lets failures through; a callee
slower than the caller's timeout fails the call; callers that retry multiply
the load on a failing callee (the retry storm). CPU follows traffic, and a
saturated pod's own work slows down like a queue near capacity.
"""

from __future__ import annotations

import math

import numpy as np

from evals.simulator.estate import FAIL_THROUGH, SOFT_EDGES, edge_visits_of, visits_of
from evals.simulator.state import CaseState, Derived, ServiceState

PASSES = 3
RTO_MS = 200.0
CALL_OVERHEAD_MS = 0.6
BASE_UTIL = 0.5
MAX_UTIL = 0.97


def propagate(state: CaseState) -> None:
    """Fill `state.derived` for every service."""
    estate = state.estate
    base_rps, flows = _journey_flows(state)
    errors = {name: np.zeros(state.minutes) for name in estate.names}
    for _ in range(PASSES):
        rps = _traffic(state, base_rps, flows, errors)
        state.derived = {}
        for name in estate.order:
            state.derived[name] = _service(state, name, rps[name], flows)
        errors = {name: seen_error(state, name) for name in estate.names}


def _journey_flows(
    state: CaseState,
) -> tuple[dict[str, np.ndarray], dict[tuple[str, str], np.ndarray]]:
    """Server requests per service and calls per edge, before retries."""
    base = {name: np.zeros(state.minutes) for name in state.estate.names}
    flows: dict[tuple[str, str], np.ndarray] = {}
    for journey in state.journeys:
        rps = state.journey_rps[journey.name]
        for service, n in visits_of(journey).items():
            base[service] = base[service] + rps * n
        for edge, n in edge_visits_of(journey).items():
            flows[edge] = flows.get(edge, np.zeros(state.minutes)) + rps * n
    return base, flows


def _traffic(
    state: CaseState,
    base: dict[str, np.ndarray],
    flows: dict[tuple[str, str], np.ndarray],
    errors: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Requests per service with retries: a callee failing a share E of calls
    gets (1 + retries * E) times the calls, and passes the extra load on."""
    amp: dict[str, np.ndarray] = {}
    out: dict[str, np.ndarray] = {}
    for name in reversed(state.estate.order):
        component = state.estate[name]
        callers = [c for c in state.estate.callers(name) if (c, name) in flows]
        inflow = sum((flows[(c, name)] for c in callers), np.zeros(state.minutes))
        upstream = sum((flows[(c, name)] * amp[c] for c in callers), np.zeros(state.minutes))
        carried = np.divide(upstream, inflow, out=np.ones(state.minutes), where=inflow > 0)
        retry = 1.0 + component.behaviour.retries * np.minimum(errors[name], 0.9)
        amp[name] = carried * retry
        svc = state.services[name]
        out[name] = (base[name] * amp[name]) * (1.0 - svc.reject) + svc.extra_rps
    return out


def _pod_shares(svc: ServiceState, rng: np.random.Generator) -> np.ndarray:
    """How the load balancer splits requests over ready pods (slightly uneven)."""
    weights = svc.up * rng.normal(1.0, 0.03, svc.up.shape).clip(0.8, 1.2)
    total = weights.sum(axis=0, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def _service(
    state: CaseState, name: str, rps: np.ndarray, flows: dict[tuple[str, str], np.ndarray]
) -> Derived:
    svc = state.services[name]
    behaviour = svc.component.behaviour
    pod_rps = _pod_shares(svc, state.rng) * rps[None, :]
    noise = state.rng.normal(0, 0.6, pod_rps.shape)
    cpu = behaviour.cpu_idle_pct + behaviour.cpu_per_rps * pod_rps + svc.cpu_extra + noise
    cpu = np.clip(cpu, 0.3, 100.0) * (svc.up > 0)
    self_ms = behaviour.self_ms * svc.self_mult * load_factor(cpu)
    down_ms = np.zeros(state.minutes)
    keep = np.ones(state.minutes)
    causes: dict[str, np.ndarray] = {}
    edge_calls: dict[str, np.ndarray] = {}
    edge_err: dict[str, np.ndarray] = {}
    edge_latency: dict[str, np.ndarray] = {}
    base = _served_rps(state, name)
    for callee in svc.component.depends_on:
        flow = flows.get((name, callee))
        if flow is None or callee not in state.derived:
            continue
        cpr = np.divide(flow, base, out=np.zeros(state.minutes), where=base > 0)
        waited = _waited_ms(state, callee)
        seen_err = seen_error(state, callee)
        down_ms = down_ms + cpr * waited
        through = SOFT_EDGES.get((name, callee), FAIL_THROUGH)
        fail = np.minimum(1.0, np.minimum(cpr, 1.0) * through * seen_err)
        keep = keep * (1.0 - fail)
        causes[callee] = fail
        edge_calls[callee] = rps * cpr
        edge_err[callee] = seen_err
        edge_latency[callee] = waited + CALL_OVERHEAD_MS
    latency = self_ms + down_ms[None, :]
    err = 1.0 - (1.0 - svc.own_err) * keep[None, :]
    causes["self"] = svc.own_err.mean(axis=0)
    total = np.maximum(pod_rps.sum(axis=0), 1e-9)
    weights = pod_rps / total
    return Derived(
        rps=pod_rps,
        latency_ms=latency,
        self_ms=self_ms,
        err=np.clip(err, 0.0, 1.0),
        cpu_pct=cpu,
        svc_rps=rps,
        svc_latency_ms=(weights * latency).sum(axis=0),
        svc_err=np.clip((weights * err).sum(axis=0), 0.0, 1.0),
        svc_tail_ms=(weights * svc.tail_ms).sum(axis=0),
        edge_calls=edge_calls,
        edge_err=edge_err,
        edge_latency_ms=edge_latency,
        err_causes=causes,
    )


def load_factor(cpu_pct: np.ndarray) -> np.ndarray:
    """How much slower own work gets as CPU nears saturation (a queue near
    capacity; 1 up to half the CPU)."""
    util = np.minimum(cpu_pct / 100.0, MAX_UTIL)
    return np.maximum(1.0, (1.0 - BASE_UTIL) / (1.0 - util))


def _served_rps(state: CaseState, name: str) -> np.ndarray:
    """Journey requests served by `name` (retries excluded), to turn flows into rates."""
    total = np.zeros(state.minutes)
    for journey in state.journeys:
        n = visits_of(journey).get(name, 0.0)
        if n:
            total = total + state.journey_rps[journey.name] * n
    return total


def _pod_weights(state: CaseState, name: str) -> np.ndarray:
    derived = state.derived[name]
    total = np.maximum(derived.rps.sum(axis=0, keepdims=True), 1e-9)
    return derived.rps / total


def _pod_seen_ms(state: CaseState, callee: str) -> np.ndarray:
    """What a caller waits for one call to each pod: the pod's latency, the
    network delay into it, and retransmission stalls where packets are lost."""
    svc, derived = state.services[callee], state.derived[callee]
    stalls = 3.0 * svc.loss_pct / 100.0 * RTO_MS
    return derived.latency_ms + svc.net_ms + stalls + CALL_OVERHEAD_MS


def _waited_ms(state: CaseState, callee: str) -> np.ndarray:
    """What a caller waits for one call on average, given up at its timeout
    (one slow pod of three times out a third of the calls, not all of them)."""
    timeout = state.services[callee].component.behaviour.timeout_ms
    capped = np.minimum(_pod_seen_ms(state, callee), timeout)
    return (_pod_weights(state, callee) * capped).sum(axis=0)


def seen_error(state: CaseState, callee: str) -> np.ndarray:
    """The share of calls that fail as the caller sees them: the callee's own
    failures, timeouts past the caller's patience, and calls lost to the wire."""
    if callee not in state.derived:
        return np.zeros(state.minutes)
    svc, derived = state.services[callee], state.derived[callee]
    timeouts = timeout_share(state, callee)
    weights = _pod_weights(state, callee)
    loss = (weights * svc.loss_pct).sum(axis=0) / 100.0
    lost = np.minimum(1.0, loss**2 * 4.0)
    refused = np.maximum(1.0 - svc.up.max(axis=0), svc.reject)
    out = 1.0 - (1.0 - derived.svc_err) * (1.0 - timeouts) * (1.0 - lost) * (1.0 - refused)
    return np.clip(out, 0.0, 1.0)


def timeout_share(state: CaseState, callee: str) -> np.ndarray:
    """The share of calls to `callee` that outlast the caller's timeout."""
    return timed_out_by_pod(state, callee).sum(axis=0)


def timed_out_by_pod(state: CaseState, callee: str) -> np.ndarray:
    """Per pod, the share of all calls to `callee` that went to that pod and
    outlasted the caller's timeout (each pod's calls spread lognormally
    around its latency)."""
    svc = state.services[callee]
    timeout = svc.component.behaviour.timeout_ms
    latency = _pod_seen_ms(state, callee) + svc.tail_ms * 0.5
    z = (math.log(timeout) - np.log(np.maximum(latency, 1e-3))) / 0.45
    return _pod_weights(state, callee) * 0.5 * _erfc(z / math.sqrt(2.0))


_ERFC = np.frompyfunc(math.erfc, 1, 1)


def _erfc(x: np.ndarray) -> np.ndarray:
    return np.asarray(_ERFC(x), dtype=float)
