"""Change faults: a bad deploy (errors as the new pods come up), the same
among concurrent benign rollouts, and a bad config push (errors the moment it
is reloaded)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evals.simulator.estate import Component
from evals.simulator.faults.base import FaultContext, Outcome, rollout, symptom_alerts
from evals.simulator.state import CaseState, Change, LineContext, LogStream, MessageFn, Rng
from evals.simulator.vocab import app, generic_error, java_stack

# How many benign rollouts land with the bad one (0 to 4), and how likely.
CONCURRENT = np.array([0.1, 0.3, 0.25, 0.2, 0.15])
# How a bad version shows (throws a new exception; fails with the errors the
# service always logs; only slower), and how likely.
REGRESSIONS = np.array([0.6, 0.25, 0.15])
# A new version, bad or not, often logs a line the old one never did.
NEW_LINE_SHARE = 0.5
NEW_LINES = {
    "java": ("WARN", "Deprecated configuration property 'spring.redis.host' in use; use"
             " 'spring.data.redis.host' instead"),
    "go": ("INFO", "feature flags loaded count=37 source=flagd"),
    "envoy": ("INFO", "feature flags loaded count=37 source=flagd"),
    "node": ("WARN", "(node:1) [DEP0040] DeprecationWarning: The `punycode` module is"
             " deprecated. Please use a userland alternative instead."),
    "python": ("WARN", "FutureWarning: DataFrame.applymap has been deprecated. Use"
               " DataFrame.map instead."),
}  # fmt: skip


@dataclass(frozen=True)
class Regression:
    """What a bad version does on its new pods: fail a `share` of requests,
    run its own work `slowdown` times slower, throw a new exception or not."""

    share: float
    slowdown: float = 1.15
    throws: bool = True

    def describe(self) -> str:
        parts = []
        if self.throws:
            parts.append("throws on a common request")
        elif self.share > 0.05:
            parts.append("fails a share of requests with the usual error")
        if self.slowdown > 2:
            parts.append(f"runs {self.slowdown:.1f}x slower")
        return "the new code path " + " and ".join(parts)


def bad_deploy(ctx: FaultContext) -> Outcome:
    """A rollout whose new code throws on a common path. Errors start on each
    new pod as it replaces an old one; the change is minutes before the onset."""
    regression = Regression(float(ctx.rng.uniform(0.25, 0.6)))
    change = _bad_rollout(ctx, stagger=1, regression=regression)
    return Outcome(
        f"bad deploy {change.summary}: {regression.describe()}",
        change_id=change.id,
        alerts=symptom_alerts(ctx.state, ctx.culprit),
    )


def rollout_decoys(ctx: FaultContext) -> Outcome:
    """One to five services roll out new versions at about the same time and
    exactly one is bad: only its new pods fail or run slow, in proportion to
    the traffic they take; the others' new pods behave like the old ones
    (though a new version, bad or not, may log a new line). Sometimes a
    benign rollout starts after the bad one, sometimes one lands right at
    the onset."""
    state, rng = ctx.state, ctx.rng
    bad_start = max(ctx.minute - 1, 0)
    starts = _benign_starts(rng, bad_start, int(rng.choice(len(CONCURRENT), p=CONCURRENT)))
    services = _idle_deployables(state, ctx.culprit, len(starts), rng)
    regression = _regression(rng)
    plan = sorted([(bad_start, ctx.culprit), *zip(starts, services, strict=False)])
    bad: Change | None = None
    benign: list[str] = []
    for minute, service in plan:
        stagger = int(rng.integers(1, 4))
        if service == ctx.culprit:
            bad = _bad_rollout(ctx, stagger, regression)
        else:
            benign.append(rollout(state, service, minute, ctx.case_no, stagger=stagger).id)
        if rng.random() < NEW_LINE_SHARE:
            _new_line(state, service)
    assert bad is not None
    together = f", one of {len(plan)} rollouts at about the same time" if len(plan) > 1 else ""
    return Outcome(
        f"bad deploy {bad.summary}{together}: {regression.describe()}",
        change_id=bad.id,
        alerts=symptom_alerts(state, ctx.culprit),
        decoys=benign,
    )


def _regression(rng: Rng) -> Regression:
    mode = int(rng.choice(len(REGRESSIONS), p=REGRESSIONS))
    if mode == 0:
        slowdown = float(rng.uniform(2.0, 5.0)) if rng.random() < 0.3 else 1.15
        return Regression(float(rng.uniform(0.08, 0.6)), slowdown)
    if mode == 1:
        return Regression(float(rng.uniform(0.08, 0.4)), throws=False)
    return Regression(float(rng.uniform(0.0, 0.03)), float(rng.uniform(3.0, 8.0)), throws=False)


def _new_line(state: CaseState, service: str) -> None:
    """The service's newest pods log, about once a minute each, a line its
    previous version never did (a deprecation warning, a new client's start)."""
    svc = state.services[service]
    line = NEW_LINES.get(svc.component.runtime)
    if line is None:
        return
    level, text = line
    for slot, (at, _) in enumerate(s[-1] for s in svc.names):
        rate = np.zeros(state.minutes)
        rate[max(at, 0) :] = 1.0
        state.add_stream(
            LogStream(
                service,
                level,
                app(svc.component, level, lambda rng: text),
                rate,
                slot=slot,
                traced=False,
            )
        )


def _benign_starts(rng: Rng, bad_start: int, count: int) -> list[int]:
    """Start minutes of the benign rollouts around the bad one's: now and then
    one after it (the bad one is not the latest) and one whose first new pod
    comes up in the onset minute; the rest in the quarter hour before."""
    special = []
    if rng.random() < 0.4:
        special.append(bad_start + int(rng.integers(2, 6)))
    if rng.random() < 0.4:
        special.append(bad_start + 1)
    rest = [bad_start + int(rng.integers(-14, 1)) for _ in range(count)]
    return (special + rest)[:count]


def _idle_deployables(state: CaseState, culprit: str, count: int, rng: Rng) -> list[str]:
    """Services a rollout replaces pods of under new names, that have not
    deployed yet in this case (a service rolls out at most once per case)."""
    deployed = {c.service for c in state.changes if c.kind == "deploy"}
    candidates = [
        name
        for name, svc in state.services.items()
        if svc.component.kind in {"service", "frontend"}
        and svc.component.has_pods
        and not svc.component.behaviour.stateful
        and name != culprit
        and name not in deployed
    ]
    order = rng.permutation(len(candidates))
    return [candidates[int(i)] for i in order[:count]]


def _bad_rollout(ctx: FaultContext, stagger: int, regression: Regression) -> Change:
    """Roll the culprit out one pod each `stagger` minutes from the minute
    before the onset; each new pod shows the regression from the minute after
    it comes up. If it throws, only the new pods log the new exception; the
    old ones keep their everyday errors."""
    svc, state = ctx.svc, ctx.state
    change = rollout(state, ctx.culprit, max(ctx.minute - 1, 0), ctx.case_no, stagger=stagger)
    ctx.offset_s = float(ctx.rng.uniform(0, 20))
    new_pods = set()
    for slot, (at, name) in enumerate(s[-1] for s in svc.names):
        svc.own_err[slot, at + 1 :] += regression.share
        svc.self_mult[slot, at + 1 :] *= regression.slowdown
        new_pods.add(name)
    if regression.throws:
        thrown = _exception(svc.component, change.to_version or "")
        svc.own_error = _on_pods(new_pods, thrown, generic_error(svc.component))
    return change


def _on_pods(pods: set[str], new: MessageFn, old: MessageFn) -> MessageFn:
    """`new`'s line on the given pods, `old`'s elsewhere."""

    def render(rng: Rng, ctx: LineContext) -> str:
        return (new if ctx.instance in pods else old)(rng, ctx)

    return render


# Where each Java service's new code throws: (class, method, line, what is null).
NPE_SITES = {
    "payment": (
        "psp.PspResponseMapper",
        "toAuthorisation",
        88,
        "jp.sakuramart.payment.psp.ChargeResponse.getThreeDsResult()",
        "response",
    ),
    "checkout": (
        "pricing.PriceCalculator",
        "apply",
        214,
        "jp.sakuramart.checkout.model.Promotion.discountFor(long)",
        "promotion",
    ),
    "inventory": (
        "reservation.ReservationService",
        "reserve",
        131,
        "jp.sakuramart.inventory.model.Warehouse.getCode()",
        "warehouse",
    ),
}


def _exception(component: Component, version: str) -> MessageFn:
    name = component.name
    pkg = name.split("-")[0]
    runtime = component.runtime
    if runtime == "java":
        cls, method, line, call, var = NPE_SITES.get(
            name,
            ("service.Handler", "handle", 77, f"jp.sakuramart.{pkg}.model.Item.getId()", "item"),
        )
        stack = java_stack(
            "java.lang.NullPointerException",
            f'Cannot invoke "{call}" because "{var}" is null',
            (
                f"jp.sakuramart.{pkg}.{cls}.{method}({cls.rsplit('.', 1)[-1]}.java:{line})",
                f"jp.sakuramart.{pkg}.service.{pkg.capitalize()}Service.handle"
                f"({pkg.capitalize()}Service.java:96)",
                "org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)",
            ),
        )
        return app(
            component,
            "ERROR",
            lambda rng: "Servlet.service() for servlet [dispatcherServlet] threw exception",
            stack,
        )
    if runtime == "node":
        return app(
            component,
            "ERROR",
            lambda rng: (
                "TypeError: Cannot read properties of"
                " undefined (reading 'currency')\n    at formatPrice"
                " (/app/dist/lib/price.js:42:17)\n    at CartView.render"
                " (/app/dist/routes/cart.js:118:9)"
            ),
        )
    if runtime == "python":
        return app(
            component,
            "ERROR",
            lambda rng: (
                "Exception in ASGI application\nTraceback"
                ' (most recent call last):\n  File "/app/recs/ranking.py", line 77, in'
                " rank\n    segment = profile['segment_id']\nKeyError: 'segment_id'"
            ),
        )
    if runtime == "nginx":
        return app(
            component,
            "ERROR",
            lambda rng: (
                "rewrite or internal redirection cycle while"
                ' internally redirecting to "/index.html"'
            ),
        )
    return app(
        component,
        "ERROR",
        lambda rng: (
            "panic recovered: runtime error: invalid memory"
            f" address or nil pointer dereference [signal SIGSEGV] version={version}"
            f"\ngoroutine {rng.integers(100, 9000)} [running]:\nmain.(*handler).serve(...)"
            f"\n\t/src/{pkg}/handler.go:131 +0x1c4"
        ),
    )


CONFIGS: dict[str, tuple[str, str, int]] = {
    "api-gateway": (
        "route cluster checkout-v2 points at port 8081 (service listens on 8080)",
        "no healthy upstream",
        503,
    ),
    "auth": (
        "JWKS endpoint changed to https://idp.sakuramart.example/.well-known/jwks",
        'fetch JWKS: Get "https://idp.sakuramart.example/.well-known/jwks": dial tcp:'
        " lookup idp.sakuramart.example: no such host",
        500,
    ),
    "search": (
        "index alias 'products' switched to products-v43 (not built yet)",
        "elastic: Error 404 (Not Found): no such index [products-v43]"
        " [type=index_not_found_exception]",
        500,
    ),
    "checkout": (
        "payment.client.read-timeout set to 50ms (was 5000ms)",
        "Read timed out after 50 ms calling payment",
        500,
    ),
    "cart": (
        "REDIS_URL switched to the decommissioned cache-legacy endpoint",
        "Error: connect ECONNREFUSED 10.2.7.14:6379",
        500,
    ),
}


def bad_config(ctx: FaultContext) -> Outcome:
    """A config push (ConfigMap, flag or secret) that breaks a request path as
    soon as the pods reload it, with no restart."""
    svc, state = ctx.svc, ctx.state
    what, error, status = CONFIGS.get(ctx.culprit, CONFIGS["search"])
    minute = max(ctx.minute - 1, 0)
    change = rollout(
        state,
        ctx.culprit,
        minute,
        ctx.case_no,
        kind="config",
        summary=f"{ctx.culprit}: {what}",
        actor=("k.goto", "s.ota", "m.aoki", "r.fujita")[int(ctx.rng.integers(0, 4))],
    )
    ctx.offset_s = change.ts - float(state.ts[ctx.minute]) + 15.0
    on = ctx.on()
    svc.own_err += float(ctx.rng.uniform(0.3, 0.7)) * on[None, :]
    svc.error_status = status
    svc.error_phrase = f"HTTP {status}"
    svc.own_error = app(svc.component, "ERROR", lambda rng: error)
    reload = on.copy()
    reload[ctx.minute + 1 :] = 0.0
    ctx.stream(
        "INFO",
        app(
            svc.component,
            "INFO",
            lambda rng: f"configuration reloaded (checksum {rng.integers(10**7, 10**8):x})",
        ),
        reload * svc.pods,
        traced=False,
    )
    return Outcome(
        f"bad config push: {what}", change_id=change.id, alerts=symptom_alerts(state, ctx.culprit)
    )
