"""The simulated estate: the policy's service catalogue plus how each part behaves.

The catalogue (names, teams, tiers, kinds, depends_on) comes from the policy so
that truth computed from the policy and telemetry written here name the same
things. What a catalogue does not say (replicas, latency, CPU per request, log
style, how requests flow) is the behaviour table below. Request flow is a set
of user journeys (call trees); per-edge call rates are derived from them, so
metrics and sampled traces agree in expectation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

from agent.policy.load import default_policy
from agent.policy.models import Policy
from tools.telemetry.models import ServiceNode, Topology

# The cloud account's audit trail (CloudTrail-like events) is modelled as a
# service of its own, so leaked-key cases have a place for their evidence.
AUDIT_SERVICE = "aws-account"
POD_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True)
class Behaviour:
    """What the catalogue does not say about one component.

    `runtime` picks the log vocabulary; `replicas` 0 means no pods of ours
    (external or managed: service-level series only). Latencies are the
    component's own work per request, before anything it calls.
    """

    runtime: str
    replicas: int
    self_ms: float
    sigma: float = 0.35
    cpu_idle_pct: float = 4.0
    cpu_per_rps: float = 0.5
    mem_mib: float = 300.0
    mem_limit_mib: float = 1024.0
    disk_pct: float = 22.0
    stateful: bool = False
    timeout_ms: float = 3000.0
    retries: int = 1


# How often a callee's failure fails its caller; other edges: FAIL_THROUGH.
# Recommendations, images and the order-event outbox degrade gracefully.
FAIL_THROUGH = 0.9
SOFT_EDGES: dict[tuple[str, str], float] = {
    ("api-gateway", "recommendations"): 0.15,
    ("search", "object-storage"): 0.2,
    ("checkout", "queue"): 0.25,
    ("recommendations", "search"): 0.5,
    ("settlement-batch", "object-storage"): 0.5,
}


BEHAVIOUR: dict[str, Behaviour] = {
    "web-frontend": Behaviour(
        "nginx",
        3,
        6.0,
        cpu_idle_pct=3,
        cpu_per_rps=0.12,
        mem_mib=180,
        mem_limit_mib=512,
        timeout_ms=10000,
        retries=0,
    ),
    "api-gateway": Behaviour(
        "envoy",
        3,
        2.0,
        cpu_idle_pct=4,
        cpu_per_rps=0.15,
        mem_mib=260,
        mem_limit_mib=768,
        timeout_ms=8000,
        retries=0,
    ),
    "auth": Behaviour(
        "go",
        3,
        9.0,
        cpu_idle_pct=3,
        cpu_per_rps=0.9,
        mem_mib=140,
        mem_limit_mib=512,
        timeout_ms=2000,
    ),
    "cart": Behaviour(
        "node",
        2,
        5.0,
        cpu_idle_pct=5,
        cpu_per_rps=0.7,
        mem_mib=210,
        mem_limit_mib=512,
        timeout_ms=2000,
    ),
    "checkout": Behaviour(
        "java",
        3,
        25.0,
        cpu_idle_pct=6,
        cpu_per_rps=4.0,
        mem_mib=900,
        mem_limit_mib=1536,
        timeout_ms=10000,
        retries=0,
    ),
    "payment": Behaviour(
        "java",
        2,
        18.0,
        cpu_idle_pct=6,
        cpu_per_rps=5.0,
        mem_mib=820,
        mem_limit_mib=1536,
        timeout_ms=8000,
        retries=0,
    ),
    "psp": Behaviour("external", 0, 240.0, sigma=0.3, timeout_ms=5000, retries=0),
    "inventory": Behaviour(
        "java",
        2,
        7.0,
        cpu_idle_pct=5,
        cpu_per_rps=0.8,
        mem_mib=760,
        mem_limit_mib=1280,
        timeout_ms=2000,
    ),
    "search": Behaviour(
        "go",
        3,
        22.0,
        cpu_idle_pct=5,
        cpu_per_rps=0.8,
        mem_mib=520,
        mem_limit_mib=1024,
        timeout_ms=3000,
    ),
    "recommendations": Behaviour(
        "python",
        2,
        30.0,
        cpu_idle_pct=8,
        cpu_per_rps=0.9,
        mem_mib=640,
        mem_limit_mib=1536,
        timeout_ms=1500,
        retries=0,
    ),
    "notifications": Behaviour(
        "node", 2, 35.0, cpu_idle_pct=3, cpu_per_rps=3.0, mem_mib=190, mem_limit_mib=512
    ),
    "orders-db": Behaviour(
        "postgres",
        2,
        1.8,
        sigma=0.6,
        cpu_idle_pct=8,
        cpu_per_rps=0.12,
        mem_mib=6200,
        mem_limit_mib=8192,
        disk_pct=61.0,
        stateful=True,
        timeout_ms=30000,
        retries=0,
    ),
    "cache": Behaviour(
        "redis",
        3,
        0.35,
        sigma=0.4,
        cpu_idle_pct=2,
        cpu_per_rps=0.02,
        mem_mib=3300,
        mem_limit_mib=4096,
        disk_pct=12.0,
        stateful=True,
        timeout_ms=500,
    ),
    "queue": Behaviour(
        "kafka",
        3,
        3.5,
        cpu_idle_pct=7,
        cpu_per_rps=0.5,
        mem_mib=2900,
        mem_limit_mib=4096,
        disk_pct=48.0,
        stateful=True,
        timeout_ms=5000,
    ),
    "object-storage": Behaviour("s3", 0, 28.0, sigma=0.5, timeout_ms=5000),
    "settlement-batch": Behaviour(
        "java",
        1,
        60.0,
        cpu_idle_pct=3,
        cpu_per_rps=25.0,
        mem_mib=700,
        mem_limit_mib=1536,
        timeout_ms=30000,
    ),
    AUDIT_SERVICE: Behaviour("cloudtrail", 0, 0.0),
}


# What callers see from a kind's everyday, background failures.
BACKGROUND_PHRASES = {
    "database": "ERROR: could not serialize access due to concurrent update",
    "cache": "i/o timeout",
    "queue": "NOT_LEADER_OR_FOLLOWER: this server is not the leader for that topic-partition",
    "storage": "StatusCode: 503, api error SlowDown: Please reduce your request rate.",
    "external": "502 Bad Gateway",
}


@dataclass(frozen=True)
class Call:
    """A server span of `service` doing `operation`, and the calls it makes.

    `count` is the expected number of such calls per parent request; below 1 it
    is a probability. A leaf at a datastore, queue or external is one client
    span named after that dependency (its own server side is not traced).
    """

    service: str
    operation: str
    calls: tuple[Call, ...] = ()
    count: float = 1.0


@dataclass(frozen=True)
class Journey:
    """A request type: its call tree, its share of front-door traffic and any
    steady rate of its own (consumers, batch jobs)."""

    name: str
    root: Call
    share: float = 0.0
    fixed_rps: float = 0.0


def _c(service: str, operation: str, *calls: Call, count: float = 1.0) -> Call:
    return Call(service, operation, tuple(calls), count)


_CACHE_GET = _c("cache", "GET", count=1.0)
JOURNEYS: tuple[Journey, ...] = (
    Journey(
        "home",
        _c(
            "web-frontend",
            "GET /",
            _c(
                "api-gateway",
                "GET /api/v1/recommendations",
                _c(
                    "recommendations",
                    "GET /v1/recommendations",
                    _c("search", "POST /v1/similar", _CACHE_GET),
                    _CACHE_GET,
                ),
            ),
        ),
        share=0.30,
    ),
    Journey(
        "search",
        _c(
            "web-frontend",
            "GET /search",
            _c(
                "api-gateway",
                "GET /api/v1/search",
                _c(
                    "search",
                    "GET /v1/search",
                    _c("cache", "GET", count=2.0),
                    _c("object-storage", "GetObject", count=0.3),
                ),
            ),
        ),
        share=0.25,
    ),
    Journey(
        "product",
        _c(
            "web-frontend",
            "GET /products/{id}",
            _c(
                "api-gateway",
                "GET /api/v1/products/{id}",
                _c(
                    "search",
                    "GET /v1/products/{id}",
                    _CACHE_GET,
                    _c("object-storage", "GetObject", count=0.5),
                ),
                _c("auth", "POST /v1/token/introspect", _CACHE_GET, count=0.5),
            ),
        ),
        share=0.20,
    ),
    Journey(
        "cart",
        _c(
            "web-frontend",
            "POST /cart",
            _c(
                "api-gateway",
                "POST /api/v1/cart/items",
                _c("auth", "POST /v1/token/introspect", _CACHE_GET),
                _c(
                    "cart",
                    "POST /v1/cart/items",
                    _c("cache", "HSET"),
                    _c(
                        "inventory",
                        "GET /v1/stock/{sku}",
                        _CACHE_GET,
                        _c("orders-db", "SELECT stock", count=0.4),
                    ),
                ),
            ),
        ),
        share=0.12,
    ),
    Journey(
        "login",
        _c(
            "web-frontend",
            "POST /login",
            _c(
                "api-gateway",
                "POST /api/v1/auth/login",
                _c(
                    "auth",
                    "POST /v1/login",
                    _CACHE_GET,
                    _c("orders-db", "SELECT users"),
                    _c("cache", "SET"),
                ),
            ),
        ),
        share=0.07,
    ),
    Journey(
        "checkout",
        _c(
            "web-frontend",
            "POST /checkout",
            _c(
                "api-gateway",
                "POST /api/v1/checkout",
                _c("auth", "POST /v1/token/introspect", _CACHE_GET),
                _c(
                    "checkout",
                    "POST /v1/orders",
                    _c("cart", "GET /v1/cart", _CACHE_GET),
                    _c(
                        "inventory",
                        "POST /v1/reservations",
                        _CACHE_GET,
                        _c("orders-db", "UPDATE stock"),
                    ),
                    _c(
                        "payment",
                        "POST /v1/charges",
                        _c("orders-db", "INSERT payments"),
                        _c("psp", "POST /v1/charges"),
                    ),
                    _c("orders-db", "INSERT orders"),
                    _c("queue", "produce order.created"),
                ),
            ),
        ),
        share=0.06,
    ),
    Journey(
        "notify",
        _c("notifications", "consume order.created", _c("queue", "fetch order.created")),
        fixed_rps=0.6,
    ),
    Journey(
        "settle",
        _c(
            "settlement-batch",
            "SettlementJob.run",
            _c("orders-db", "SELECT payments"),
            _c("payment", "GET /v1/settlements/{id}", _c("orders-db", "SELECT payments")),
            _c("object-storage", "PutObject", count=0.2),
        ),
        fixed_rps=0.12,
    ),
)


@dataclass(frozen=True)
class Component:
    """One service of the estate: the catalogue's facts plus its behaviour."""

    name: str
    kind: str
    team: str | None
    tier: int | None
    user_facing: bool
    depends_on: tuple[str, ...]
    behaviour: Behaviour

    @property
    def runtime(self) -> str:
        return self.behaviour.runtime

    @property
    def has_pods(self) -> bool:
        return self.behaviour.replicas > 0

    @property
    def traced(self) -> bool:
        """Whether it writes server spans (datastores and externals only appear
        as the client spans of whoever calls them)."""
        return self.kind in {"frontend", "service", "function"}


def pod_names(component: Component, salt: str, version: str) -> list[str]:
    """Kubernetes-style pod names: `<deploy>-<pod-template-hash>-<5>` or
    `<sts>-<n>`. The hash depends on the version only (the same pod template
    always hashes the same), the suffix on the case and the replica."""
    behaviour = component.behaviour
    if behaviour.stateful:
        return [f"{component.name}-{i}" for i in range(behaviour.replicas)]
    if component.kind == "function":
        return [f"{component.name}-worker-{i}" for i in range(behaviour.replicas)]
    rs = _token(f"{component.name}|{version}|rs", 10)
    return [
        f"{component.name}-{rs}-{_token(f'{salt}|{component.name}|{version}|{i}', 5)}"
        for i in range(behaviour.replicas)
    ]


def first_version(component: Component, salt: str) -> str:
    """The version a component runs when a case begins (from the case, not
    from the random stream, so adding a draw elsewhere does not change it)."""
    digest = hashlib.sha256(f"{salt}|{component.name}|version".encode()).digest()
    return f"v{1 + digest[0] % 5}.{digest[1] % 40}.{digest[2] % 9}"


def _token(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(POD_ALPHABET[b % len(POD_ALPHABET)] for b in digest[:length])


@dataclass
class Estate:
    """The components, journeys and the call rates derived from them."""

    components: dict[str, Component]
    journeys: tuple[Journey, ...] = JOURNEYS
    policy: Policy = field(default_factory=default_policy)

    @classmethod
    def from_policy(cls, policy: Policy | None = None) -> Estate:
        """Every catalogue service with its behaviour, plus the audit trail."""
        policy = policy or default_policy()
        components: dict[str, Component] = {}
        for service in policy.services:
            behaviour = BEHAVIOUR.get(service.name) or Behaviour("go", 2, 10.0)
            components[service.name] = Component(
                name=service.name,
                kind=service.kind,
                team=service.team,
                tier=service.tier,
                user_facing=service.user_facing,
                depends_on=tuple(service.depends_on or ()),
                behaviour=behaviour,
            )
        components[AUDIT_SERVICE] = Component(
            AUDIT_SERVICE, "external", None, None, False, (), BEHAVIOUR[AUDIT_SERVICE]
        )
        estate = cls(components=components, policy=policy)
        estate.check()
        return estate

    def check(self) -> None:
        """Every journey edge must be a declared dependency: the traces may not
        contradict the topology the engine is given."""
        for journey in self.journeys:
            for parent, child in _edges(journey.root):
                if child.service not in self.components:
                    raise ValueError(f"journey {journey.name}: unknown service {child.service}")
                if child.service not in self.components[parent.service].depends_on:
                    raise ValueError(
                        f"journey {journey.name}: {parent.service} -> {child.service}"
                        " is not in the catalogue's depends_on"
                    )

    def __getitem__(self, name: str) -> Component:
        return self.components[name]

    @property
    def names(self) -> list[str]:
        return list(self.components)

    @cached_property
    def order(self) -> list[str]:
        """Callees before callers, so latency can be summed bottom-up."""
        done: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            for callee in self.components[name].depends_on:
                visit(callee)
            done.append(name)

        for name in self.components:
            visit(name)
        return done

    def edges(self) -> list[tuple[str, str]]:
        """Every declared (caller, callee) pair."""
        return [(c.name, d) for c in self.components.values() for d in c.depends_on]

    def callers(self, name: str) -> list[str]:
        return [c.name for c in self.components.values() if name in c.depends_on]

    def ancestors(self, name: str) -> set[str]:
        found: set[str] = set()
        stack = self.callers(name)
        while stack:
            current = stack.pop()
            if current not in found:
                found.add(current)
                stack.extend(self.callers(current))
        return found

    def topology(self) -> Topology:
        return Topology(
            services=[
                ServiceNode(
                    name=c.name,
                    kind=c.kind,
                    team=c.team,
                    tier=c.tier,
                    depends_on=list(c.depends_on),
                )
                for c in self.components.values()
            ]
        )


def visits_of(journey: Journey) -> dict[str, float]:
    """Expected server requests of each service per request of the journey."""
    counts: dict[str, float] = {}
    _count(journey.root, 1.0, counts)
    return counts


def edge_visits_of(journey: Journey) -> dict[tuple[str, str], float]:
    """Expected calls across each (caller, callee) edge per request of the journey."""
    counts: dict[tuple[str, str], float] = {}
    _count_edges(journey.root, 1.0, counts)
    return counts


def _edges(call: Call) -> list[tuple[Call, Call]]:
    out = [(call, child) for child in call.calls]
    for child in call.calls:
        out.extend(_edges(child))
    return out


def _count(call: Call, weight: float, counts: dict[str, float]) -> None:
    counts[call.service] = counts.get(call.service, 0.0) + weight
    for child in call.calls:
        _count(child, weight * child.count, counts)


def _count_edges(call: Call, weight: float, counts: dict[tuple[str, str], float]) -> None:
    for child in call.calls:
        edge = (call.service, child.service)
        counts[edge] = counts.get(edge, 0.0) + weight * child.count
        _count_edges(child, weight * child.count, counts)
