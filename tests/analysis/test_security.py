"""Security detectors on hand-made log lines: failed-login bursts, web attacks,
unusual audit events and bulk reads, each against the internet's usual background.

The window is an hour; the reference ends a quarter of an hour before the onset
(`reference_end`), so "recent" is the last twenty minutes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
import pytest

from tools.analysis import security
from tools.analysis.security import (
    Line,
    SecurityFinding,
    attack_signature,
    audit_event,
    audit_findings,
    auth_failure_bursts,
    exfiltration,
    is_auth_failure,
    is_public,
    network_of,
    object_read,
    public_ips,
    reference_end,
    web_attacks,
)
from tools.analysis.split import Split

ALERT = 1_800_000_000.0
SPLIT = Split.around(alert_s=ALERT, now_s=ALERT + 180.0)
REF_END = reference_end(SPLIT)
ATTACK_START = ALERT - 300.0


def every(step_s: float, start: float = SPLIT.start_s, end: float = SPLIT.now_s) -> list[float]:
    return [float(t) for t in np.arange(start, end, step_s)]


def signals(findings: Iterable[SecurityFinding]) -> list[str]:
    return [f.signal for f in findings]


def only(findings: list[SecurityFinding], signal: str) -> list[SecurityFinding]:
    return [f for f in findings if f.signal == signal]


# -- lines ------------------------------------------------------------------------------


def failed_login(ts: float, n: int, ip: str | None = None, service: str = "auth") -> Line:
    ip = ip or f"185.220.{n // 250 % 250}.{n % 250 + 1}"
    message = f"login failed user=shopper{n}@example.com reason=invalid_password ip={ip}"
    return Line(ts, service, message)


def access(ts: float, path: str, status: int = 200, ip: str = "126.13.100.59") -> Line:
    """An nginx access line."""
    message = (
        f'{ip} - - [11/May/2026:03:01:52 +0000] "GET {path} HTTP/1.1" {status} 162'
        ' "-" "Mozilla/5.0"'
    )
    return Line(ts, "web-frontend", message)


def login_401(ts: float, n: int) -> Line:
    """An Envoy access line relaying auth's 401 on the login path."""
    message = (
        f'[2026-05-11T03:01:31.221Z] "POST /api/v1/auth/login HTTP/1.1" 401 - 61 0 210 209'
        f' "45.155.{n // 250 % 250}.{n % 250 + 1}" "python-requests/2.31.0" "b55751aec465"'
    )
    return Line(ts, "api-gateway", message)


def trail(
    ts: float,
    name: str,
    *,
    user: str = "ci-deployer",
    ip: str = "52.95.110.4",
    error: str | None = None,
    key: str = "AKIA4QZ7EXAMPLE7Q3LM",
) -> Line:
    """A CloudTrail event of an IAM user."""
    record: dict[str, object] = {
        "eventTime": "2026-05-11T03:00:00Z",
        "eventName": name,
        "eventSource": "iam.amazonaws.com",
        "sourceIPAddress": ip,
        "userIdentity": {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::123456789012:user/{user}",
            "accessKeyId": key,
            "userName": user,
        },
    }
    if error:
        record["errorCode"] = error
    return Line(ts, "aws-account", json.dumps(record))


def s3_get(
    ts: float,
    size: int,
    requester: str = "arn:aws:sts::123456789012:assumed-role/analytics/job-1",
    status: int = 200,
    bucket: str = "sakuramart-exports",
) -> Line:
    """An S3 server access record of one GET."""
    message = (
        f"79a59df900b949e5 {bucket} [11/May/2026:03:01:52 +0000] 10.0.4.12 {requester}"
        f' 3E57427F3EXAMPLE REST.GET.OBJECT exports/part-00001.csv.gz "GET /{bucket}/exports'
        f' HTTP/1.1" {status} - {size} {size} 70 10 "-" "aws-sdk-java/2.25" -'
    )
    return Line(ts, "object-storage", message)


# -- addresses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "172.16.0.1", "172.31.255.1", "192.168.1.1", "127.0.0.1", "169.254.169.254",
     "100.64.0.1", "0.0.0.0", "224.0.0.251"],
)  # fmt: skip
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public(address)
    assert network_of(address) is None


def test_a_public_address_belongs_to_its_slash_16() -> None:
    assert is_public("172.32.0.1") and is_public("8.8.8.8")
    assert network_of("185.220.101.7") == "185.220.0.0/16"
    assert network_of(" 8.8.4.4 ") == "8.8.0.0/16"


def test_aws_services_and_malformed_addresses_have_no_network() -> None:
    assert network_of("ec2.amazonaws.com") is None
    assert network_of("AWS Internal") is None
    assert network_of("300.1.2.3") is None
    assert network_of("1.2.3") is None


def test_public_ips_skips_private_ones() -> None:
    message = "login failed ip=10.0.0.8 forwarded_for=185.220.101.7 via 192.168.0.1"
    assert public_ips(message) == ["185.220.101.7"]


# -- what a line says ------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "login failed user=bob@example.com reason=invalid_password",
        "Authentication failed for user bob",
        "Invalid password for account alice",
        "sign-in rejected: wrong credentials",
        '1.2.3.4 - - [x] "POST /api/v1/auth/login HTTP/1.1" 401 61 "-" "curl"',
        '1.2.3.4 - - [x] "POST /oauth/token HTTP/2.0" 401 61 "-" "curl"',
    ],
)
def test_failed_logins_are_recognised(message: str) -> None:
    assert is_auth_failure(message)


@pytest.mark.parametrize(
    "message",
    [
        "login ok user_id=4116429 mfa=false",
        "password reset e-mail sent to user 42",
        '1.2.3.4 - - [x] "POST /api/v1/auth/login HTTP/1.1" 200 61 "-" "curl"',
        '1.2.3.4 - - [x] "GET /api/v1/orders/7 HTTP/1.1" 401 61 "-" "curl"',
        # An access line is judged by its status, not by words in its path.
        '1.2.3.4 - - [x] "GET /help/login-failed HTTP/1.1" 200 61 "-" "curl"',
    ],
)
def test_successes_and_other_401s_are_not_failed_logins(message: str) -> None:
    assert not is_auth_failure(message)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/products?id=1%27%20OR%20%271%27%3D%271", "sql-injection"),
        ("/search?q=1+UNION+ALL+SELECT+password,email+FROM+users--", "sql-injection"),
        ("/search?q=1%27;WAITFOR+DELAY+%270:0:5%27--", "sql-injection"),
        ("/static/..%2f..%2f..%2fetc%2fpasswd", "path-traversal"),
        ("/static/%252e%252e%252f%252e%252e%252fetc%252fpasswd", "path-traversal"),
        ("/.env", "path-traversal"),
        ("/.git/config", "path-traversal"),
        ("/search?q=%3Cscript%3Ealert(1)%3C/script%3E", "xss"),
    ],
)
def test_attack_signatures_in_request_paths(path: str, kind: str) -> None:
    assert attack_signature(access(0.0, path, status=404).message) == kind


def test_a_scanner_is_known_by_its_user_agent() -> None:
    line = '1.2.3.4 - - [x] "GET /admin/ HTTP/1.1" 404 162 "-" "Mozilla/5.00 (Nikto/2.1.6)"'
    assert attack_signature(line) == "scanner"


@pytest.mark.parametrize(
    "path",
    ["/products/615473", "/search?q=rice+cooker&page=2", "/api/v1/cart?item=42&qty=1",
     "/environment/settings", "/blog/2026/05/order-history"],
)  # fmt: skip
def test_ordinary_requests_carry_no_signature(path: str) -> None:
    assert attack_signature(access(0.0, path).message) is None


def test_attack_text_outside_an_access_line_is_not_a_web_attack() -> None:
    assert attack_signature("ERROR parse failed for ' OR 1=1 -- in ../../etc/passwd") is None


def test_audit_event_reads_who_from_where() -> None:
    event = audit_event(trail(5.0, "ListUsers", ip="185.220.101.7", error="AccessDenied"))
    assert event is not None
    assert event.principal == "user/ci-deployer"
    assert event.name == "ListUsers"
    assert event.network == "185.220.0.0/16"
    assert event.denied
    assert event.key == "AKIA4QZ7EXAMPLE7Q3LM"


def test_an_assumed_role_is_the_role_whoever_assumed_it() -> None:
    record = {
        "eventName": "GetObject",
        "sourceIPAddress": "ec2.amazonaws.com",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/deployer/session-42",
            "sessionContext": {"sessionIssuer": {"userName": "deployer"}},
        },
    }
    event = audit_event(Line(0.0, "aws-account", json.dumps(record)))
    assert event is not None
    assert event.principal == "role/deployer"
    assert event.network is None and not event.denied
    by_arn = {**record, "userIdentity": {"arn": record["userIdentity"]["arn"]}}  # type: ignore[index]
    again = audit_event(Line(0.0, "aws-account", json.dumps(by_arn)))
    assert again is not None and again.principal == "role/deployer"


@pytest.mark.parametrize(
    "message",
    ['{"eventName": ', '["eventName"]', '{"eventName": 7}', "eventName=ListUsers"],
)
def test_lines_that_are_not_audit_events_are_skipped(message: str) -> None:
    assert audit_event(Line(0.0, "aws-account", message)) is None


def test_object_read_takes_successful_gets_only() -> None:
    read = object_read(s3_get(0.0, 2_000_000))
    assert read is not None
    assert read.requester == "role/analytics" and read.bucket == "sakuramart-exports"
    assert read.bytes == 2_000_000.0
    assert object_read(s3_get(0.0, 2_000_000, status=403)) is None
    put = s3_get(0.0, 10).message.replace("REST.GET.OBJECT", "REST.PUT.OBJECT")
    assert object_read(Line(0.0, "object-storage", put)) is None


# -- failed-login bursts -----------------------------------------------------------------


def background_failures(per_min: int = 10) -> list[Line]:
    """A big shop's steady trickle of mistyped passwords, from many customers."""
    times = every(60.0 / per_min)
    return [
        failed_login(t, n, ip=f"126.{n % 200}.{n % 97}.{n % 251 + 1}") for n, t in enumerate(times)
    ]


def stuffing(start: float = ATTACK_START, per_min: int = 60, ips: int = 300) -> list[Line]:
    """Leaked pairs replayed from rotating proxies: every attempt a new account."""
    times = every(60.0 / per_min, start=start)
    return [
        failed_login(t, 10_000 + n, ip=f"45.155.205.{n % ips + 1}") for n, t in enumerate(times)
    ]


def test_steady_background_failures_are_not_an_attack() -> None:
    assert auth_failure_bursts(background_failures(), SPLIT) == []


def test_credential_stuffing_stands_out_from_the_background() -> None:
    lines = sorted([*background_failures(), *stuffing()], key=lambda ln: ln.ts)
    (finding,) = auth_failure_bursts(lines, SPLIT)
    assert finding.service == "auth" and finding.signal == "security_auth_failures"
    assert finding.current >= 180 + 29  # 60 a minute for 3 minutes, over the background
    assert finding.expected == pytest.approx(30.0, abs=1.0)
    assert finding.z >= security.MIN_Z and 0.5 < finding.strength <= 1.0
    assert ATTACK_START - security.PEAK_S <= finding.since_s <= ATTACK_START + 60.0
    assert "credential stuffing" in finding.summary
    assert finding.examples and all("login failed" in e for e in finding.examples)


def test_one_client_retrying_a_stale_password_is_not_credential_stuffing() -> None:
    same = "login failed user=alice@example.com reason=invalid_password ip=126.10.20.30"
    retries = [Line(t, "auth", same) for t in every(2.0, start=ATTACK_START)]
    lines = [*background_failures(per_min=2), *retries]
    assert auth_failure_bursts(lines, SPLIT) == []
    assert auth_failure_bursts([*lines, *stuffing()], SPLIT), "the same burst from many is"


def test_a_burst_below_the_minimum_is_not_reported() -> None:
    few = stuffing(start=SPLIT.now_s - 60.0, per_min=15)
    assert len(few) < security.MIN_BURST
    assert auth_failure_bursts(few, SPLIT) == []


def test_a_proxy_relaying_401s_counts_less_than_the_service_saying_why() -> None:
    times = every(1.0, start=ATTACK_START)
    direct = auth_failure_bursts([failed_login(t, n) for n, t in enumerate(times)], SPLIT)
    relayed = auth_failure_bursts([login_401(t, n) for n, t in enumerate(times)], SPLIT)
    assert [f.service for f in direct] == ["auth"]
    assert [f.service for f in relayed] == ["api-gateway"]
    assert direct[0].current == relayed[0].current
    assert relayed[0].strength == pytest.approx(security.RELAYED * direct[0].strength)


def test_a_rush_of_customers_brings_its_usual_share_of_failures() -> None:
    """Ten times the customers, ten times the mistyped passwords: not an attack
    once the failures are judged as a share of the service's lines."""
    quiet = [failed_login(t, n) for n, t in enumerate(every(30.0, end=ATTACK_START))]
    rush = [failed_login(t, 5_000 + n) for n, t in enumerate(every(3.0, start=ATTACK_START))]
    lines = [*quiet, *rush]
    starts = np.array(every(60.0))
    counts = np.where(starts < ATTACK_START, 100.0, 1_000.0)
    assert only(auth_failure_bursts(lines, SPLIT), "security_auth_failures")
    assert auth_failure_bursts(lines, SPLIT, volume={"auth": (starts, counts)}) == []


def test_an_attack_is_still_found_when_judged_by_share() -> None:
    lines = [*background_failures(per_min=2), *stuffing()]
    starts = np.array(every(60.0))
    counts = np.full(starts.shape, 100.0)
    (finding,) = auth_failure_bursts(lines, SPLIT, volume={"auth": (starts, counts)})
    assert finding.expected == pytest.approx(6.0, rel=0.1)


def test_the_reference_starts_where_the_store_coverage_does() -> None:
    """A burst as big as the attack early in the hour makes the attack routine,
    unless the store's limit cut the lines before it (`first_s`)."""
    early = [ln for ln in stuffing(start=SPLIT.start_s + 300.0) if ln.ts < SPLIT.start_s + 600.0]
    lines = [*background_failures(), *early, *stuffing(start=SPLIT.now_s - 240.0)]
    assert auth_failure_bursts(lines, SPLIT) == []
    covered = auth_failure_bursts(lines, SPLIT, first_s=SPLIT.start_s + 900.0)
    assert [f.service for f in covered] == ["auth"]


# -- web attacks -----------------------------------------------------------------------


def sqlmap(start: float = ATTACK_START, per_min: int = 30) -> list[Line]:
    ips = ("185.220.101.19", "103.251.167.213", "31.14.40.11")
    return [
        access(t, f"/search?q=1%27+AND+{n}%3D{n}--", 500 if n % 7 == 0 else 200, ips[n % 3])
        for n, t in enumerate(every(60.0 / per_min, start=start))
    ]


def probes() -> list[Line]:
    """The internet's background: a probe for /.env every ten minutes, all hour."""
    return [access(t, "/.env", 404, ip="45.155.205.7") for t in every(600.0)]


def ordinary_traffic() -> list[Line]:
    return [access(t, f"/products/{int(t) % 1000}") for t in every(5.0)]


def test_background_probes_and_ordinary_traffic_are_not_an_attack() -> None:
    assert web_attacks([*ordinary_traffic(), *probes()], SPLIT) == []


def test_an_sql_injection_scan_is_a_web_attack() -> None:
    lines = sorted([*ordinary_traffic(), *probes(), *sqlmap()], key=lambda ln: ln.ts)
    (finding,) = web_attacks(lines, SPLIT)
    assert finding.service == "web-frontend" and finding.signal == "security_web_attack"
    assert finding.current >= 90 and finding.z >= security.MIN_Z
    assert "sql-injection" in finding.summary and "from 3 addresses" in finding.summary
    assert finding.subject == "103.251.167.213, 185.220.101.19, 31.14.40.11"
    assert all(attack_signature(e) == "sql-injection" for e in finding.examples)


def test_a_scan_the_reference_already_had_is_routine() -> None:
    """A weekly scanner that also ran in the reference hour is not news."""
    scans = sqlmap(start=SPLIT.start_s + 600.0)
    lines = [ln for ln in scans if ln.ts < SPLIT.start_s + 900.0 or ln.ts >= ATTACK_START]
    assert web_attacks(lines, SPLIT) == []
    assert web_attacks([ln for ln in lines if ln.ts >= REF_END], SPLIT), "news without it"


def test_a_handful_of_attack_requests_is_a_probe_not_a_scan() -> None:
    few = sqlmap(start=SPLIT.now_s - 60.0, per_min=10)
    assert 0 < len(few) < security.MIN_BURST
    assert web_attacks(few, SPLIT) == []


# -- audit events ------------------------------------------------------------------------


def routine_automation() -> list[Line]:
    """CI deploys from its usual AWS address every five minutes; a job reads secrets."""
    lines = [trail(t, "DescribeInstances") for t in every(300.0)]
    lines += [trail(t, "GetSecretValue", user="app-runtime", ip="10.0.3.4") for t in every(600.0)]
    return lines


def from_abroad(n: int, start: float = ATTACK_START, name: str = "ListUsers") -> list[Line]:
    return [trail(start + 20.0 * i, name, ip=f"185.220.101.{i + 2}") for i in range(n)]


def test_routine_automation_raises_nothing() -> None:
    assert audit_findings(routine_automation(), SPLIT) == []


def test_a_known_principal_acting_from_a_new_network_is_reported() -> None:
    findings = audit_findings([*routine_automation(), *from_abroad(6)], SPLIT)
    (finding,) = only(findings, "security_new_network")
    assert finding.service == "aws-account" and finding.subject == "user/ci-deployer"
    assert "185.220.0.0/16" in finding.summary
    assert "AKIA4QZ7..." in finding.summary and "AKIA4QZ7EXAMPLE7Q3LM" not in finding.summary
    assert finding.current == 6.0 and finding.since_s == ATTACK_START
    assert finding.strength == pytest.approx(6 / (6 + security.NOVEL_KNEE))


def test_a_few_calls_from_a_new_network_are_not_enough() -> None:
    findings = audit_findings([*routine_automation(), *from_abroad(security.MIN_NOVEL - 1)], SPLIT)
    assert only(findings, "security_new_network") == []


def test_private_addresses_and_aws_services_are_not_new_networks() -> None:
    inside = [trail(ATTACK_START + i, "DescribeInstances", ip=f"10.9.{i}.1") for i in range(8)]
    inside += [
        trail(ATTACK_START + i, "DescribeInstances", ip="cloudformation.amazonaws.com")
        for i in range(8)
    ]
    findings = audit_findings([*routine_automation(), *inside], SPLIT)
    assert only(findings, "security_new_network") == []


def test_a_new_principal_is_judged_against_every_network_the_account_used() -> None:
    usual = [trail(ATTACK_START + i, "DescribeInstances", user="new-ci") for i in range(8)]
    assert audit_findings([*routine_automation(), *usual], SPLIT) == []
    foreign = [
        trail(ATTACK_START + i, "DescribeInstances", user="new-ci", ip="91.240.118.7")
        for i in range(8)
    ]
    findings = audit_findings([*routine_automation(), *foreign], SPLIT)
    (finding,) = only(findings, "security_new_network")
    assert finding.subject == "user/new-ci"
    assert "a principal not seen in the baseline" in finding.summary
    assert finding.strength == pytest.approx(8 / (8 + security.NOVEL_KNEE) * security.NEW_PRINCIPAL)


def test_without_a_baseline_nothing_is_new() -> None:
    recent_only = [ln for ln in from_abroad(8) if ln.ts >= REF_END]
    assert only(audit_findings(recent_only, SPLIT), "security_new_network") == []
    assert only(audit_findings(recent_only, SPLIT), "security_rare_api") == []


def test_a_sensitive_call_never_made_before_is_reported_alone() -> None:
    lines = [*routine_automation(), trail(ATTACK_START, "CreateAccessKey")]
    (finding,) = audit_findings(lines, SPLIT)
    assert finding.signal == "security_rare_api" and finding.subject == "user/ci-deployer"
    assert "sensitive: CreateAccessKey" in finding.summary
    assert finding.z == 3.0 and finding.strength == pytest.approx(0.5)
    assert finding.since_s == ATTACK_START


def test_ordinary_calls_count_only_when_several_are_new() -> None:
    two = [trail(ATTACK_START + i, name) for i, name in enumerate(["ListBuckets", "ListUsers"])]
    assert audit_findings([*routine_automation(), *two], SPLIT) == []
    three = [*two, trail(ATTACK_START + 5, "ListRoles")]
    (finding,) = audit_findings([*routine_automation(), *three], SPLIT)
    assert finding.signal == "security_rare_api" and finding.current == 3.0
    assert "sensitive" not in finding.summary


def test_calls_a_principal_already_made_are_not_rare() -> None:
    lines = [*routine_automation(), trail(REF_END - 1200.0, "CreateAccessKey")]
    lines.append(trail(ATTACK_START, "CreateAccessKey"))
    assert only(audit_findings(lines, SPLIT), "security_rare_api") == []


def test_a_burst_of_denied_calls_is_reported() -> None:
    denied = [
        trail(ATTACK_START + 5.0 * i, "RunInstances", error="Client.UnauthorizedOperation")
        for i in range(24)
    ]
    findings = audit_findings([*routine_automation(), *denied], SPLIT)
    (finding,) = only(findings, "security_denied_api")
    assert finding.subject == "user/ci-deployer" and finding.current >= security.MIN_DENIED
    assert "RunInstances" in finding.summary


def test_the_usual_trickle_of_denied_calls_is_not() -> None:
    trickle = [trail(t, "GetBucketPolicy", error="AccessDenied") for t in every(240.0)]
    findings = audit_findings([*routine_automation(), *trickle], SPLIT)
    assert only(findings, "security_denied_api") == []


# -- bulk reads ----------------------------------------------------------------------------


def analytics_reads(size: int = 50_000) -> list[Line]:
    return [s3_get(t, size) for t in every(60.0)]


ATTACKER = "arn:aws:sts::123456789012:assumed-role/analytics-export/export-job-7731"


def test_one_principal_pulling_the_bucket_is_exfiltration() -> None:
    pull = [s3_get(t, 24_000_000, requester=ATTACKER) for t in every(2.0, start=ATTACK_START)]
    (finding,) = exfiltration([*analytics_reads(), *pull], SPLIT)
    assert finding.signal == "security_exfiltration" and finding.service == "object-storage"
    assert finding.subject == "role/analytics-export"
    assert finding.current == pytest.approx(90 * 24e6)
    assert finding.expected == security.MIN_BYTES
    assert "sakuramart-exports" in finding.summary and "2.2 GB" in finding.summary
    assert finding.strength == 1.0


def test_steady_reads_however_large_are_not_exfiltration() -> None:
    assert exfiltration(analytics_reads(size=40_000_000), SPLIT) == []


def test_small_reads_by_a_new_principal_are_not_exfiltration() -> None:
    nosy = [s3_get(t, 10_000, requester=ATTACKER) for t in every(2.0, start=ATTACK_START)]
    assert exfiltration([*analytics_reads(), *nosy], SPLIT) == []


def test_refused_reads_move_no_bytes() -> None:
    refused = [
        s3_get(t, 24_000_000, requester=ATTACKER, status=403)
        for t in every(2.0, start=ATTACK_START)
    ]
    assert exfiltration([*analytics_reads(), *refused], SPLIT) == []


def test_a_pull_smaller_than_what_the_store_usually_serves_is_not_exfiltration() -> None:
    """A busy store serving 100 MB a minute: a new reader taking 20 MB in 3 minutes is normal."""
    busy = [s3_get(t, 100_000_000) for t in every(60.0)]
    reader = [s3_get(t, 1_000_000, requester=ATTACKER) for t in every(9.0, start=ATTACK_START)]
    assert exfiltration([*busy, *reader], SPLIT) == []


def test_a_browser_version_is_not_an_address() -> None:
    agent = 'ip=203.0.113.9 ua="Mozilla/5.0 Chrome/118.0.0.0 Safari/537.36"'
    assert public_ips(agent) == ["203.0.113.9"]
