"""Resource faults of a pod: CPU saturation, a memory leak ending in OOM kills,
a volume filling up."""

from __future__ import annotations

import numpy as np

from evals.simulator import formats
from evals.simulator.faults.base import AlertPlan, FaultContext, Outcome, symptom_alerts
from evals.simulator.state import LineContext, Rng
from evals.simulator.vocab import app, java_stack

CPU_CAUSES = (
    "a catastrophic-backtracking regex in the product-name normaliser",
    "a hot loop in the price-rounding code after a cache miss",
    "JSON re-serialisation of a 4 MB payload on every request",
)


def cpu(ctx: FaultContext) -> Outcome:
    """One pod (or every pod, for a code path all of them hit) pinned at its
    CPU limit: throttled, slow, and slowing whoever calls it."""
    svc = ctx.svc
    whole = bool(ctx.rng.random() < 0.35)
    slots = list(range(svc.pods)) if whole else [ctx.slot]
    pin_cpu(ctx, slots, ctx.ramp(2.0))
    cause = CPU_CAUSES[int(ctx.rng.integers(0, len(CPU_CAUSES)))]
    where = "every pod" if whole else ctx.instance
    alerts = symptom_alerts(ctx.state, ctx.culprit)
    alerts.append(
        AlertPlan(
            name="CPUThrottlingHigh",
            service=ctx.culprit,
            summary=f"{ctx.culprit}: {ctx.instance} throttled in more than 25% of CFS periods",
            series=lambda s: s.services[ctx.culprit].extras["cpu_throttled_periods_pct"][ctx.slot],
            threshold=25.0,
            metric="cpu_throttled_periods_pct",
            instance=ctx.instance,
            severity="warning",
            weight=1.5,
        )
    )
    return Outcome(
        f"CPU saturated on {where}: {cause}",
        instance=None if whole else ctx.instance,
        alerts=alerts,
    )


def pin_cpu(ctx: FaultContext, slots: list[int], rise: np.ndarray, extra: float = 78.0) -> None:
    """Pods in `slots` pinned at their CPU limit as `rise` goes to 1 (`extra`
    points of CPU on top of their load): CPU and CFS throttling up; an
    application logs that its requests run slow."""
    svc = ctx.svc
    for slot in slots:
        svc.cpu_extra[slot] += extra * rise * ctx.rng.uniform(0.95, 1.05)
    throttled = np.full((svc.pods, ctx.state.minutes), 1.5) + ctx.rng.uniform(0, 1, (svc.pods, 1))
    for slot in slots:
        throttled[slot] += 55.0 * rise
    svc.extras["cpu_throttled_periods_pct"] = throttled
    if not svc.component.traced:
        return
    text = (
        "HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta=58s421ms)."
        if svc.component.runtime == "java"
        else "slow request: handler exceeded 1s budget"
    )
    for slot in slots:
        ctx.stream("WARN", ctx.app_line("WARN", text), 4.0 * rise, slot=slot)


def memory(ctx: FaultContext) -> Outcome:
    """A leak on every pod (a code change's cache without eviction): memory
    climbs to the limit, GC thrashes, the pod is OOMKilled and restarts,
    and it starts leaking again."""
    svc, state = ctx.svc, ctx.state
    base = svc.component.behaviour.mem_mib
    limit = svc.component.behaviour.mem_limit_mib
    java = svc.component.runtime == "java"
    for slot in range(svc.pods):
        minutes_to_oom = ctx.rng.uniform(18, 30) * (0.9 if slot == ctx.slot else 1.1)
        slope = (limit - base) / minutes_to_oom
        level = svc.mem_mib[slot, ctx.minute - 1] if ctx.minute else base
        restarts = float(svc.restarts[slot, ctx.minute])
        for t in range(ctx.minute, state.minutes):
            level += slope * ctx.rng.uniform(0.8, 1.2)
            if level >= limit * 0.985:
                _oom(ctx, slot, t, java)
                restarts += 1.0
                level = base * 0.8
            svc.mem_mib[slot, t] = min(level, limit) + ctx.rng.normal(0, 3)
            svc.restarts[slot, t] = restarts
            pressure = max(0.0, (level / limit - 0.8) / 0.2)
            svc.self_mult[slot, t] *= 1.0 + 3.0 * pressure**2
            svc.tail_ms[slot, t] += 600.0 * pressure**2 if java else 0.0
            svc.cpu_extra[slot, t] += 30.0 * pressure**2
    svc.error_phrase = "Connection reset by peer"
    gc = np.clip((svc.mem_mib / limit - 0.85) / 0.15, 0, 1).mean(axis=0) * 6.0
    if java:
        ctx.stream(
            "WARN",
            ctx.app_line("WARN", "Pause Full (G1 Compaction Pause) 1490M->1466M(1536M) 1843.112ms"),
            gc,
        )
    alerts = symptom_alerts(state, ctx.culprit, weight=0.7)
    alerts.append(
        AlertPlan(
            name="KubePodOOMKilled",
            service=ctx.culprit,
            summary=f"{ctx.culprit}: container OOMKilled and restarted",
            series=lambda s: s.services[ctx.culprit].restarts.sum(axis=0) * 10.0,
            threshold=5.0,
            metric="restarts",
            severity="warning",
            weight=1.5,
        )
    )
    return Outcome(
        f"memory leak in {ctx.culprit} (unbounded in-process cache): OOMKilled at"
        f" {limit:.0f} MiB, restarts",
        alerts=alerts,
    )


def _oom(ctx: FaultContext, slot: int, t: int, java: bool) -> None:
    """The kill: in-flight requests fail, the pod is gone for a minute."""
    svc = ctx.svc
    svc.own_err[slot, t] = max(svc.own_err[slot, t], 0.35)
    if t + 1 < ctx.state.minutes:
        svc.up[slot, t + 1] = 0.0
    rate = np.zeros(ctx.state.minutes)
    rate[t] = 3.0
    if java:
        stack = java_stack(
            "java.lang.OutOfMemoryError",
            "Java heap space",
            (
                "java.base/java.util.Arrays.copyOf(Arrays.java:3541)",
                "java.base/java.util.HashMap.resize(HashMap.java:702)",
                f"jp.sakuramart.{ctx.culprit.split('-')[0]}.cache.PriceCache.put(PriceCache.java:57)",
            ),
        )
        fn = app(svc.component, "ERROR", lambda rng: "Unexpected error in request handler", stack)
    else:
        fn = ctx.app_line(
            "FATAL",
            "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
        )
    ctx.stream("ERROR", fn, rate, slot=slot, thinned=False)


def disk(ctx: FaultContext) -> Outcome:
    """A volume fills: PostgreSQL's WAL behind an inactive replication slot, or
    a Kafka log directory; writes fail once it is full."""
    svc, state = ctx.svc, ctx.state
    slot = 0 if ctx.culprit == "orders-db" else ctx.slot
    start = float(svc.disk_pct[slot, ctx.minute])
    fill = np.clip(start + (100.0 - start) * ctx.ramp(ctx.rng.uniform(6, 10), 1.6), 0, 100)
    svc.disk_pct[slot] = np.maximum(svc.disk_pct[slot], fill)
    full = (fill >= 99.9).astype(float)
    if ctx.culprit == "orders-db":
        svc.own_err[slot] += 0.55 * full
        svc.error_phrase = "ERROR: could not extend file: No space left on device"
        rate = 25.0 * full
        ctx.stream("ERROR", _pg_full, rate, slot=slot, traced=False)
        warn = np.where((fill > 95) & (full < 1), 2.0, 0.0)
        ctx.stream("WARN", _pg_slot_warning, warn, slot=slot, traced=False)
        detail = "orders-db data volume full: WAL retained by an inactive replication slot"
    else:
        svc.own_err[slot] += 0.9 * full
        svc.error_phrase = "KafkaStorageException: Disk error when trying to access log file"
        ctx.stream("ERROR", _kafka_full, 12.0 * full, slot=slot, traced=False)
        detail = f"{ctx.instance} log directory full: retention misconfigured on a new topic"
    pod = svc.instance(slot, ctx.minute)
    alerts = symptom_alerts(state, ctx.culprit, weight=0.8)
    alerts.append(
        AlertPlan(
            name="KubePersistentVolumeFillingUp",
            service=ctx.culprit,
            summary=f"{ctx.culprit}: volume of {pod} is more than 97% full",
            series=lambda s: s.services[ctx.culprit].disk_pct[slot],
            threshold=97.0,
            metric="disk_usage_pct",
            instance=svc.instance(slot, ctx.minute),
            weight=1.5,
        )
    )
    return Outcome(detail, instance=svc.instance(slot, ctx.minute), alerts=alerts)


def _pg_full(rng: Rng, ctx: LineContext) -> str:
    table = int(rng.integers(16390, 24600))
    return formats.postgres(
        ctx.ts,
        int(rng.integers(1000, 40000)),
        "checkout@orders",
        "ERROR",
        f'could not extend file "base/16384/{table}": No space left on device',
    )


def _pg_slot_warning(rng: Rng, ctx: LineContext) -> str:
    return formats.postgres(
        ctx.ts,
        71,
        "",
        "WARNING",
        'replication slot "analytics_cdc" is inactive; retaining'
        f" {rng.integers(180, 260)} GB of WAL",
    )


def _kafka_full(rng: Rng, ctx: LineContext) -> str:
    partition = rng.integers(0, 12)
    return formats.kafka(
        ctx.ts,
        "ERROR",
        f"Error while appending records to orders.events-{partition} in dir"
        " /var/lib/kafka/data java.io.IOException: No space left on device",
        "kafka.server.LogDirFailureChannel",
    )
