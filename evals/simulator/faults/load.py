"""Load faults: a traffic surge amplified by retries, and a consumer that
falls behind its queue."""

from __future__ import annotations

import numpy as np

from evals.simulator import formats
from evals.simulator.estate import Journey
from evals.simulator.faults.base import AlertPlan, FaultContext, Outcome, symptom_alerts
from evals.simulator.state import LineContext, LogStream, Rng
from evals.simulator.vocab import app


def traffic_surge(ctx: FaultContext) -> Outcome:
    """A flash sale (web-frontend) or a mobile release whose client retries
    without backoff (api-gateway): several times the usual traffic enters at
    the culprit and saturates everything behind it."""
    state = ctx.state
    factor = float(ctx.rng.uniform(3.0, 4.5))
    surge = 1.0 + (factor - 1.0) * ctx.ramp(3.0)
    front = [j for j in state.journeys if j.root.service == "web-frontend"]
    if ctx.culprit == "web-frontend":
        for journey in front:
            state.journey_rps[journey.name] = state.journey_rps[journey.name] * surge
        detail = f"flash-sale push notification drove {factor:.1f}x traffic into web-frontend"
    else:
        for journey in front:
            gateway = journey.root.calls[0]
            extra = state.journey_rps[journey.name] * (surge - 1.0)
            state.add_journey(Journey(f"{journey.name}-app", gateway), extra)
        detail = (
            f"app release 5.13.0 retries failed calls 3x without backoff: {factor:.1f}x"
            " traffic into api-gateway"
        )
    proxy = state.estate["api-gateway"]
    state.add_stream(
        LogStream(
            "api-gateway",
            "WARN",
            app(
                proxy,
                "WARN",
                lambda rng: (
                    "upstream overflow: circuit breaker max_pending_requests"
                    " reached cluster=checkout"
                ),
            ),
            6.0 * np.clip(surge - 2.0, 0, 1),
        )
    )
    alerts = symptom_alerts(state, ctx.culprit)
    alerts += symptom_alerts(state, "checkout", weight=0.8)
    return Outcome(detail, alerts=alerts)


def queue_backlog(ctx: FaultContext) -> Outcome:
    """A poison message: the consumer retries it forever, exceeds
    max.poll.interval, the group rebalances again and again and the backlog grows."""
    svc = ctx.svc
    on = ctx.ramp(1.0)
    svc.knobs["consumer_capacity"] = 1.0 - 0.97 * on
    svc.self_mult *= 1.0 + 25.0 * on[None, :]
    svc.cpu_extra += 35.0 * on[None, :]
    svc.own_err += 0.5 * on[None, :]
    svc.own_error = app(
        svc.component,
        "ERROR",
        lambda rng: (
            "failed to process message"
            f" topic=orders.events partition={rng.integers(0, 12)}"
            f" offset={rng.integers(10**7, 10**8)} attempt={rng.integers(5, 400)}:"
            " TypeError: Cannot read properties of null (reading 'email')"
        ),
    )
    ctx.stream("INFO", _rebalance, 3.0 * on, service="queue", traced=False)
    plans = [
        AlertPlan(
            name="KafkaConsumerLagHigh",
            service=service,
            summary="consumer group notifications is more than 5000 messages behind on"
            " orders.events",
            series=lambda s: (
                s.services["notifications"].extras["kafka_consumer_records_lag_max"].sum(axis=0)
            ),
            threshold=5000.0,
            metric="kafka_consumer_records_lag_max",
            severity="warning",
        )
        for service in ("queue", "notifications")
    ]
    return Outcome(
        "queue backlog: a poison message stalls the notifications consumer group"
        " (rebalance loop); orders.events lag grows",
        alerts=plans,
    )


def _rebalance(rng: Rng, ctx: LineContext) -> str:
    return formats.kafka(
        ctx.ts,
        "INFO",
        f"[GroupCoordinator 1]: Preparing to rebalance group notifications in state"
        f" PreparingRebalance with old generation {rng.integers(300, 900)}"
        f" (__consumer_offsets-{rng.integers(0, 50)}) (reason: Member"
        f" notifications-{rng.integers(0, 2)}-consumer has left the group: consumer poll"
        " timeout has expired.)",
        "kafka.coordinator.group.GroupCoordinator",
    )
