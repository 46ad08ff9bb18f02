"""What each service says in its logs: normal chatter, background errors, and
how it words a failed call, rendered in its runtime's format (formats.py).

A message factory (`MessageFn`) takes the random source and the line's context
(time, pod, trace) and returns the whole line, so a fault can hand the writer
"checkout logs this NullPointerException" without knowing logback's pattern.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from evals.simulator import formats
from evals.simulator.estate import Component
from evals.simulator.state import LineContext, MessageFn, Rng

TextFn = Callable[[Rng], str]
JAVA_PACKAGE = "jp.sakuramart"


# -- identifiers ------------------------------------------------------------------


def hexid(rng: Rng, chars: int) -> str:
    return rng.bytes((chars + 1) // 2).hex()[:chars]


def uuid(rng: Rng) -> str:
    h = hexid(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def private_ip(rng: Rng) -> str:
    return f"10.{rng.integers(0, 4)}.{rng.integers(0, 64)}.{rng.integers(2, 250)}"


# Residential ranges of Japanese ISPs (documentation-safe stand-ins are too few
# to look real; these are plausible-looking but generated, never looked up).
_JP_PREFIXES = ((126, 0), (153, 156), (180, 0), (114, 160), (220, 96), (60, 32), (106, 73))


def customer_ip(rng: Rng) -> str:
    a, b = _JP_PREFIXES[int(rng.integers(0, len(_JP_PREFIXES)))]
    return f"{a}.{b + int(rng.integers(0, 30))}.{rng.integers(0, 256)}.{rng.integers(1, 255)}"


def user_agent(rng: Rng) -> str:
    return formats.USER_AGENTS[int(rng.integers(0, len(formats.USER_AGENTS)))]


def order_id(rng: Rng) -> str:
    return f"SM{rng.integers(10**9, 10**10)}"


def sku(rng: Rng) -> str:
    return f"{rng.integers(1000, 9999)}-{rng.integers(100, 999)}"


def pick(rng: Rng, options: tuple[str, ...] | list[str]) -> str:
    return options[int(rng.integers(0, len(options)))]


# -- rendering --------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    """How one service names itself in logs: its Java logger and thread pool,
    its Go source file, its Node or Python module."""

    logger: str
    thread: str = "http-nio-8080-exec"
    caller: str = "server/handler.go:88"


VOICES: dict[str, Voice] = {
    "checkout": Voice(f"{JAVA_PACKAGE}.checkout.service.OrderService"),
    "payment": Voice(f"{JAVA_PACKAGE}.payment.service.ChargeService"),
    "inventory": Voice(f"{JAVA_PACKAGE}.inventory.service.StockService"),
    "settlement-batch": Voice(f"{JAVA_PACKAGE}.settlement.job.SettlementJob", "scheduling-1"),
    "auth": Voice("auth", caller="login/handler.go:142"),
    "search": Voice("search", caller="query/search.go:211"),
    "api-gateway": Voice("gateway", caller="proxy/upstream.go:97"),
    "cart": Voice("cart-service"),
    "notifications": Voice("notifier"),
    "recommendations": Voice("recommendations.api"),
}


def voice(component: Component) -> Voice:
    return VOICES.get(component.name, Voice(component.name))


def short_logger(logger: str) -> str:
    """Logback abbreviates packages: jp.sakuramart.checkout.X -> j.s.c.X."""
    parts = logger.split(".")
    return ".".join([p[0] for p in parts[:-1]] + parts[-1:])


def app(component: Component, level: str, text: TextFn, stack: TextFn | None = None) -> MessageFn:
    """A line of `component`'s application log in its runtime's format."""
    v = voice(component)

    def render(rng: Rng, ctx: LineContext) -> str:
        msg = text(rng)
        runtime = component.runtime
        if runtime == "java":
            thread = f"{v.thread}-{rng.integers(1, 40)}" if "exec" in v.thread else v.thread
            return formats.logback(
                ctx.ts,
                level,
                component.name,
                thread,
                short_logger(v.logger),
                msg,
                ctx.trace_id,
                ctx.span_id,
                stack(rng) if stack else "",
            )
        if runtime == "node":
            return formats.pino(ctx.ts, level, ctx.instance, msg, ctx.trace_id, module=v.logger)
        if runtime == "python":
            suffix = f"\n{stack(rng)}" if stack else ""
            return formats.pylog(ctx.ts, level, v.logger, msg, ctx.trace_id) + suffix
        fields = {"error": stack(rng)} if stack else {}
        return formats.zap(ctx.ts, level, v.caller, msg, ctx.trace_id, **fields)

    return render


def java_stack(exception: str, detail: str, frames: tuple[str, ...]) -> TextFn:
    """A Java exception with its frames, the way logback prints it."""
    body = "\n".join(f"\tat {frame}" for frame in frames)
    tail = "\n\tat java.base/java.lang.Thread.run(Thread.java:1583)"
    return lambda rng: f"{exception}: {detail}\n{body}{tail}"


# -- how a failed call is worded ----------------------------------------------------


# How a client library words a failed call, by the callee's kind: (Java
# exception, Java frame, what a Go/Node/Python client prints before the phrase).
CLIENTS: dict[str, tuple[str, str, str]] = {
    "database": (
        "org.springframework.dao.DataAccessResourceFailureException",
        "org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2725)",
        "query failed: pq:",
    ),
    "cache": (
        "io.lettuce.core.RedisCommandTimeoutException",
        "io.lettuce.core.internal.ExceptionFactory.createTimeoutException(ExceptionFactory.java:59)",
        "redis:",
    ),
    "queue": (
        "org.apache.kafka.common.errors.TimeoutException",
        "org.apache.kafka.clients.producer.KafkaProducer.doSend(KafkaProducer.java:1075)",
        "kafka: produce failed:",
    ),
    "storage": (
        "software.amazon.awssdk.services.s3.model.S3Exception",
        "software.amazon.awssdk.core.internal.http.CombinedResponseHandler.handle"
        "(CombinedResponseHandler.java:62)",
        "operation error S3: GetObject:",
    ),
}


def generic_error(component: Component) -> MessageFn:
    """A background failure with no particular cause: the everyday noise."""
    if component.runtime == "java":
        stack = java_stack(
            "java.lang.IllegalStateException",
            "Optimistic lock failed after 3 attempts",
            ("org.hibernate.internal.SessionImpl.flush(SessionImpl.java:1469)",),
        )
        return app(component, "ERROR", lambda rng: "Request processing failed", stack)
    return app(component, "ERROR", lambda rng: "request failed: internal error")


def timeout_phrase(caller: Component, callee: Component, limit_ms: float) -> str:
    """How the caller's client library words giving up on `callee` after
    `limit_ms` (Lettuce, the Kafka producer, axios, Go's http.Client...)."""
    ms = f"{limit_ms:.0f}"
    go_store = f"context deadline exceeded (timeout {ms}ms): i/o timeout"
    phrases = {
        ("java", "cache"): f"Command timed out after {ms} millisecond(s)",
        ("java", "queue"): f"Expiring 1 record(s) for order.created-3: {ms} ms has passed since"
        " batch creation",
        ("java", ""): f"Read timed out after {ms} ms",
        ("go", "cache"): go_store,
        ("go", "database"): go_store,
        ("go", ""): f"context deadline exceeded (Client.Timeout {ms}ms exceeded while awaiting"
        " headers)",
        ("node", "cache"): "Command timed out",
        ("node", ""): f"timeout of {ms}ms exceeded",
        ("python", ""): f"ReadTimeout: timed out after {limit_ms / 1000:g}s",
        ("nginx", ""): "upstream timed out (110: Connection timed out) while reading response"
        " header",
    }
    runtime = caller.runtime
    return phrases.get(
        (runtime, callee.kind), phrases.get((runtime, ""), "upstream request timeout")
    )


def call_failed(caller: Component, callee: Component, phrase: str) -> MessageFn:
    """The caller's error line when a call to `callee` fails with `phrase`,
    worded by the client library of the callee's kind (JDBC, Redis, Kafka,
    S3, HTTP)."""
    name = callee.name
    client = CLIENTS.get(callee.kind)
    if caller.runtime == "java":
        cls = f"{JAVA_PACKAGE}.{caller.name.split('-')[0]}.client.{_camel(name)}Client"
        here = f"{cls}.call({_camel(name)}Client.java:88)"
        if client:
            exception, frame, _ = client
            stack = java_stack(exception, phrase, (frame, here))
        else:
            exception = (
                "org.springframework.web.client.ResourceAccessException"
                if "timed out" in phrase or "refused" in phrase
                else "org.springframework.web.client.HttpServerErrorException"
            )
            stack = java_stack(
                exception, f'I/O error on POST request for "http://{name}:8080": {phrase}', (here,)
            )
        return app(caller, "ERROR", lambda rng: f"Call to {name} failed: {phrase}", stack)
    if caller.runtime in {"nginx", "envoy"}:
        return app(caller, "ERROR", lambda rng: f"upstream {name} error: {phrase}")
    prefix = client[2] if client else f"request to {name} failed:"
    return app(caller, "ERROR", lambda rng: f"{prefix} {phrase}")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


# -- normal chatter -----------------------------------------------------------------


@dataclass(frozen=True)
class Chatter:
    """A usual line of a service at `per_pod_min` lines per pod-minute at peak
    (scaled with traffic when `with_traffic`)."""

    level: str
    per_pod_min: float
    message: MessageFn
    with_traffic: bool = True


def client_gone(component: Component) -> tuple[str, MessageFn] | None:
    """(level, line) a server writes when its client hung up before the
    answer (it had timed out): a broken pipe, a canceled context, a reset.
    None where the server logs nothing of it (Redis, Kafka, Python here)."""
    runtime = component.runtime
    if runtime == "java":
        broken_pipe = java_stack(
            "org.apache.catalina.connector.ClientAbortException",
            "java.io.IOException: Broken pipe",
            (
                "org.apache.catalina.connector.OutputBuffer.realWriteBytes(OutputBuffer.java:341)",
                "org.apache.catalina.connector.OutputBuffer.flushByteBuffer(OutputBuffer.java:776)",
            ),
        )
        return "WARN", app(component, "WARN", lambda rng: "Client aborted the request", broken_pipe)
    if runtime in {"go", "envoy"}:
        text = "request canceled by client: context canceled"
        return "ERROR", app(component, "ERROR", lambda rng: text)
    if runtime == "node":
        text = "ECONNRESET while writing response, client went away"
        return "WARN", app(component, "WARN", lambda rng: text)
    if runtime == "postgres":
        return "INFO", _pg_client_gone
    return None


def _pg_client_gone(rng: Rng, ctx: LineContext) -> str:
    return formats.postgres(
        ctx.ts,
        int(rng.integers(1000, 40000)),
        pick(rng, ("auth@orders", "inventory@orders", "payment@orders", "checkout@orders")),
        "LOG",
        "could not receive data from client: Connection reset by peer",
    )


def _gone(component: Component, per_pod_min: float) -> Chatter:
    """The everyday client hang-ups (timeouts at the callers' tails)."""
    line = client_gone(component)
    assert line is not None
    return Chatter(line[0], per_pod_min, line[1])


def chatter(component: Component) -> list[Chatter]:
    """The service's normal INFO lines and its background warnings/errors."""
    maker = _CHATTER.get(component.runtime)
    return maker(component) if maker else []


def _java(c: Component) -> list[Chatter]:
    name = c.name
    info = {
        "checkout": lambda rng: (
            f"Order {order_id(rng)} placed: {rng.integers(1, 6)} items,"
            f" total JPY {rng.integers(800, 48000)}"
        ),
        "payment": lambda rng: (
            f"Charge authorised for order {order_id(rng)} (psp_ref=ch_{hexid(rng, 24)})"
        ),
        "inventory": lambda rng: (
            f"Reserved {rng.integers(1, 4)} of sku {sku(rng)} (remaining {rng.integers(0, 400)})"
        ),
        "settlement-batch": lambda rng: (
            f"Settled batch {rng.integers(10000, 99999)}: {rng.integers(40, 400)} payments"
        ),
    }.get(name, lambda rng: "Request handled")
    gc_text: TextFn = lambda rng: (  # noqa: E731
        f"GC pause (G1 Evacuation Pause) (young) {rng.integers(300, 700)}M->"
        f"{rng.integers(90, 200)}M(1536M) {rng.uniform(4, 30):.3f}ms"
    )
    return [
        Chatter("INFO", 3.0, app(c, "INFO", info)),
        Chatter("INFO", 0.4, app(c, "INFO", gc_text), with_traffic=False),
        Chatter(
            "DEBUG",
            1.0,
            app(
                c,
                "DEBUG",
                lambda rng: (
                    "HikariPool-1 - Pool stats (total=20,"
                    f" active={rng.integers(1, 6)}, idle={rng.integers(12, 19)},"
                    " waiting=0)"
                ),
            ),
            with_traffic=False,
        ),
        _gone(c, 0.03),
    ]


def _go(c: Component) -> list[Chatter]:
    info = {
        "auth": lambda rng: f"login ok user_id={rng.integers(10**6, 10**7)} mfa=false",
        "search": lambda rng: (
            f"query served hits={rng.integers(0, 900)}"
            f" took_ms={rng.integers(5, 60)} index=products-v{rng.integers(41, 43)}"
        ),
        "api-gateway": lambda rng: f"config snapshot up to date version={rng.integers(9000, 9100)}",
    }.get(c.name, lambda rng: "request handled")
    return [
        Chatter("INFO", 2.0, app(c, "INFO", info)),
        _gone(c, 0.04),
        Chatter(
            "WARN",
            0.05,
            app(
                c,
                "WARN",
                lambda rng: f"slow request path=/healthz took_ms={rng.integers(200, 900)}",
            ),
            with_traffic=False,
        ),
    ]


def _node(c: Component) -> list[Chatter]:
    info = {
        "cart": lambda rng: f"cart updated items={rng.integers(1, 9)}",
        "notifications": lambda rng: (
            f"email queued template=order_confirmation order={order_id(rng)}"
        ),
    }.get(c.name, lambda rng: "request completed")
    return [
        Chatter("INFO", 2.5, app(c, "INFO", info)),
        _gone(c, 0.05),
    ]


def _python(c: Component) -> list[Chatter]:
    return [
        Chatter(
            "INFO",
            2.0,
            app(
                c,
                "INFO",
                lambda rng: (
                    "served recommendations"
                    f" user_segment={pick(rng, ('new', 'returning', 'vip'))}"
                    f" items={rng.integers(8, 24)} model=als-2026w19"
                ),
            ),
        ),
        Chatter(
            "WARN",
            0.05,
            app(
                c,
                "WARN",
                lambda rng: (
                    f"feature store lookup slow, using cached vector ({rng.integers(120, 400)} ms)"
                ),
            ),
        ),
    ]


def _postgres(c: Component) -> list[Chatter]:
    def checkpoint(rng: Rng, ctx: LineContext) -> str:
        msg = (
            f"checkpoint complete: wrote {rng.integers(800, 6000)} buffers"
            f" ({rng.uniform(0.5, 4):.1f}%); 0 WAL file(s) added, {rng.integers(0, 3)} removed,"
            f" {rng.integers(1, 4)} recycled; write={rng.uniform(20, 90):.3f} s"
        )
        return formats.postgres(ctx.ts, int(rng.integers(60, 90)), "", "LOG", msg)

    def slowish(rng: Rng, ctx: LineContext) -> str:
        msg = (
            f"duration: {rng.uniform(250, 900):.3f} ms  statement: SELECT p.* FROM payments p"
            f" WHERE p.settled_at IS NULL AND p.created_at < now() - interval '1 day'"
        )
        return formats.postgres(
            ctx.ts, int(rng.integers(1000, 40000)), "settlement@orders", "LOG", msg
        )

    return [
        Chatter("INFO", 0.2, checkpoint, with_traffic=False),
        Chatter("INFO", 0.3, slowish, with_traffic=False),
    ]


def _redis(c: Component) -> list[Chatter]:
    def save(rng: Rng, ctx: LineContext) -> str:
        return formats.redis(
            ctx.ts, "M", "*", f"{rng.integers(100, 20000)} changes in 60 seconds. Saving..."
        )

    return [Chatter("INFO", 0.5, save, with_traffic=False)]


def _kafka(c: Component) -> list[Chatter]:
    def roll(rng: Rng, ctx: LineContext) -> str:
        partition = rng.integers(0, 12)
        return formats.kafka(
            ctx.ts,
            "INFO",
            f"[LocalLog partition=orders.events-{partition}, dir=/var/lib/kafka/data] Rolled"
            f" new log segment at offset {rng.integers(10**7, 10**8)} in"
            f" {rng.integers(1, 9)} ms.",
            "kafka.log.LocalLog",
        )

    return [Chatter("INFO", 0.6, roll, with_traffic=False)]


_CHATTER: dict[str, Callable[[Component], list[Chatter]]] = {
    "java": _java,
    "go": _go,
    "envoy": _go,
    "node": _node,
    "python": _python,
    "postgres": _postgres,
    "redis": _redis,
    "kafka": _kafka,
}


def poisson(rng: Rng, rate: np.ndarray) -> np.ndarray:
    return rng.poisson(np.maximum(rate, 0.0))
