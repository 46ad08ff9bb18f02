"""Dependency faults: the external PSP down, an expired TLS certificate."""

from __future__ import annotations

import numpy as np

from evals.simulator.faults.base import AlertPlan, FaultContext, Outcome, symptom_alerts
from evals.simulator.state import LineContext, LogStream, Rng
from evals.simulator.timeutil import iso
from evals.simulator.vocab import app, private_ip


def psp_down(ctx: FaultContext) -> Outcome:
    """The payment provider fails: 503s, or connections that hang until the
    client gives up. Payment fails, checkout fails, customers cannot pay."""
    svc, state = ctx.svc, ctx.state
    on = ctx.ramp(1.0)
    if ctx.rng.random() < 0.5:
        svc.own_err += 0.93 * on[None, :]
        svc.error_phrase = "503 Service Unavailable from api.psp.example (upstream maintenance)"
        detail = "PSP outage: api.psp.example answers 503 to every charge"
    else:
        svc.self_mult *= 1.0 + 40.0 * on[None, :]
        detail = "PSP outage: api.psp.example accepts connections but never answers"
    payment = state.estate["payment"]
    breaker = np.clip(on * 3.0 - 1.0, 0.0, 1.0)
    state.add_stream(
        LogStream(
            "payment",
            "WARN",
            app(
                payment,
                "WARN",
                lambda rng: (
                    "CircuitBreaker 'psp' changed state from CLOSED to OPEN (failure rate 87.5%)"
                ),
            ),
            0.8 * breaker,
        )
    )
    alerts = symptom_alerts(state, ctx.culprit)
    alerts.append(
        AlertPlan(
            name="PaymentProviderProbeFailing",
            service=ctx.culprit,
            summary="psp: blackbox probe of https://api.psp.example/health failing",
            series=lambda s: 100.0 * (1.0 - s.derived["psp"].svc_err),
            threshold=50.0,
            below=True,
            metric="probe_success_pct",
            weight=0.6,
        )
    )
    return Outcome(detail, alerts=alerts)


def tls_expired(ctx: FaultContext) -> Outcome:
    """The service's serving certificate expires (its renewal had been
    failing): every caller's handshake fails; the service itself sees almost
    nothing but handshake errors. Starts exactly at the certificate's notAfter."""
    svc, state = ctx.svc, ctx.state
    ctx.offset_s = 0.0
    on = ctx.on()
    svc.reject = np.maximum(svc.reject, 0.985 * on)
    expiry = iso(ctx.start_s)
    callers = state.estate.callers(ctx.culprit)
    go_like = any(state.estate[c].runtime in {"go", "envoy", "node"} for c in callers)
    svc.error_phrase = (
        f"tls: failed to verify certificate: x509: certificate has expired or is not yet"
        f" valid: current time is after {expiry}"
        if go_like
        else "javax.net.ssl.SSLHandshakeException: PKIX path validation failed:"
        " java.security.cert.CertPathValidatorException: validity check failed"
    )
    attempts = sum((state.journey_rps[j.name] for j in state.journeys), np.zeros(state.minutes))
    rate = np.minimum(attempts * 0.05, 40.0) * on

    def handshake(rng: Rng, line: LineContext) -> str:
        return app(
            svc.component,
            "ERROR",
            lambda r: (
                f"http: TLS handshake error from"
                f" {private_ip(r)}:{r.integers(30000, 60000)}: remote error: tls: bad"
                " certificate"
            ),
        )(rng, line)

    ctx.stream("ERROR", handshake, rate, traced=False)
    return Outcome(
        f"serving certificate of {ctx.culprit} expired at {expiry}: cert-manager renewal had"
        " been failing (ClusterIssuer credentials rotated)",
        alerts=symptom_alerts(state, ctx.culprit),
    )
