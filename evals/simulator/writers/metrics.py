"""Metric rows (`ts,service,instance,metric,value`) from a propagated case.

Per pod: resources (CPU, memory, restarts, disk) and server-side RED
(requests, errors, latency percentiles); per service (empty instance): RED as
the mesh reports it and each outgoing edge's latency and errors; plus whatever
extra series faults and runtimes add (pool usage, consumer lag, hit ratio...).
Counts carry Poisson/binomial noise, so quiet hours are noisier than busy ones.
A pod that is not running has no samples that minute (a gap), as in Prometheus.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from evals.simulator.state import CaseState, Derived, ServiceState
from evals.simulator.timeutil import iso

Z90, Z99 = 1.2816, 2.3263
Row = tuple[float, str]


def metric_rows(state: CaseState, end_minute: int) -> Iterator[Row]:
    """Every sample of the case up to (not including) `end_minute`."""
    stamps = [iso(t) for t in state.ts]
    for name, svc in state.services.items():
        derived = state.derived[name]
        if svc.component.has_pods:
            yield from _pod_rows(state, svc, derived, stamps, end_minute)
        yield from _service_rows(state, svc, derived, stamps, end_minute)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _percentiles(mean_ms: np.ndarray, sigma: float, tail_ms: np.ndarray) -> tuple[np.ndarray, ...]:
    """p50/p90/p99 in seconds of a lognormal with this mean, plus any tail."""
    median = mean_ms / np.exp(sigma**2 / 2)
    p50 = median
    p90 = median * np.exp(Z90 * sigma) + 0.3 * tail_ms
    p99 = median * np.exp(Z99 * sigma) + tail_ms
    return p50 / 1000.0, p90 / 1000.0, p99 / 1000.0


def _red(  # noqa: PLR0917
    rng: np.random.Generator,
    rps: np.ndarray,
    err: np.ndarray,
    latency_ms: np.ndarray,
    sigma: float,
    tail_ms: np.ndarray,
) -> dict[str, np.ndarray]:
    """Requests, error share and latency percentiles as a scrape would see them."""
    count = np.maximum(rps * 60.0, 0.0)
    seen = rng.poisson(count)
    failed = rng.binomial(seen, np.clip(err, 0.0, 1.0))
    noise = np.exp(rng.normal(0.0, 0.04 + 0.6 / np.sqrt(seen + 4.0)))
    p50, p90, p99 = _percentiles(latency_ms * noise, sigma, tail_ms)
    return {
        "requests_per_s": seen / 60.0,
        "error_rate_pct": np.divide(100.0 * failed, seen, out=np.zeros(len(seen)), where=seen > 0),
        "p50": p50,
        "p90": p90,
        "p99": p99,
    }


def _pod_rows(
    state: CaseState, svc: ServiceState, derived: Derived, stamps: list[str], end: int
) -> Iterator[Row]:
    rng = state.rng
    name = svc.component.name
    sigma = svc.component.behaviour.sigma
    for slot in range(svc.pods):
        red = _red(
            rng,
            derived.rps[slot],
            derived.err[slot],
            derived.latency_ms[slot],
            sigma,
            svc.tail_ms[slot],
        )
        series = {
            "cpu_usage_pct": derived.cpu_pct[slot],
            "memory_usage_mib": svc.mem_mib[slot],
            "restarts": svc.restarts[slot],
            "disk_usage_pct": np.minimum(svc.disk_pct[slot], 100.0),
            "requests_per_s": red["requests_per_s"],
            "error_rate_pct": red["error_rate_pct"],
            "server_latency_p50_s": red["p50"],
            "server_latency_p90_s": red["p90"],
            "server_latency_p99_s": red["p99"],
        }
        series.update({k: v[slot] for k, v in svc.extras.items() if v.ndim == 2})
        for t in range(min(end, state.minutes)):
            instance = svc.instance(slot, t)
            running = svc.up[slot, t] > 0
            for metric, values in series.items():
                if running or metric == "restarts":
                    yield state.ts[t], f"{stamps[t]},{name},{instance},{metric},{_fmt(values[t])}"


def _service_rows(
    state: CaseState, svc: ServiceState, derived: Derived, stamps: list[str], end: int
) -> Iterator[Row]:
    name = svc.component.name
    series: dict[str, np.ndarray] = {}
    if svc.component.kind == "external" and name in state.estate.names:
        series.update(_probe(state, svc, derived))
    elif svc.component.traced or not svc.component.has_pods:
        red = _red(
            state.rng,
            derived.svc_rps,
            derived.svc_err,
            derived.svc_latency_ms,
            svc.component.behaviour.sigma,
            derived.svc_tail_ms,
        )
        series.update(
            {
                "requests_per_s": red["requests_per_s"],
                "error_rate_pct": red["error_rate_pct"],
                "latency_p50_s": red["p50"],
                "latency_p90_s": red["p90"],
                "latency_p99_s": red["p99"],
            }
        )
    for callee, calls in derived.edge_calls.items():
        red = _red(
            state.rng,
            calls,
            derived.edge_err[callee],
            derived.edge_latency_ms[callee],
            state.services[callee].component.behaviour.sigma,
            state.derived[callee].svc_tail_ms,
        )
        # The caller stops waiting at its timeout: its client-side p99 does too.
        timeout_s = state.services[callee].component.behaviour.timeout_ms / 1000.0
        series[f"to_{callee}_latency_p99_s"] = np.minimum(red["p99"], timeout_s)
        series[f"to_{callee}_error_rate_pct"] = red["error_rate_pct"]
    series.update({k: v for k, v in svc.extras.items() if v.ndim == 1})
    for t in range(min(end, state.minutes)):
        for metric, values in series.items():
            if not np.isnan(values[t]):
                yield state.ts[t], f"{stamps[t]},{name},,{metric},{_fmt(values[t])}"


def _probe(state: CaseState, svc: ServiceState, derived: Derived) -> dict[str, np.ndarray]:
    """A blackbox exporter probing an external endpoint every 15 s: success
    share and probe duration (what we can see of a provider we don't run)."""
    if not svc.component.behaviour.self_ms:
        return {}
    rng = state.rng
    failing = np.clip(derived.svc_err + (1.0 - svc.up.max(axis=0)), 0.0, 1.0)
    ok = rng.binomial(4, 1.0 - failing)
    timeout = svc.component.behaviour.timeout_ms
    duration = np.minimum(derived.svc_latency_ms * np.exp(rng.normal(0, 0.1, len(ok))), timeout)
    return {"probe_success_pct": 25.0 * ok, "probe_duration_s": duration / 1000.0}
