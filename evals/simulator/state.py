"""One case's world, minute by minute: the knobs faults and noise turn.

Faults do not write telemetry; they change the state (a pod's CPU, its own
error rate, the delay on its network, a pool's usage...) and add log streams.
`propagate` then works out what callers see, and the writers render metrics,
logs and traces from the same arrays, so every signal tells one story.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evals.simulator.estate import (
    BACKGROUND_PHRASES,
    Component,
    Estate,
    Journey,
    first_version,
    pod_names,
)

Rng = np.random.Generator
# A log line's text from the random source and the minute's context.
MessageFn = Callable[[Rng, "LineContext"], str]


@dataclass(frozen=True)
class LineContext:
    """What a log line may mention: when, where, and the trace it belongs to."""

    ts: float
    service: str
    instance: str
    trace_id: str
    span_id: str


@dataclass
class LogStream:
    """Lines of one template at `rate[t]` lines per minute (before Poisson noise).

    `slot` pins the stream to one pod; None spreads it over the service's pods.
    `traced` lines carry a trace id (taken from a failed sampled trace of the
    same service and minute when there is one).
    """

    service: str
    level: str
    message: MessageFn
    rate: np.ndarray
    slot: int | None = None
    traced: bool = True
    attrs: dict[str, Any] = field(default_factory=dict)
    # Rare events (a kill, a start-up) are written whatever the volume.
    thinned: bool = True


@dataclass
class ServiceState:
    """Per pod (rows) and minute (columns): the service's own behaviour.

    `own_err` is the share of requests failing here (not downstream);
    `self_mult` scales its own work; `net_ms`/`loss_pct` act on traffic into
    its pods; `extra_rps` is traffic outside the journeys (attacks, scans).
    """

    component: Component
    names: list[list[tuple[int, str]]]
    self_mult: np.ndarray
    net_ms: np.ndarray
    loss_pct: np.ndarray
    own_err: np.ndarray
    cpu_extra: np.ndarray
    mem_mib: np.ndarray
    restarts: np.ndarray
    disk_pct: np.ndarray
    up: np.ndarray
    tail_ms: np.ndarray
    extra_rps: np.ndarray
    # Share of inbound calls refused before the service sees them (an expired
    # certificate, a closed port): callers fail, the service serves less.
    reject: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    # Fault inputs that are not series themselves (leaked pool connections,
    # a consumer's capacity, the cache hit ratio): read by noise.derived_extras.
    knobs: dict[str, np.ndarray] = field(default_factory=dict)
    # The version its pods run (a deploy moves it on; one deploy per service and case).
    version: str = ""
    error_phrase: str = "HTTP 500 Internal Server Error"
    error_status: int = 500
    # The line a pod logs for a request that failed here (None: a generic one).
    own_error: MessageFn | None = None

    @property
    def pods(self) -> int:
        return self.self_mult.shape[0]

    def instance(self, slot: int, minute: int) -> str:
        """The pod name in `slot` at `minute` (a rollout replaces it)."""
        name = self.names[slot][0][1]
        for start, candidate in self.names[slot]:
            if minute >= start:
                name = candidate
        return name

    def roll(self, minute: int, new_names: list[str], stagger: int = 1) -> list[int]:
        """Replace every pod, one slot each `stagger` minutes from `minute`
        (a new pod takes its slot's share of traffic as the old one is
        terminated); returns the minute each slot was replaced."""
        when = []
        for slot, name in enumerate(new_names[: self.pods]):
            at = minute + slot * stagger
            self.names[slot].append((at, name))
            when.append(at)
        return when


@dataclass
class Derived:
    """What propagation worked out, per pod and per service."""

    rps: np.ndarray  # (pods, T) requests served by each pod
    latency_ms: np.ndarray  # (pods, T) mean server latency
    self_ms: np.ndarray  # (pods, T) mean own work per request
    err: np.ndarray  # (pods, T) share of requests failing (own + downstream)
    cpu_pct: np.ndarray  # (pods, T)
    svc_rps: np.ndarray  # (T,)
    svc_latency_ms: np.ndarray  # (T,)
    svc_err: np.ndarray  # (T,)
    svc_tail_ms: np.ndarray  # (T,)
    # Calls per second and failure share across each edge from this service.
    edge_calls: dict[str, np.ndarray] = field(default_factory=dict)
    edge_err: dict[str, np.ndarray] = field(default_factory=dict)
    edge_latency_ms: dict[str, np.ndarray] = field(default_factory=dict)
    # Which callee (or "self") failed requests are blamed on, per minute.
    err_causes: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Change:
    """A deploy, config push or other change, as changes.jsonl writes it."""

    id: str
    ts: float
    service: str
    kind: str
    summary: str
    from_version: str | None = None
    to_version: str | None = None
    actor: str = "argocd"
    done_ts: float | None = None


@dataclass
class CaseState:
    """The world of one case: its clock, traffic, services, logs and changes."""

    estate: Estate
    t0: float
    minutes: int
    rng: Rng
    front_rps: np.ndarray
    services: dict[str, ServiceState]
    salt: str
    streams: list[LogStream] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    derived: dict[str, Derived] = field(default_factory=dict)
    # Request types and their rates: the estate's journeys, plus any a fault
    # adds (an attack hitting the gateway directly, say).
    journeys: list[Journey] = field(default_factory=list)
    journey_rps: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Scales how many log lines and sampled traces are written (1 = the
    # documented rates); tests use less. Metrics are unaffected.
    volume: float = 1.0

    def __post_init__(self) -> None:
        # The start of each minute, epoch seconds.
        self.ts: np.ndarray = self.t0 + 60.0 * np.arange(self.minutes)

    def minute_of(self, epoch_s: float) -> int:
        return int(max(0, min(self.minutes - 1, (epoch_s - self.t0) // 60)))

    def zeros(self) -> np.ndarray:
        return np.zeros(self.minutes)

    def add_stream(self, stream: LogStream) -> None:
        self.streams.append(stream)

    def add_journey(self, journey: Journey, rps: np.ndarray) -> None:
        self.journeys.append(journey)
        self.journey_rps[journey.name] = rps

    def next_change_id(self, case_no: int) -> str:
        return f"chg-{case_no:04d}{len(self.changes) + 1:02d}"


def new_state(  # noqa: PLR0917
    estate: Estate, t0: float, minutes: int, rng: Rng, front_rps: np.ndarray, salt: str
) -> CaseState:
    """Every service at rest: baseline memory, disk, a trickle of own errors."""
    services = {name: _service_state(estate[name], minutes, rng, salt) for name in estate.names}
    state = CaseState(estate, t0, minutes, rng, front_rps, services, salt)
    for journey in estate.journeys:
        state.add_journey(journey, journey.share * front_rps + journey.fixed_rps)
    return state


def _service_state(component: Component, minutes: int, rng: Rng, salt: str) -> ServiceState:
    b = component.behaviour
    pods = max(b.replicas, 1)
    version = first_version(component, salt)
    names = [[(0, n)] for n in pod_names(component, salt, version)] if b.replicas else [[(0, "")]]
    shape = (pods, minutes)
    mem = b.mem_mib * rng.normal(1.0, 0.04, (pods, 1)) + rng.normal(0, b.mem_mib * 0.004, shape)
    disk = b.disk_pct + rng.normal(0, 1.5, (pods, 1)) + np.linspace(0, 0.3, minutes)[None, :]
    return ServiceState(
        component=component,
        names=names,
        self_mult=np.ones(shape),
        net_ms=np.zeros(shape),
        loss_pct=np.zeros(shape),
        own_err=np.full(shape, 0.0008),
        cpu_extra=np.zeros(shape),
        mem_mib=mem,
        restarts=np.zeros(shape),
        disk_pct=disk,
        up=np.ones(shape),
        tail_ms=np.zeros(shape),
        extra_rps=np.zeros(minutes),
        reject=np.zeros(minutes),
        version=version,
        error_phrase=BACKGROUND_PHRASES.get(component.kind, "HTTP 500 Internal Server Error"),
    )
