"""One case, end to end: the world at rest, noise, the fault, propagation,
the alert that fires, and every record the dataset needs for it.

The window runs from an hour (and a little) before the fault to the case's
`now`, a few minutes after the alert; nothing is written after `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evals.simulator import noise
from evals.simulator.alerts import AlertSpec, render
from evals.simulator.alerts.storm import storm
from evals.simulator.estate import Estate
from evals.simulator.faults import FaultKind
from evals.simulator.faults.base import AlertPlan, FaultContext, Outcome
from evals.simulator.propagate import propagate
from evals.simulator.state import CaseState, Change, new_state
from evals.simulator.timeutil import iso
from evals.simulator.traffic import front_door_rps
from evals.simulator.truth import harmed, verdict
from evals.simulator.writers.logs import log_rows
from evals.simulator.writers.metrics import metric_rows
from evals.simulator.writers.traces import trace_rows

LEAD_MIN = 66
WINDOW_MIN = 115
# Late alerts of five minutes or more come from 5-minute evaluation periods.
LONG_PERIOD_S = 300
# The random stream of late alerts, apart from the case's own.
LATE_STREAM = 0x1A7E
SOURCE_WEIGHTS = {"alertmanager": 0.5, "cloudwatch": 0.2, "datadog": 0.2, "generic": 0.1}
Row = tuple[float, str]


@dataclass(frozen=True)
class CasePlan:
    """What to simulate: which fault, where, when, under which id."""

    case_id: str
    index: int
    kind: FaultKind
    culprit: str
    fault_s: float
    seed: int
    storm: int = 0
    source: str | None = None
    volume: float = 1.0
    # A late alert: it fires this long after the fault began (a `for: 5m`
    # rule, a 5-minute CloudWatch period), or when its rule first holds if
    # that is later. None: as soon as a rule has held for two minutes.
    alert_lag_s: float | None = None
    # The fault is over before the triage runs (kinds that can end, with a lag).
    fault_ends: bool = False


@dataclass
class CaseOutput:
    """Everything one case adds to the dataset."""

    case: dict[str, Any]
    truth: dict[str, Any]
    changes: list[Change]
    metrics: list[Row]
    logs: list[Row]
    spans: list[Row]
    storm: list[dict[str, Any]] = field(default_factory=list)
    window: tuple[float, float] = (0.0, 0.0)


def simulate(plan: CasePlan, estate: Estate) -> CaseOutput:
    rng = np.random.default_rng([plan.seed, plan.index])
    t0 = (plan.fault_s // 60) * 60 - LEAD_MIN * 60
    ts = t0 + 60.0 * np.arange(WINDOW_MIN)
    state = new_state(
        estate, t0, WINDOW_MIN, rng, front_door_rps(ts, rng), salt=f"{plan.seed}|{plan.index}"
    )
    state.volume = plan.volume
    noise.baseline_extras(state)
    noise.gc_pauses(state)
    noise.noisy_neighbour(state)
    ctx = FaultContext(
        state,
        plan.culprit,
        LEAD_MIN,
        int(rng.integers(0, state.services[plan.culprit].pods)),
        plan.index + 1,
        offset_s=float(rng.uniform(0, 50)),
    )
    if plan.fault_ends and plan.kind.ends and plan.alert_lag_s is not None:
        # Over a minute or two after the alert: the triage sees it end. Drawn
        # apart, so the same seed plants the same fault with or without a lag.
        due = state.minute_of(ctx.start_s + plan.alert_lag_s)
        apart = np.random.default_rng([plan.seed, plan.index, LATE_STREAM])
        ctx.end_minute = due + int(apart.integers(1, 3))
    decoys = noise.decoy_changes(
        state,
        LEAD_MIN,
        plan.culprit,
        plan.index + 1,
        near=plan.kind.key in {"bad-deploy", "bad-config", "rollout-decoys"}
        or bool(rng.random() < 0.3),
    )
    outcome = plan.kind.plant(ctx)
    propagate(state)
    for hook in outcome.after:
        hook(state)
    noise.derived_extras(state)
    noise.background_streams(state)
    alert = _choose_alert(state, outcome, ctx, plan.alert_lag_s)
    now = float(int(alert.starts_at + float(rng.uniform(150, 420))))
    fault_end = float(state.ts[ctx.end_minute]) if ctx.end_minute is not None else None
    if fault_end is not None:
        now = max(now, fault_end + 120.0)
    end = state.minute_of(now) + 1
    harm_end = end if ctx.end_minute is None else min(end, ctx.end_minute)
    hurt = harmed(state, plan.culprit, ctx.minute, harm_end)
    source = plan.source or _source(rng, outcome, alert)
    truth_verdict = verdict(estate, plan.culprit, hurt, [alert.service], plan.kind.security, now)
    traces = trace_rows(state, end)
    logs = log_rows(state, traces, end)
    metrics = list(metric_rows(state, end))
    payload = render(alert, source, plan.seed)
    case = {
        "id": plan.case_id,
        "title": f"[FIRING] {alert.name} ({alert.service})",
        "now": iso(now),
        "alert": {"source": source, "payload": payload},
        "tags": ["simulated", f"source:{source}"],
    }
    truth: dict[str, Any] = {
        "id": plan.case_id,
        "root_cause": {
            "service": plan.culprit,
            "instance": outcome.instance,
            "fault_type": outcome.fault_type or plan.kind.fault_type,
            "detail": outcome.detail,
        },
        "fault_start": iso(ctx.start_s),
        "fault_end": iso(fault_end) if fault_end is not None else None,
        "change_id": outcome.change_id,
        "severity": truth_verdict.severity,
        "page_team": truth_verdict.page_team,
        "fault": plan.kind.key,
        "severity_rule": truth_verdict.rule,
        "harmed": hurt,
        "alert": {
            "name": alert.name,
            "service": alert.service,
            "source": source,
            "fired_after_s": round(alert.starts_at - ctx.start_s),
        },
        "decoy_changes": decoys + outcome.decoys,
    }
    out = CaseOutput(
        case=case,
        truth=truth,
        changes=list(state.changes),
        metrics=[r for r in metrics if r[0] <= now],
        logs=[r for r in logs if r[0] <= now],
        spans=[r for r in traces.rows if r[0] <= now],
        window=(t0, now),
    )
    if plan.storm:
        out.storm = storm(state, alert, plan.culprit, plan.storm, now, rng)
        truth["storm"] = {
            "alerts": len(out.storm),
            "fingerprints": len({s["fingerprint"] for s in out.storm}),
        }
        for item in out.storm:
            item.pop("fingerprint", None)
    return out


def _choose_alert(
    state: CaseState, outcome: Outcome, ctx: FaultContext, lag_s: float | None
) -> AlertSpec:
    """The first rule (weighted at random among those that fire) to hold past
    its threshold for two minutes after the onset. With a lag, the alert fires
    `lag_s` after the onset on a rule that has held by then (or, if none has,
    when the first one does)."""
    rng = state.rng
    last = state.minutes - 12
    fired: list[tuple[AlertPlan, int]] = []
    closest: tuple[float, AlertPlan, int] | None = None
    for candidate in outcome.alerts:
        ratio = _ratio(candidate.series(state), candidate)
        for t in range(ctx.minute + 1, last):
            if ratio[t] > 1 and ratio[t - 1] > 1:
                fired.append((candidate, t))
                break
        peak = float(ratio[ctx.minute + 1 : last].max())
        if closest is None or peak > closest[0]:
            first = ctx.minute + 1 + int(np.argmax(ratio[ctx.minute + 1 : last] >= 0.8 * peak))
            closest = (peak, candidate, first)
    late_s = None if lag_s is None else ctx.start_s + lag_s
    due = state.minute_of(late_s) if late_s is not None else last
    in_time = [f for f in fired if f[1] <= due]
    pool = in_time or fired
    if pool:
        weights = np.array([c.weight for c, _ in pool])
        chosen, minute = pool[int(rng.choice(len(pool), p=weights / weights.sum()))]
    else:
        # Nothing crossed its threshold: the rule nearest to firing fires, as
        # if its team had set it tighter (someone always has a dashboard alert).
        assert closest is not None
        _, chosen, minute = closest
    starts_at = float(state.ts[minute]) + float(rng.uniform(5, 55))
    if late_s is not None:
        starts_at = late_s if in_time else max(starts_at, late_s)
        minute = max(minute, due)
    value = float(chosen.series(state)[minute])
    team = state.estate[chosen.service].team or ""
    return AlertSpec(
        name=chosen.name,
        service=chosen.service,
        starts_at=starts_at,
        summary=chosen.summary,
        description=f"{chosen.summary}. Current value {value:.4g} (threshold"
        f" {chosen.threshold:g}).",
        severity=chosen.severity,
        instance=chosen.instance,
        metric=chosen.metric,
        namespace=chosen.namespace,
        dimensions=dict(chosen.dimensions),
        value=value,
        threshold=chosen.threshold,
        comparison="LessThanThreshold" if chosen.below else "GreaterThanThreshold",
        labels={"team": team} if team else {},
        period_s=LONG_PERIOD_S if (lag_s or 0.0) >= LONG_PERIOD_S else 60,
    )


def _ratio(series: np.ndarray, plan: AlertPlan) -> np.ndarray:
    """How far past its threshold a series is (above 1: breaching)."""
    if plan.below:
        return np.divide(plan.threshold, np.maximum(series, 1e-9))
    return np.divide(series, plan.threshold) if plan.threshold > 0 else series - plan.threshold


def _source(rng: np.random.Generator, outcome: Outcome, alert: AlertSpec) -> str:
    plan = next((p for p in outcome.alerts if p.name == alert.name), None)
    allowed = plan.sources if plan else tuple(SOURCE_WEIGHTS)
    weights = np.array([SOURCE_WEIGHTS.get(s, 0.1) for s in allowed])
    return allowed[int(rng.choice(len(allowed), p=weights / weights.sum()))]
