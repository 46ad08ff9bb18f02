"""Datastore faults: a connection pool running dry, slow queries or lock
waits in the database, and a cache stampede onto it."""

from __future__ import annotations

import numpy as np

from evals.simulator import formats
from evals.simulator.faults.base import AlertPlan, FaultContext, Outcome, symptom_alerts
from evals.simulator.state import LineContext, Rng
from evals.simulator.vocab import app, java_stack

POOL_TIMEOUT_MS = 30000


def pool_exhaustion(ctx: FaultContext) -> Outcome:
    """A code path that never returns its connection (a transaction left open
    on an error branch): the pool fills, requests wait 30 s for a connection,
    callers time out."""
    svc, state = ctx.svc, ctx.state
    leaked = 23.0 * ctx.ramp(ctx.rng.uniform(5, 9), 1.3)
    svc.knobs["pool_leaked"] = np.repeat(leaked[None, :], svc.pods, axis=0)
    saturated = np.clip((leaked - 15.0) / 5.0, 0.0, 1.0)
    svc.self_mult *= 1.0 + 60.0 * saturated[None, :]
    svc.own_err += 0.45 * saturated[None, :]
    if svc.component.runtime == "java":
        stack = java_stack(
            "java.sql.SQLTransientConnectionException",
            "HikariPool-1 - Connection is not available, request timed out after 30000ms"
            " (total=20, active=20, idle=0, waiting=57)",
            (
                "com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:686)",
                "com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:179)",
                "org.springframework.jdbc.datasource.DataSourceUtils.fetchConnection"
                "(DataSourceUtils.java:160)",
            ),
        )
        svc.own_error = app(
            svc.component,
            "ERROR",
            lambda rng: "Could not open JDBC Connection for transaction",
            stack,
        )
    else:
        svc.own_error = app(
            svc.component,
            "ERROR",
            lambda rng: (
                "acquire connection from pool: context deadline exceeded (pool size 20, waiting 41)"
            ),
        )
    alerts = symptom_alerts(state, ctx.culprit)
    alerts.append(
        AlertPlan(
            name="DBConnectionPoolSaturated",
            service=ctx.culprit,
            summary=f"{ctx.culprit}: JDBC pool above 95% in use",
            series=lambda s: s.services[ctx.culprit].extras["db_pool_usage_pct"].mean(axis=0),
            threshold=95.0,
            metric="db_pool_usage_pct",
            severity="warning",
        )
    )
    return Outcome(
        f"{ctx.culprit} leaks pooled DB connections on an error path; the pool (20) is"
        " exhausted and requests wait for a connection",
        alerts=alerts,
    )


SLOW_SQL = (
    "SELECT o.*, i.* FROM orders o JOIN order_items i ON i.order_id = o.id"
    " WHERE o.customer_id = $1 ORDER BY o.created_at DESC LIMIT 20"
)
LOCK_SQL = "UPDATE stock SET reserved = reserved + $1 WHERE sku = $2"


def database(ctx: FaultContext) -> Outcome:
    """orders-db slows down: a query that lost its index (CPU and IO up), or
    lock waits behind a long migration (CPU flat, locks piling up)."""
    svc, state = ctx.svc, ctx.state
    on = ctx.ramp(1.5)
    if ctx.rng.random() < 0.5:
        svc.self_mult *= 1.0 + 140.0 * on[None, :]
        svc.cpu_extra[0] += 40.0 * on
        svc.cpu_extra[1:] += 12.0 * on
        ctx.stream("INFO", _slow_statement, 30.0 * on, slot=0, traced=False)
        detail = "slow query on orders-db: migration 0142 dropped idx_orders_customer_created"
    else:
        svc.self_mult *= 1.0 + 320.0 * on[None, :]
        svc.own_err += 0.06 * on[None, :]
        svc.error_phrase = "ERROR: canceling statement due to lock timeout"
        svc.knobs["locks"] = np.vstack([60.0 * on, 0.0 * on] + [0.0 * on] * (svc.pods - 2))
        ctx.stream("INFO", _lock_wait, 25.0 * on, slot=0, traced=False)
        ctx.stream("ERROR", _lock_timeout, 6.0 * on, slot=0, traced=False)
        detail = "lock contention on orders-db: a long ALTER TABLE stock holds an exclusive lock"
    alerts = symptom_alerts(state, ctx.culprit)
    return Outcome(detail, instance=svc.instance(0, ctx.minute), alerts=alerts)


def _slow_statement(rng: Rng, ctx: LineContext) -> str:
    return formats.postgres(
        ctx.ts,
        int(rng.integers(1000, 40000)),
        "checkout@orders",
        "LOG",
        f"duration: {rng.uniform(2500, 9000):.3f} ms  execute <unnamed>: {SLOW_SQL}",
    )


def _lock_wait(rng: Rng, ctx: LineContext) -> str:
    return formats.postgres(
        ctx.ts,
        int(rng.integers(1000, 40000)),
        "inventory@orders",
        "LOG",
        f"process {rng.integers(1000, 40000)} still waiting for RowExclusiveLock on relation"
        f" 16412 of database 16384 after {rng.uniform(1000, 1100):.3f} ms",
    )


def _lock_timeout(rng: Rng, ctx: LineContext) -> str:
    return formats.postgres(
        ctx.ts,
        int(rng.integers(1000, 40000)),
        "inventory@orders",
        "ERROR",
        f"canceling statement due to lock timeout\nSTATEMENT:  {LOCK_SQL}",
    )


def cache_stampede(ctx: FaultContext) -> Outcome:
    """Redis hits maxmemory after a bulk key load and evicts the hot keys;
    every miss is recomputed against orders-db at once."""
    state = ctx.state
    on = ctx.ramp(2.0)
    cache = ctx.svc
    cache.knobs["hit_ratio"] = 0.945 - 0.55 * on
    cache.knobs["evictions"] = np.repeat((9000.0 * on)[None, :], cache.pods, axis=0)
    cache.cpu_extra += 45.0 * on[None, :]
    cache.self_mult *= 1.0 + 4.0 * on[None, :]
    db = state.services["orders-db"]
    db.cpu_extra += 38.0 * on[None, :]
    db.self_mult *= 1.0 + 30.0 * on[None, :]
    for name in ("search", "cart", "auth", "inventory", "recommendations"):
        state.services[name].self_mult *= 1.0 + 2.5 * on[None, :]
    ctx.stream("WARN", _redis_maxmemory, 2.0 * on, traced=False)
    alerts = symptom_alerts(state, ctx.culprit, weight=0.6)
    alerts += symptom_alerts(state, "search", weight=0.6)
    alerts.append(
        AlertPlan(
            name="RedisCacheHitRatioLow",
            service=ctx.culprit,
            summary="cache: hit ratio below 80% for 2 minutes",
            series=lambda s: s.services["cache"].extras["cache_hit_ratio"].mean(axis=0),
            threshold=0.8,
            below=True,
            metric="cache_hit_ratio",
            severity="warning",
        )
    )
    return Outcome(
        "cache stampede: redis evicted hot keys at maxmemory (allkeys-lru) after a"
        " 3 GB bulk key load; misses recomputed against orders-db",
        alerts=alerts,
    )


def _redis_maxmemory(rng: Rng, ctx: LineContext) -> str:
    return formats.redis(
        ctx.ts,
        "M",
        "#",
        "WARNING: used_memory is above maxmemory; evicting"
        f" keys (evicted_keys={rng.integers(10**5, 10**6)})",
    )
