"""The fault catalogue: every kind the simulator can plant, its replay/1
fault type, the services it may strike and the module that plants it.

Mapping notes (docs/simulator.md): a cache stampede and a queue backlog are
`resource-exhaustion` (a capacity runs out: cache memory, consumer threads);
an expired TLS certificate of our own service is `config` (its renewal
configuration broke; nothing was deployed); a slow query or lock wait in
orders-db is `database`; a slow callee is `network-delay` or `cpu`, by
whether the wire or its own work got slow (the plant says which).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from evals.simulator.faults import (
    change,
    database,
    dependency,
    load,
    network,
    resource,
    security,
    slow_callee,
)
from evals.simulator.faults.base import FaultContext, Outcome

APP_SERVICES = (
    "api-gateway",
    "auth",
    "cart",
    "checkout",
    "payment",
    "inventory",
    "search",
    "recommendations",
    "notifications",
)


@dataclass(frozen=True)
class FaultKind:
    """One plantable fault. `hours` are local (JST) hours it is planned in
    (a flash sale happens in the evening); empty means any time. A kind that
    `ends` can be over before the triage runs (its plant shapes every effect
    with the context's `on`/`ramp`); `fault_type` is the usual type, which
    the plant may refine (`Outcome.fault_type`)."""

    key: str
    fault_type: str
    culprits: tuple[str, ...]
    plant: Callable[[FaultContext], Outcome]
    hours: tuple[int, ...] = ()
    ends: bool = False

    @property
    def security(self) -> bool:
        return self.fault_type == "security"


CATALOGUE: tuple[FaultKind, ...] = (
    FaultKind("cpu", "cpu", APP_SERVICES, resource.cpu, ends=True),
    FaultKind(
        "memory-leak",
        "memory",
        ("checkout", "payment", "inventory", "cart", "notifications", "recommendations"),
        resource.memory,
    ),
    FaultKind("disk-full", "disk", ("orders-db", "queue"), resource.disk),
    FaultKind(
        "network-delay",
        "network-delay",
        ("auth", "cart", "inventory", "payment", "search", "checkout", "cache"),
        network.delay,
        ends=True,
    ),
    FaultKind(
        "packet-loss",
        "network-loss",
        ("auth", "cart", "inventory", "payment", "search", "checkout", "orders-db"),
        network.loss,
        ends=True,
    ),
    FaultKind(
        "slow-callee",
        "network-delay",
        ("auth", "cart", "inventory", "search"),
        slow_callee.slow_callee,
        ends=True,
    ),
    FaultKind(
        "slow-callee-untraced",
        "network-delay",
        ("cache", "queue", "orders-db"),
        slow_callee.slow_callee,
        ends=True,
    ),
    FaultKind(
        "db-pool-exhaustion",
        "resource-exhaustion",
        ("checkout", "payment", "inventory", "auth"),
        database.pool_exhaustion,
    ),
    FaultKind("slow-query", "database", ("orders-db",), database.database, ends=True),
    FaultKind("cache-stampede", "resource-exhaustion", ("cache",), database.cache_stampede),
    FaultKind("psp-outage", "dependency-down", ("psp",), dependency.psp_down, ends=True),
    FaultKind("bad-deploy", "bad-deploy", APP_SERVICES, change.bad_deploy),
    FaultKind("rollout-decoys", "bad-deploy", APP_SERVICES, change.rollout_decoys),
    FaultKind("bad-config", "config", tuple(change.CONFIGS), change.bad_config),
    FaultKind(
        "tls-expired",
        "config",
        ("auth", "cart", "inventory", "payment", "search"),
        dependency.tls_expired,
    ),
    FaultKind(
        "traffic-surge",
        "traffic-surge",
        ("web-frontend", "api-gateway"),
        load.traffic_surge,
        hours=(12, 20, 21),
        ends=True,
    ),
    FaultKind("queue-backlog", "resource-exhaustion", ("notifications",), load.queue_backlog),
    FaultKind("credential-stuffing", "security", ("auth",), security.credential_stuffing),
    FaultKind("leaked-access-key", "security", ("aws-account",), security.leaked_key),
    FaultKind("data-exfiltration", "security", ("object-storage",), security.exfiltration),
    FaultKind("web-attack", "security", ("api-gateway", "web-frontend"), security.web_attack),
)
KINDS: dict[str, FaultKind] = {kind.key: kind for kind in CATALOGUE}


def kind(key: str) -> FaultKind:
    try:
        return KINDS[key]
    except KeyError:
        raise ValueError(f"unknown fault {key!r}; known: {', '.join(KINDS)}") from None
