"""What makes a quiet estate look alive, and a noisy one look like production.

- runtime series every pod has (retransmits, GC pauses), and series derived
  from the traffic after propagation (connection pools by Little's law, the
  database's connections, the cache hit ratio, consumer lag);
- background logs of the parts that are not ours: S3 access records of the
  object store, CloudTrail events of the cloud account's automation;
- the security background every internet-facing shop has: customers mistyping
  passwords (failed logins, 401s at the gateway), sessions expiring (401s on
  token refresh), links to products that are gone (404s), and the internet's
  constant trickle of scanner probes (/.env, /wp-login.php ...), now and then
  a scanner passing by with a dozen probes in a minute;
- decoys: GC pauses on random Java pods, a chatty noisy neighbour
  (recommendations' model refresh, settlement-batch runs), benign deploys and
  config changes around the fault.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np

from evals.simulator import formats
from evals.simulator.estate import AUDIT_SERVICE
from evals.simulator.faults.base import rollout
from evals.simulator.state import CaseState, LineContext, LogStream, Rng
from evals.simulator.vocab import app, customer_ip, hexid, pick, private_ip, user_agent

POOL_SIZE = 20
BUCKET = "sakuramart-assets"
CI_IPS = ("140.82.112.4", "192.30.252.17", "185.199.108.9")
OFFICE_IP = "203.141.52.36"


def baseline_extras(state: CaseState) -> None:
    """Series every pod of a kind has, before any fault touches them."""
    rng = state.rng
    for svc in state.services.values():
        shape = svc.up.shape
        if svc.component.has_pods:
            svc.extras["tcp_retransmits_per_s"] = rng.gamma(2.0, 0.6, shape)
        if svc.component.runtime == "java":
            svc.extras["jvm_gc_pause_max_s"] = rng.gamma(2.0, 0.012, shape)
    audit = state.services[AUDIT_SERVICE]
    audit.extras["api_calls_per_min"] = rng.poisson(160, state.minutes).astype(float)


def derived_extras(state: CaseState) -> None:
    """Series that follow from traffic and latency (run after propagation)."""
    rng = state.rng
    db_in_use = np.zeros(state.minutes)
    for name, svc in state.services.items():
        derived = state.derived[name]
        if "orders-db" in derived.edge_calls:
            calls = derived.edge_calls["orders-db"] / max(svc.pods, 1)
            held = calls * derived.edge_latency_ms["orders-db"] / 1000.0 * 1.6 + 1.0
            leaked = svc.knobs.get("pool_leaked", np.zeros(svc.up.shape))
            in_use = np.minimum(held[None, :] + leaked, POOL_SIZE)
            wanted = held[None, :] + leaked
            svc.extras["db_pool_usage_pct"] = 100.0 * in_use / POOL_SIZE + rng.normal(
                0, 1.5, in_use.shape
            )
            svc.extras["db_pool_pending_threads"] = np.maximum(wanted - POOL_SIZE, 0) * 3.0
            db_in_use += in_use.sum(axis=0)
    db = state.services["orders-db"]
    idle = 12.0 + rng.normal(0, 1.0, db.up.shape)
    db.extras["pg_connections_active"] = idle + np.array([1.0, 0.15])[:, None] * db_in_use
    db.extras["pg_locks_waiting"] = db.knobs.get("locks", np.zeros(db.up.shape)) + rng.poisson(
        0.3, db.up.shape
    )
    cache = state.services["cache"]
    ratio = cache.knobs.get("hit_ratio", np.full(state.minutes, 0.945))
    cache.extras["cache_hit_ratio"] = np.clip(
        ratio[None, :] + rng.normal(0, 0.006, cache.up.shape), 0, 1
    )
    cache.extras["redis_evicted_keys_per_s"] = cache.knobs.get(
        "evictions", np.zeros(cache.up.shape)
    ) + rng.gamma(1.5, 2.0, cache.up.shape)
    _consumer_lag(state)
    storage = state.services["object-storage"]
    usual = np.maximum(state.derived["object-storage"].svc_rps - storage.extra_rps, 0.0)
    attack = storage.knobs.get("attack_bytes_per_s", np.zeros(state.minutes))
    storage.extras["bytes_downloaded_per_s"] = usual * 180_000.0 + attack


def _consumer_lag(state: CaseState) -> None:
    """Lag grows when notifications consume slower than checkout produces."""
    svc = state.services["notifications"]
    produced = state.derived["checkout"].edge_calls.get("queue", np.zeros(state.minutes))
    capacity = (
        svc.knobs.get("consumer_capacity", np.ones(state.minutes)) * 3.0 * (produced.max() + 1.0)
    )
    lag = np.zeros(state.minutes)
    level = 20.0
    for t in range(state.minutes):
        level = max(15.0, level + (produced[t] - capacity[t]) * 60.0)
        lag[t] = level
    noise = state.rng.normal(1.0, 0.08, svc.up.shape)
    svc.extras["kafka_consumer_records_lag_max"] = lag[None, :] / svc.pods * noise


# -- background logs of what we don't run ------------------------------------------------


def background_streams(state: CaseState) -> None:
    """S3 access records at the store's traffic; CloudTrail from automation;
    the everyday security noise at the edge and at login."""
    rate = state.derived["object-storage"].svc_rps * 60.0 / 400.0
    state.add_stream(LogStream("object-storage", "", _s3_line, rate, traced=False))
    state.add_stream(
        LogStream(
            AUDIT_SERVICE, "", _cloudtrail_background, np.full(state.minutes, 2.5), traced=False
        )
    )
    security_background(state)


# Customers who mistype their password, and sessions that expire, per request.
LOGIN_FAILURES = 0.03
EXPIRED_SESSIONS = 0.004
MISSING_PAGES = 0.003
PROBES_PER_MIN = 0.15
PROBE_PATHS = (
    "/.env",
    "/wp-login.php",
    "/phpmyadmin/index.php",
    "/.git/config",
    "/admin.php",
    "/actuator/env",
    "/xmlrpc.php",
    "/cgi-bin/luci",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
)
PROBE_AGENTS = (
    "Mozilla/5.0 zgrab/0.x",
    "python-requests/2.28.1",
    "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
    "curl/7.88.1",
)
HOSTING_PREFIXES = ("167.94.138", "162.142.125", "45.148.10", "194.187.176", "87.236.176")


def security_background(state: CaseState) -> None:
    """Failed logins and 401s at customers' rates, 404s, and scanner probes.

    Sampled like the streams an attack adds (1 in 25 login attempts at auth,
    1 in 40 at the gateway; access failures 1 in 8), so rates compare."""
    rng = state.rng
    login = state.journey_rps.get("login", np.zeros(state.minutes))
    auth = state.estate["auth"]

    def failed(r: Rng) -> str:
        return (
            f"login failed user={r.integers(10**6, 10**7)}@"
            f"{pick(r, ('gmail.com', 'yahoo.co.jp', 'docomo.ne.jp', 'icloud.com'))}"
            f' reason=invalid_password ip={customer_ip(r)} ua="{user_agent(r)}"'
        )

    state.add_stream(
        LogStream("auth", "WARN", app(auth, "WARN", failed), login * 60 * LOGIN_FAILURES / 25)
    )
    state.add_stream(
        LogStream(
            "api-gateway",
            "WARN",
            _edge_line("api-gateway", "POST", lambda r: "/api/v1/auth/login", 401, customer=True),
            login * 60 * LOGIN_FAILURES / 40,
        )
    )
    gateway = state.derived["api-gateway"].svc_rps
    state.add_stream(
        LogStream(
            "api-gateway",
            "WARN",
            _edge_line("api-gateway", "POST", lambda r: "/api/v1/auth/refresh", 401, customer=True),
            gateway * 60 * EXPIRED_SESSIONS / 40,
        )
    )
    front = state.derived["web-frontend"].svc_rps
    state.add_stream(
        LogStream(
            "web-frontend",
            "WARN",
            _edge_line(
                "web-frontend",
                "GET",
                lambda r: f"/products/{r.integers(100000, 999999)}",
                404,
                customer=True,
            ),
            front * 60 * MISSING_PAGES / 8,
        )
    )
    for edge in ("web-frontend", "api-gateway"):
        probes = np.full(state.minutes, PROBES_PER_MIN)
        if rng.random() < 0.5:
            # A scanner passing by: a dozen probes in a minute.
            probes[int(rng.integers(0, state.minutes))] += float(rng.uniform(8, 16))
        state.add_stream(
            LogStream(
                edge,
                "WARN",
                _edge_line(edge, "GET", lambda r: pick(r, PROBE_PATHS), 404, customer=False),
                probes,
                traced=False,
            )
        )


def _edge_line(
    service: str, method: str, path: Callable[[Rng], str], status: int, customer: bool
) -> Callable[[Rng, LineContext], str]:
    """An access line of the edge service `service` (nginx or Envoy format)."""

    def render(rng: Rng, ctx: LineContext) -> str:
        ip = (
            customer_ip(rng)
            if customer
            else f"{pick(rng, HOSTING_PREFIXES)}.{rng.integers(1, 255)}"
        )
        agent = user_agent(rng) if customer else pick(rng, PROBE_AGENTS)
        if service == "web-frontend":
            return formats.nginx(
                ctx.ts,
                ip,
                method,
                path(rng),
                status,
                162,
                agent,
                float(rng.uniform(0.001, 0.02)),
                ctx.trace_id,
            )
        return formats.envoy(
            ctx.ts,
            ip,
            method,
            path(rng),
            status,
            61,
            agent,
            int(rng.integers(1, 30)),
            ctx.trace_id,
            private_ip(rng) + ":8080",
        )

    return render


def _s3_line(rng: Rng, ctx: LineContext) -> str:
    role = pick(rng, ("search-irsa", "search-irsa", "search-irsa", "settlement-batch-irsa"))
    principal = (
        f"arn:aws:sts::123456789012:assumed-role/{role}/botocore-session-{rng.integers(1, 9)}"
    )
    key = f"images/p/{rng.integers(100000, 999999)}/{pick(rng, ('main', 'thumb', 'zoom'))}.webp"
    op = "REST.GET.OBJECT"
    status, error = (404, "NoSuchKey") if rng.random() < 0.01 else (200, "-")
    return formats.s3_access(
        ctx.ts,
        BUCKET,
        private_ip(rng),
        principal,
        hexid(rng, 16).upper(),
        op,
        key,
        status,
        error,
        int(rng.integers(20_000, 400_000)),
        int(rng.integers(8, 60)),
        "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux",
    )


def assumed_role(role: str, session: str) -> dict[str, object]:
    return {
        "type": "AssumedRole",
        "principalId": f"AROA{hashlib.sha256(role.encode()).hexdigest()[:16].upper()}:{session}",
        "arn": f"arn:aws:sts::123456789012:assumed-role/{role}/{session}",
        "accountId": "123456789012",
        "sessionContext": {"sessionIssuer": {"type": "Role", "userName": role}},
    }


def _cloudtrail_background(rng: Rng, ctx: LineContext) -> str:
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return formats.cloudtrail(
            ctx.ts,
            "AssumeRoleWithWebIdentity",
            "sts.amazonaws.com",
            {"type": "WebIdentityUser", "principalId": "token.actions.githubusercontent.com"},
            pick(rng, CI_IPS),
            "aws-sdk-js/3.556.0",
            "ap-northeast-1",
            _event_id(rng),
            params={"roleArn": "arn:aws:iam::123456789012:role/github-actions-deploy"},
        )
    if kind == 1:
        return formats.cloudtrail(
            ctx.ts,
            "GetAuthorizationToken",
            "ecr.amazonaws.com",
            assumed_role("eks-node-role", f"i-0{hexid(rng, 16)}"),
            "ec2.amazonaws.com",
            "ec2.amazonaws.com",
            "ap-northeast-1",
            _event_id(rng),
        )
    if kind == 2:
        return formats.cloudtrail(
            ctx.ts,
            "DescribeInstances",
            "ec2.amazonaws.com",
            assumed_role("terraform-plan", "atlantis"),
            OFFICE_IP,
            "APN/1.0 HashiCorp/1.0 Terraform/1.8.2",
            "ap-northeast-1",
            _event_id(rng),
        )
    return formats.cloudtrail(
        ctx.ts,
        "Decrypt",
        "kms.amazonaws.com",
        assumed_role("payment-irsa", "botocore-session-1"),
        "eks.amazonaws.com",
        "eks.amazonaws.com",
        "ap-northeast-1",
        _event_id(rng),
    )


def _event_id(rng: Rng) -> str:
    h = hexid(rng, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# -- decoys --------------------------------------------------------------------------------


def gc_pauses(state: CaseState) -> None:
    """A long GC pause or two on random Java pods: a latency blip and a warning."""
    rng = state.rng
    java = [s for s in state.services.values() if s.component.runtime == "java"]
    for _ in range(int(rng.integers(0, 3))):
        svc = java[int(rng.integers(0, len(java)))]
        slot, t = int(rng.integers(0, svc.pods)), int(rng.integers(0, state.minutes))
        pause = float(rng.uniform(0.4, 1.6))
        svc.extras["jvm_gc_pause_max_s"][slot, t] = pause
        svc.tail_ms[slot, t] += pause * 1000.0
        svc.cpu_extra[slot, t] += 25.0
        rate = np.zeros(state.minutes)
        rate[t] = 1.0
        text = f"Pause Full (G1 Compaction Pause) 1210M->402M(1536M) {pause * 1000:.3f}ms"
        state.add_stream(
            LogStream(
                svc.component.name,
                "WARN",
                app(svc.component, "WARN", _fixed(text)),
                rate,
                slot=slot,
                traced=False,
            )
        )


def _fixed(text: str) -> Callable[[Rng], str]:
    return lambda rng: text


def noisy_neighbour(state: CaseState) -> None:
    """Recommendations reloads its model every 15 minutes (CPU burst, a flood
    of INFO lines); settlement-batch runs every 30 minutes."""
    rng = state.rng
    minute_of_hour = ((state.ts // 60) % 60).astype(int)
    recs = state.services["recommendations"]
    refresh = (minute_of_hour % 15 < 2).astype(float)
    recs.cpu_extra += 28.0 * refresh[None, :] * rng.uniform(0.8, 1.2, (recs.pods, 1))
    recs.self_mult *= 1.0 + 0.5 * refresh[None, :]
    state.add_stream(
        LogStream(
            "recommendations",
            "INFO",
            app(
                recs.component,
                "INFO",
                lambda r: (
                    f"loading embeddings shard {r.integers(1, 65)}/64"
                    f" ({r.integers(40, 90)} MB) from s3://sakuramart-ml/als-2026w19/"
                ),
            ),
            45.0 * refresh,
            traced=False,
        )
    )
    batch = state.services["settlement-batch"]
    runs = (minute_of_hour % 30 < 3).astype(float)
    batch.cpu_extra += 45.0 * runs[None, :]
    state.add_stream(
        LogStream(
            "settlement-batch",
            "INFO",
            app(
                batch.component,
                "INFO",
                lambda r: (
                    f"Processing chunk {r.integers(1, 200)}:"
                    f" {r.integers(400, 500)} rows (commit interval 500)"
                ),
            ),
            20.0 * runs,
            traced=False,
        )
    )


DECOY_SERVICES = (
    "web-frontend",
    "api-gateway",
    "auth",
    "cart",
    "checkout",
    "payment",
    "inventory",
    "search",
    "recommendations",
    "notifications",
    "settlement-batch",
)
CONFIG_DECOYS = (
    ("feature_flag", "flag 'new-ranking-model' rolled to 10%"),
    ("config", "log level of jp.sakuramart.* set to INFO"),
    ("scale", "HPA minReplicas 2 -> 3"),
)


def decoy_changes(
    state: CaseState, fault_minute: int, culprit: str, case_no: int, near: bool
) -> list[str]:
    """Benign deploys and config changes in the two hours around the fault;
    with `near`, one lands within 20 minutes before the onset."""
    rng = state.rng
    ids = []
    count = int(rng.integers(1, 4))
    others = [s for s in DECOY_SERVICES if s != culprit]
    # A service rolls out at most once per case (its versions chain).
    for i, index in enumerate(rng.permutation(len(others))[:count]):
        service = others[int(index)]
        offset = int(rng.integers(-20, -3)) if (near and i == 0) else int(rng.integers(-110, 10))
        minute = fault_minute + offset
        if rng.random() < 0.75:
            change = rollout(state, service, minute, case_no)
        else:
            kind, summary = CONFIG_DECOYS[int(rng.integers(0, len(CONFIG_DECOYS)))]
            change = rollout(
                state,
                service,
                minute,
                case_no,
                kind=kind,
                summary=summary,
                actor=pick(rng, ("k.goto", "s.ota", "m.aoki", "r.fujita")),
            )
        ids.append(change.id)
    return ids
