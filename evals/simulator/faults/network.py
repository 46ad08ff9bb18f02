"""Network faults on one pod: added delay (netem-like), packet loss."""

from __future__ import annotations

import numpy as np

from evals.simulator.faults.base import AlertPlan, FaultContext, Outcome, symptom_alerts

DELAY_CAUSES = (
    "a node's ENA driver renegotiated to a degraded link after a kernel upgrade",
    "a misconfigured traffic-shaping rule left on the node by a load test",
    "conntrack table pressure on the node",
)


def delay(ctx: FaultContext) -> Outcome:
    """Everything into one pod waits longer on the wire; the pod itself is
    fine, its callers see slow calls (the client/server span gap grows)."""
    added = float(ctx.rng.uniform(180, 450))
    ctx.svc.net_ms[ctx.slot] += added * ctx.ramp(1.0)
    cause = DELAY_CAUSES[int(ctx.rng.integers(0, len(DELAY_CAUSES)))]
    return Outcome(
        f"{added:.0f} ms of added network latency on {ctx.instance}: {cause}",
        instance=ctx.instance,
        alerts=symptom_alerts(ctx.state, ctx.culprit),
    )


def loss(ctx: FaultContext) -> Outcome:
    """One pod drops packets: TCP retransmits, tail latency, some calls reset."""
    share = float(ctx.rng.uniform(8, 22))
    ctx.svc.loss_pct[ctx.slot] += share * ctx.ramp(1.0)
    noise = np.exp(ctx.rng.normal(0, 0.15, ctx.state.minutes))
    ctx.svc.extras["tcp_retransmits_per_s"][ctx.slot] += share * 9.0 * ctx.on() * noise
    alerts = symptom_alerts(ctx.state, ctx.culprit)
    alerts.append(
        AlertPlan(
            name="NodeNetworkRetransmitsHigh",
            service=ctx.culprit,
            summary=f"{ctx.culprit}: TCP retransmits on {ctx.instance} above 50/s",
            series=lambda s: s.services[ctx.culprit].extras["tcp_retransmits_per_s"][ctx.slot],
            threshold=50.0,
            metric="tcp_retransmits_per_s",
            instance=ctx.instance,
            severity="warning",
            weight=1.2,
        )
    )
    return Outcome(
        f"{share:.0f}% packet loss on {ctx.instance} (a flapping switch port under its node)",
        instance=ctx.instance,
        alerts=alerts,
    )
