"""Security incidents, planted as the logs an attacker would leave:
credential stuffing on login, a leaked access key used from abroad, bulk
exfiltration from object storage, and SQL injection / path traversal scans."""

from __future__ import annotations

import numpy as np

from evals.simulator import formats
from evals.simulator.estate import AUDIT_SERVICE, Journey, _c
from evals.simulator.faults.base import AlertPlan, FaultContext, Outcome, error_pct
from evals.simulator.state import LineContext, LogStream, Rng
from evals.simulator.vocab import app, hexid, pick, private_ip

# Hosting and proxy ranges attackers rent; generated, never looked up.
BOT_PREFIXES = (
    "45.155.205",
    "185.220.101",
    "193.142.146",
    "103.251.167",
    "91.240.118",
    "5.188.206",
    "146.70.124",
    "198.54.131",
    "31.14.40",
    "2.58.56",
)
BOT_AGENTS = (
    "python-requests/2.31.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    " AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
    "okhttp/4.12.0",
)
SIEM = ("generic",)


def _bot_ip(rng: Rng, pool: int = 400) -> str:
    prefix = BOT_PREFIXES[int(rng.integers(0, len(BOT_PREFIXES)))]
    return f"{prefix}.{rng.integers(1, min(pool, 254))}"


def credential_stuffing(ctx: FaultContext) -> Outcome:
    """Leaked username/password pairs replayed against login from hundreds of
    proxy IPs: failed logins burst, bcrypt burns auth's CPU, a few succeed."""
    state = ctx.state
    rps = float(ctx.rng.uniform(25, 60))
    on = ctx.ramp(2.0)
    attack = _c(
        "api-gateway",
        "POST /api/v1/auth/login",
        _c("auth", "POST /v1/login", _c("cache", "GET"), _c("orders-db", "SELECT users")),
    )
    state.add_journey(Journey("credential-stuffing", attack), rps * on)
    auth = state.services["auth"]
    auth.cpu_extra += 0.9 * rps / auth.pods * on[None, :]
    failed = app(
        auth.component,
        "WARN",
        lambda rng: (
            f"login failed user={hexid(rng, 12)}"
            f"@{pick(rng, ('gmail.com', 'yahoo.co.jp', 'docomo.ne.jp', 'icloud.com'))}"
            f' reason=invalid_password ip={_bot_ip(rng)} ua="{pick(rng, BOT_AGENTS)}"'
        ),
    )
    state.add_stream(LogStream("auth", "WARN", failed, np.minimum(rps * 60 / 25, 120) * on))
    taken = app(
        auth.component,
        "INFO",
        lambda rng: (
            f"login ok user_id={rng.integers(10**6, 10**7)}"
            f" mfa=false ip={_bot_ip(rng)} new_device=true"
        ),
    )
    state.add_stream(LogStream("auth", "INFO", taken, 0.6 * on))
    state.add_stream(
        LogStream(
            "api-gateway",
            "WARN",
            lambda rng, line: formats.envoy(
                line.ts,
                _bot_ip(rng),
                "POST",
                "/api/v1/auth/login",
                401,
                61,
                pick(rng, BOT_AGENTS),
                int(rng.integers(180, 420)),
                line.trace_id,
                private_ip(rng) + ":8080",
            ),
            np.minimum(rps * 60 / 40, 90) * on,
        )
    )
    ratio = _login_failures(rps, on)
    plan = AlertPlan(
        name="SuspiciousLoginBurst",
        service="auth",
        summary="failed logins from hundreds of distinct IPs against many accounts in 5 minutes",
        series=lambda s: ratio,
        threshold=30.0,
        metric="login_failures_per_s",
        sources=("generic", "alertmanager"),
    )
    return Outcome(
        f"credential stuffing against POST /api/v1/auth/login: ~{rps:.0f} attempts/s from"
        " rotating proxy IPs, a few accounts taken over",
        alerts=[plan],
    )


def _login_failures(rps: float, on: np.ndarray) -> np.ndarray:
    return rps * 0.97 * on + 0.4


LEAKED_KEY = "AKIA4QZ7EXAMPLE7Q3LM"
RECON = (
    ("GetCallerIdentity", "sts.amazonaws.com", None),
    ("ListBuckets", "s3.amazonaws.com", None),
    ("ListUsers", "iam.amazonaws.com", None),
    ("DescribeInstances", "ec2.amazonaws.com", None),
    ("GetSecretValue", "secretsmanager.amazonaws.com", "AccessDenied"),
    ("CreateAccessKey", "iam.amazonaws.com", None),
    ("RunInstances", "ec2.amazonaws.com", "Client.UnauthorizedOperation"),
    ("ListAttachedUserPolicies", "iam.amazonaws.com", None),
)
REGIONS = ("us-east-1", "us-east-2", "eu-west-1", "ap-southeast-1", "ap-northeast-1")


def leaked_key(ctx: FaultContext) -> Outcome:
    """A CI user's long-lived access key, leaked in a public repository, used
    from a country the company has never worked from: enumeration, an attempt
    at persistence (a new access key), denied attempts to start instances."""
    state = ctx.state
    on = ctx.ramp(1.0)
    ip = f"{pick(ctx.rng, ('185.220.101', '5.188.206', '91.240.118'))}.{ctx.rng.integers(2, 250)}"
    identity = {
        "type": "IAMUser",
        "principalId": "AIDA4QZ7EXAMPLEJ2KW9T",
        "arn": "arn:aws:iam::123456789012:user/ci-legacy-deployer",
        "accountId": "123456789012",
        "accessKeyId": LEAKED_KEY,
        "userName": "ci-legacy-deployer",
    }

    def event(rng: Rng, line: LineContext) -> str:
        name, source, error = RECON[int(rng.integers(0, len(RECON)))]
        return formats.cloudtrail(
            line.ts,
            name,
            source,
            identity,
            ip,
            "aws-cli/2.15.40 Python/3.11.8 Linux/6.5.0 exe/x86_64",
            pick(rng, REGIONS),
            hexid(rng, 32),
            error_code=error,
        )

    rate = float(ctx.rng.uniform(15, 40))
    state.add_stream(LogStream(AUDIT_SERVICE, "", event, rate * on, traced=False))
    state.services[AUDIT_SERVICE].extras["api_calls_per_min"] += rate * on
    plan = AlertPlan(
        name="UnusualAPIActivityFromNewCountry",
        service=AUDIT_SERVICE,
        summary=f"access key {LEAKED_KEY[:8]}... of ci-legacy-deployer used from an address"
        " in a country never seen for this account (anomalous IAM enumeration)",
        series=lambda s: s.services[AUDIT_SERVICE].extras["api_calls_per_min"],
        threshold=175.0,
        metric="api_calls_per_min",
        namespace="CloudTrailMetrics",
        dimensions={},
        sources=("generic", "cloudwatch"),
    )
    return Outcome(
        f"leaked access key {LEAKED_KEY} (user ci-legacy-deployer) used from {ip}:"
        " enumeration, CreateAccessKey, denied RunInstances",
        instance=None,
        alerts=[plan],
    )


def exfiltration(ctx: FaultContext) -> Outcome:
    """One principal downloads the customer-export bucket as fast as it can."""
    state = ctx.state
    svc = ctx.svc
    on = ctx.ramp(2.0)
    rps = float(ctx.rng.uniform(40, 120))
    svc.extra_rps += rps * on
    svc.knobs["attack_bytes_per_s"] = 24_000_000.0 * rps * on
    ip = f"{pick(ctx.rng, BOT_PREFIXES)}.{ctx.rng.integers(2, 250)}"
    principal = "arn:aws:sts::123456789012:assumed-role/analytics-export/export-job-7731"

    def line(rng: Rng, ctx_line: LineContext) -> str:
        key = f"exports/customers/2026/part-{rng.integers(0, 9999):05d}.csv.gz"
        return formats.s3_access(
            ctx_line.ts,
            "sakuramart-exports",
            ip,
            principal,
            hexid(rng, 16).upper(),
            "REST.GET.OBJECT",
            key,
            200,
            "-",
            int(rng.integers(8_000_000, 48_000_000)),
            int(rng.integers(300, 2000)),
            "aws-cli/2.15.40",
        )

    state.add_stream(LogStream("object-storage", "", line, rps * 60 / 400 * on, traced=False))
    plan = AlertPlan(
        name="S3BytesDownloadedAnomaly",
        service="object-storage",
        summary="BytesDownloaded on sakuramart-exports far above its anomaly band",
        series=lambda s: s.services["object-storage"].extras["bytes_downloaded_per_s"] / 1e6,
        threshold=200.0,
        metric="BytesDownloaded",
        namespace="AWS/S3",
        dimensions={"BucketName": "sakuramart-exports", "FilterId": "EntireBucket"},
        sources=("cloudwatch", "generic"),
    )
    return Outcome(
        f"data exfiltration: {principal} pulled the customer exports from {ip}"
        f" (~{rps:.0f} GetObject/s)",
        alerts=[plan],
    )


SQLI = (
    "/search?q=1%27%20OR%20%271%27%3D%271",
    "/search?q=shoes%27%20UNION%20SELECT%20email%2Cpassword_hash%20FROM%20users--",
    "/api/v1/products/1%20AND%20SLEEP(5)",
    "/search?q=%27%3B%20DROP%20TABLE%20orders%3B--",
)
TRAVERSAL = (
    "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/api/v1/products/..%252f..%252f..%252fetc%252fshadow",
    "/images/....//....//....//etc/passwd",
    "/.env",
    "/.git/config",
)
INJECTED = ("1 OR 1=1", "shoes UNION SELECT email", "; DROP TABLE orders;--")
SCANNERS = {
    "sqlmap": "sqlmap/1.8.4#stable (https://sqlmap.org)",
    "Nikto": "Mozilla/5.00 (Nikto/2.5.0)",
}


def web_attack(ctx: FaultContext) -> Outcome:
    """An automated scanner throws SQL injection and path traversal at the
    edge from a handful of addresses; most get 4xx, a few quotes make search
    fail with 500s."""
    state = ctx.state
    on = ctx.ramp(1.0)
    rps = float(ctx.rng.uniform(8, 25))
    ips = [f"{pick(ctx.rng, BOT_PREFIXES)}.{ctx.rng.integers(2, 250)}" for _ in range(3)]
    scanner = pick(ctx.rng, sorted(SCANNERS))
    agent = SCANNERS[scanner]
    svc = ctx.svc
    svc.extra_rps += rps * on
    runtime = svc.component.runtime

    def access(rng: Rng, line: LineContext) -> str:
        path = pick(rng, SQLI) if rng.random() < 0.55 else pick(rng, TRAVERSAL)
        status = int(pick(rng, ("403", "404", "400", "404", "500")))
        if runtime == "nginx":
            return formats.nginx(
                line.ts,
                pick(rng, ips),
                "GET",
                path,
                status,
                162,
                agent,
                float(rng.uniform(0.001, 0.08)),
                line.trace_id,
            )
        return formats.envoy(
            line.ts,
            pick(rng, ips),
            "GET",
            path,
            status,
            162,
            agent,
            int(rng.integers(1, 80)),
            line.trace_id,
            private_ip(rng) + ":8080",
        )

    state.add_stream(LogStream(ctx.culprit, "WARN", access, rps * 60 / 30 * on))
    search = state.services["search"]
    search.own_err += 0.01 * on[None, :]
    state.add_stream(
        LogStream(
            "search",
            "ERROR",
            app(
                search.component,
                "ERROR",
                lambda rng: f"query parse failed: Failed to parse query [{pick(rng, INJECTED)}]",
            ),
            2.0 * on,
        )
    )
    plan = AlertPlan(
        name="WebAttackSignaturesDetected",
        service=ctx.culprit,
        summary=f"{ctx.culprit}: SQL injection and path traversal patterns from 3 addresses",
        series=lambda s: rps * on * 10.0,
        threshold=50.0,
        metric="waf_signature_matches",
        sources=("generic", "alertmanager", "datadog"),
    )
    symptom = AlertPlan(
        name=f"HighHTTP4xxRate{''.join(p.capitalize() for p in ctx.culprit.split('-'))}",
        service=ctx.culprit,
        summary=f"{ctx.culprit}: 4xx responses above 10% of requests",
        series=error_pct(ctx.culprit),
        threshold=-1.0,
        metric="http_4xx_rate_pct",
        severity="warning",
        weight=0.5,
    )
    return Outcome(
        f"web attack on {ctx.culprit}: {scanner} scanning with SQL injection and"
        f" path traversal from {', '.join(ips)}",
        alerts=[plan, symptom],
    )
