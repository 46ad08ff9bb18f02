"""What every fault module shares: its context, its outcome, ramps, rollouts.

A fault is a function from a `FaultContext` (the case's state, the culprit,
the minute it starts, the pod it hits) to an `Outcome` (what truth should say,
which alerts could fire). It only turns knobs in the state and adds log
streams and changes; propagation and the writers do the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from evals.simulator.estate import pod_names
from evals.simulator.state import CaseState, Change, LogStream, MessageFn, ServiceState
from evals.simulator.vocab import app

# A series an alert rule evaluates, computed after propagation.
SeriesFn = Callable[[CaseState], np.ndarray]


@dataclass(frozen=True)
class AlertPlan:
    """An alert rule that could fire for this fault: on `service`, when
    `series` stays past `threshold` for two minutes."""

    name: str
    service: str
    summary: str
    series: SeriesFn
    threshold: float
    metric: str
    below: bool = False
    namespace: str = "SakuraMart/Services"
    dimensions: dict[str, str] = field(default_factory=dict)
    instance: str = ""
    sources: tuple[str, ...] = ("alertmanager", "cloudwatch", "datadog")
    severity: str = "critical"
    weight: float = 1.0


@dataclass
class Outcome:
    """What the fault did, for truth and for the alert.

    `fault_type` refines the kind's where one kind plants more than one
    (a slow callee is `network-delay` or `cpu`); `decoys` are benign changes
    the fault itself made; `after` runs once propagation has worked out what
    callers saw (for lines that depend on it, like a server's broken pipes)."""

    detail: str
    instance: str | None = None
    change_id: str | None = None
    alerts: list[AlertPlan] = field(default_factory=list)
    fault_type: str | None = None
    decoys: list[str] = field(default_factory=list)
    after: list[Callable[[CaseState], None]] = field(default_factory=list)


@dataclass
class FaultContext:
    """Where and when a fault strikes. `slot` is the pod it hits (faults of
    one pod), `minute` the index of the minute it starts in the case window,
    `offset_s` the seconds into that minute, `end_minute` the minute it is
    over (None: it lasts the whole window). Faults that shape their effect
    with `on` and `ramp` end by themselves."""

    state: CaseState
    culprit: str
    minute: int
    slot: int
    case_no: int
    offset_s: float = 0.0
    end_minute: int | None = None

    @property
    def rng(self) -> np.random.Generator:
        return self.state.rng

    @property
    def svc(self) -> ServiceState:
        return self.state.services[self.culprit]

    @property
    def start_s(self) -> float:
        return float(self.state.ts[self.minute]) + self.offset_s

    @property
    def instance(self) -> str:
        return self.svc.instance(self.slot, self.minute)

    def on(self) -> np.ndarray:
        """1 from the fault's minute to its end, else 0."""
        return self._until_end(step(self.state, self.minute))

    def ramp(self, minutes: float, power: float = 1.0) -> np.ndarray:
        return self._until_end(ramp(self.state, self.minute, minutes, power))

    def _until_end(self, values: np.ndarray) -> np.ndarray:
        if self.end_minute is not None:
            values[self.end_minute :] = 0.0
        return values

    def stream(  # noqa: PLR0917
        self,
        level: str,
        message: MessageFn,
        rate: np.ndarray,
        service: str | None = None,
        slot: int | None = None,
        traced: bool = True,
        thinned: bool = True,
    ) -> None:
        self.state.add_stream(
            LogStream(
                service or self.culprit,
                level,
                message,
                rate,
                slot=slot,
                traced=traced,
                thinned=thinned,
            )
        )

    def app_line(self, level: str, text: str, service: str | None = None) -> MessageFn:
        component = self.state.estate[service or self.culprit]
        return app(component, level, lambda rng: text)


def step(state: CaseState, minute: int) -> np.ndarray:
    out = np.zeros(state.minutes)
    out[minute:] = 1.0
    return out


def ramp(state: CaseState, minute: int, minutes: float, power: float = 1.0) -> np.ndarray:
    """0 before `minute`, rising to 1 over `minutes` (shape `power`), then 1."""
    t = np.arange(state.minutes) - minute
    return np.clip(t / max(minutes, 1e-9), 0.0, 1.0) ** power * (t >= 0)


def rollout(  # noqa: PLR0917
    state: CaseState,
    service: str,
    minute: int,
    case_no: int,
    kind: str = "deploy",
    summary: str = "",
    actor: str = "argocd",
    stagger: int = 1,
) -> Change:
    """A deploy or another change, recorded in changes.jsonl. A deploy moves
    the service to its next version and replaces its pods one by one, one
    each `stagger` minutes from `minute`, under the new version's names; the
    new pods log their start-up."""
    svc = state.services[service]
    at = float(state.ts[max(minute, 0)]) if minute >= 0 else state.t0 + 60.0 * minute
    at += float(state.rng.uniform(0, 50))
    deploy = kind == "deploy"
    old = svc.version
    if deploy:
        svc.version = _next_version(old, state.rng)
    steps = stagger * (max(svc.pods, 1) - 1) + 1
    change = Change(
        id=state.next_change_id(case_no),
        ts=at,
        service=service,
        kind=kind,
        summary=summary or f"{service} {old} -> {svc.version} ({svc.pods} replicas)",
        from_version=old if deploy else None,
        to_version=svc.version if deploy else None,
        actor=actor,
        done_ts=at + 60.0 * steps + 20.0,
    )
    state.changes.append(change)
    if deploy and svc.component.has_pods and minute < state.minutes:
        names = pod_names(svc.component, state.salt, svc.version)
        stateful = svc.component.behaviour.stateful
        when = [minute] if stateful else svc.roll(minute, names, stagger)
        for slot, at_minute in enumerate(when):
            if 0 <= at_minute < state.minutes:
                _startup(state, service, slot, at_minute, svc.version)
    return change


def _next_version(version: str, rng: np.random.Generator) -> str:
    """A patch release, now and then a minor one."""
    major, minor, patch = (int(part) for part in version.lstrip("v").split("."))
    if rng.random() < 0.2:
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


def _startup(state: CaseState, service: str, slot: int, minute: int, version: str) -> None:
    """A new pod's first minutes: warm-up CPU, a few first requests failing
    while its connection pools fill, a JVM still compiling (slower), and its
    start-up line. Any rollout blips; a bad one does not stop there."""
    svc = state.services[service]
    end = min(minute + 2, state.minutes)
    svc.cpu_extra[slot, minute:end] += 18.0
    svc.own_err[slot, minute] += float(state.rng.uniform(0.005, 0.03))
    if svc.component.runtime == "java":
        svc.self_mult[slot, minute:end] *= np.array([2.0, 1.4])[: end - minute]
    svc.restarts[slot, minute:] = 0.0
    svc.mem_mib[slot, minute:] *= np.linspace(0.75, 1.0, state.minutes - minute)
    text = {
        "java": f"Started {service.title().replace('-', '')}Application in"
        f" {state.rng.uniform(9, 19):.3f} seconds (process running for 21.4)",
        "node": f"server listening on :8080 version={version}",
        "python": f"Application startup complete. version={version}",
    }.get(svc.component.runtime, f"starting server version={version} addr=:8080")
    rate = np.zeros(state.minutes)
    rate[minute] = 1.0
    state.add_stream(
        LogStream(
            service,
            "INFO",
            app(svc.component, "INFO", lambda rng: text),
            rate,
            slot=slot,
            traced=False,
            thinned=False,
        )
    )


# -- common alert series ---------------------------------------------------------------


def error_pct(service: str) -> SeriesFn:
    return lambda state: 100.0 * state.derived[service].svc_err


def latency_p99_s(service: str) -> SeriesFn:
    def series(state: CaseState) -> np.ndarray:
        derived = state.derived[service]
        sigma = state.services[service].component.behaviour.sigma
        median = derived.svc_latency_ms / np.exp(sigma**2 / 2)
        return (median * np.exp(2.3263 * sigma) + derived.svc_tail_ms) / 1000.0

    return series


def pod_metric(service: str, slot: int, values: Callable[[CaseState], np.ndarray]) -> SeriesFn:
    return lambda state: values(state)[slot]


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def symptom_alerts(state: CaseState, culprit: str, weight: float = 1.0) -> list[AlertPlan]:
    """SLO-style alerts on the user-facing services a fault in `culprit` can
    reach: the culprit itself if users see it, and every user-facing caller."""
    estate = state.estate
    targets = [s for s in [culprit, *sorted(estate.ancestors(culprit))] if estate[s].user_facing]
    plans: list[AlertPlan] = []
    for service in targets or ["api-gateway"]:
        team = estate[service].team or ""
        plans.append(
            AlertPlan(
                name=f"{camel(service)}HighErrorRate",
                service=service,
                summary=f"{service}: more than 2% of requests failing (5xx) over 2 minutes",
                series=error_pct(service),
                threshold=2.0,
                metric="error_rate_pct",
                dimensions={"Service": service, "Team": team} if team else {},
                weight=weight,
            )
        )
        objective = _objective_s(state, service)
        plans.append(
            AlertPlan(
                name=f"{camel(service)}LatencyP99High",
                service=service,
                summary=f"{service}: p99 latency above its {objective:g} s objective",
                series=latency_p99_s(service),
                threshold=objective,
                metric="latency_p99_s",
                severity="warning",
                weight=weight * 0.8,
            )
        )
    return plans


def _objective_s(state: CaseState, service: str) -> float:
    """A latency objective the way teams set them: a round number about three
    times the service's usual p99 at a busy hour."""
    behaviour = state.estate[service].behaviour
    usual = {"web-frontend": 0.35, "api-gateway": 0.3, "checkout": 1.2, "payment": 1.0}
    base = usual.get(service, max(behaviour.self_ms * 8 / 1000.0, 0.15))
    return float(f"{base * 3:.1g}")
