"""Security signals in log lines: what an attacker leaves behind, against a baseline.

Five detectors, each a property of the lines themselves, never of a system:

* **Auth-failure bursts** (credential stuffing, password spraying): failed
  logins (an application line saying a login or password check failed, or an
  access line answering 401 on a login-like path) far above their usual rate,
  from many source addresses or against many accounts at once. One user
  mistyping a password, or a steady trickle of expired sessions, is not one.
* **Access from a new network** (audit events such as CloudTrail): a
  principal acting from a network (IPv4 /16, the nearest stand-in for an ASN
  or country without a geo database) that neither it nor, for a principal
  never seen before, anyone in the account used in the baseline.
* **Unusual API calls** (audit events): event names a principal never used in
  the baseline, sensitive ones (new access keys, policy changes, logging
  turned off) counting double; and bursts of denied calls.
* **Exfiltration** (object-storage access records): one principal reading far
  more bytes than the whole store served before.
* **Web attacks** (access lines): SQL injection, path traversal and scanner
  signatures in requests, far above the internet's usual background of
  probes.

Every detector compares the recent part of the window (from a quarter of an
hour before the onset, since an attack often runs for minutes before anything
alerts) with the reference part before it. Rates are judged at their peak
over a few minutes against the reference's own peak, so routine probes and
the odd scanner passing by are not news.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

import numpy as np

from tools.analysis.robust import poisson_z
from tools.analysis.split import Split

# The part of the window before the onset that may already belong to an attack.
RECENT_S = 900.0
# Rates are compared over this long a stretch at their peak.
PEAK_S = 180.0
STEP_S = 60.0
MIN_Z = 4.0
FULL_Z = 20.0
# A burst is at least this many lines in its peak stretch (a scan, not a probe).
MIN_BURST = 20
# Credential stuffing comes from many addresses, or tries many accounts.
MIN_SOURCES = 10
MIN_NOVEL = 5
NOVEL_KNEE = 10.0
MIN_DENIED = 10
RARE_KNEE = 3.0
# Exfiltration: one principal reads at least this many times what it (or a
# tenth of the whole store) used to, and more than the whole store served.
EXFIL_RATIO = 10.0
EXFIL_FLOOR_SHARE = 0.1
MIN_BYTES = 1e6

# -- what the store is asked for (RE2: no look-arounds) ----------------------------------

AUTH_QUERY = (
    r"(?i:(log.?in|sign.?in|authenticat|passw|credential).{0,60}"
    r"(fail|invalid|denied|incorrect|wrong|reject|mismatch)"
    r"|(fail|invalid|denied|incorrect|wrong|reject)\w*.{0,30}(log.?in|passw|credential)"
    r"|HTTP/[0-9.]+\" 401 )"
)
AUDIT_QUERY = r"\"eventName\"|REST\.GET\.OBJECT"
WEB_QUERY = (
    r"(?i:\"[A-Z]+ [^\" ]*(union|select|sleep|drop|%27|'|\.\.|%2e|/etc/|\.env|\.git|<script|%3c)"
    r"[^\" ]* HTTP/|(sqlmap|nikto|nmap|masscan|zgrab|acunetix|wpscan|nuclei|gobuster|dirbuster))"
)

# -- parsing ------------------------------------------------------------------------------

# Not a version string: "Chrome/118.0.0.0" names no address.
IPV4 = re.compile(r"(?<![\d./])((?:\d{1,3}\.){3}\d{1,3})(?![\d.])")
REQUEST = re.compile(
    r'"(GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|CONNECT|TRACE) (\S+) HTTP/[\d.]+"\s+(\d{3})\b'
)
AUTH_FAILURE = re.compile(
    r"(?i)\b(log[ _-]?in|sign[ _-]?in|authenticat\w*|passw\w*|credentials?)\b.{0,60}?"
    r"\b(fail\w*|invalid\w*|denied|incorrect|wrong|reject\w*|mismatch\w*)"
    r"|\b(fail\w*|invalid\w*|denied|incorrect|wrong|reject\w*)[ _-]?\w*.{0,30}?"
    r"\b(log[ _-]?in|passw\w*|credentials?)\b"
)
LOGIN_PATH = re.compile(r"(?i)(log[-_]?in|sign[-_]?in|auth|session|token|oauth|passw)")
USER = re.compile(r"(?i)\b(?:user(?:name)?|login|email|account)[=:]\s*\"?([^\s\",;]+)")
SQLI = re.compile(
    r"(?i)(union(\s|/\*.*?\*/)+(all\s+)?select|select\s.{1,80}\sfrom\s"
    r"|'\s*(or|and)\s+'?\w+'?\s*=\s*'?\w+|\b(or|and)\s+\d+\s*=\s*\d+"
    r"|sleep\s*\(\s*\d+\s*\)|benchmark\s*\(|waitfor\s+delay|drop\s+table|information_schema"
    r"|xp_cmdshell|load_file\s*\(|'\s*;|;\s*--)"
)
TRAVERSAL = re.compile(
    r"(?i)(\.\./|\.\.\\|/etc/(passwd|shadow|hosts)|/proc/self/|win\.ini|boot\.ini"
    r"|/\.env\b|/\.git/|/\.aws/|/\.ssh/)"
)
XSS = re.compile(r"(?i)(<script|javascript:|onerror\s*=|onload\s*=)")
SCANNER = re.compile(
    r"(?i)\b(sqlmap|nikto|nmap|masscan|zgrab|acunetix|wpscan|dirbuster|gobuster|nuclei|havij"
    r"|w3af|openvas)\b"
)
S3_ACCESS = re.compile(
    r"^\S+ (?P<bucket>\S+) \[[^\]]+\] (?P<ip>\S+) (?P<requester>\S+) \S+ (?P<op>\S+) \S+"
    r' "[^"]*" (?P<status>\d{3}|-) \S+ (?P<bytes>\d+|-) '
)
ASSUMED_ROLE = re.compile(r"^arn:aws:sts::\d*:assumed-role/([^/]+)/.*$")
IAM_ENTITY = re.compile(r"^arn:aws:iam::\d*:(user|role)/(.+)$")
DENIED = re.compile(r"(?i)(denied|unauthori[sz]ed|forbidden)")
# API calls that create access, change who may do what, or blind the defenders.
SENSITIVE_CALLS = frozenset(
    {
        "CreateAccessKey",
        "CreateUser",
        "CreateLoginProfile",
        "UpdateLoginProfile",
        "AttachUserPolicy",
        "AttachRolePolicy",
        "PutUserPolicy",
        "PutRolePolicy",
        "CreatePolicyVersion",
        "UpdateAssumeRolePolicy",
        "AddUserToGroup",
        "PutBucketPolicy",
        "PutBucketAcl",
        "DeleteBucketPolicy",
        "PutPublicAccessBlock",
        "DeletePublicAccessBlock",
        "GetSecretValue",
        "GetParametersByPath",
        "StopLogging",
        "DeleteTrail",
        "UpdateTrail",
        "DeleteFlowLogs",
        "DisableKey",
        "ScheduleKeyDeletion",
        "RunInstances",
        "CreateKeyPair",
        "ImportKeyPair",
        "AuthorizeSecurityGroupIngress",
        "ModifySnapshotAttribute",
        "ModifyImageAttribute",
        "ConsoleLogin",
    }
)


@dataclass(frozen=True, slots=True)
class Line:
    """The part of a log record the detectors read."""

    ts: float
    service: str
    message: str


@dataclass(frozen=True, slots=True)
class SecurityFinding:
    """One security signal on one service: how far above normal, and about whom."""

    service: str
    signal: str
    z: float
    strength: float
    current: float
    expected: float
    summary: str
    subject: str = ""
    since_s: float = 0.0
    examples: tuple[str, ...] = field(default_factory=tuple)
    summary_ja: str = ""


@dataclass(frozen=True, slots=True)
class Burst:
    """The peak count over PEAK_S in the recent part, against the reference."""

    peak: float
    expected: float
    z: float
    start_s: float

    def finding(
        self,
        service: str,
        signal: str,
        summary: str,
        *,
        summary_ja: str,
        subject: str,
        examples: tuple[str, ...] = (),
        weight: float = 1.0,
    ) -> SecurityFinding:
        """This burst as a finding on `service`, its strength scaled by `weight`."""
        return SecurityFinding(
            service=service,
            signal=signal,
            z=self.z,
            strength=strength_of(self.z) * weight,
            current=self.peak,
            expected=self.expected,
            summary=summary,
            subject=subject,
            since_s=self.start_s,
            examples=examples,
            summary_ja=summary_ja,
        )


def is_public(ip: str) -> bool:
    parts = [int(p) for p in ip.split(".")]
    if len(parts) != 4 or any(p > 255 for p in parts):
        return False
    a, b = parts[0], parts[1]
    private = (
        a in {0, 10, 127}
        or (a == 172 and 16 <= b <= 31)
        or (a == 192 and b == 168)
        or (a == 169 and b == 254)
        or (a == 100 and 64 <= b <= 127)
        or a >= 224
    )
    return not private


def network_of(address: str) -> str | None:
    """The /16 of a public IPv4 address (an ASN or country stand-in); None for
    private addresses and for AWS services acting on a principal's behalf."""
    match = IPV4.fullmatch(address.strip())
    if match is None or not is_public(match.group(1)):
        return None
    a, b, *_ = match.group(1).split(".")
    return f"{a}.{b}.0.0/16"


def public_ips(message: str) -> list[str]:
    return [ip for ip in IPV4.findall(message) if is_public(ip)]


def access_request(message: str) -> tuple[str, str, int] | None:
    """(method, path, status) of an access-log line, else None."""
    match = REQUEST.search(message)
    if match is None:
        return None
    return match.group(1), match.group(2), int(match.group(3))


def is_auth_failure(message: str) -> bool:
    """A failed login: a 401 on a login-like path, or an application line saying so."""
    request = access_request(message)
    if request is not None:
        return request[2] == 401 and bool(LOGIN_PATH.search(request[1]))
    return bool(AUTH_FAILURE.search(message))


def attack_signature(message: str) -> str | None:
    """The kind of attack an access line carries ('sql-injection', 'path-traversal',
    'xss', 'scanner'), else None. Paths are URL-decoded twice (double encoding)."""
    request = access_request(message)
    if request is None:
        return None
    path = unquote_plus(unquote_plus(request[1]))
    if SQLI.search(path):
        return "sql-injection"
    if TRAVERSAL.search(path):
        return "path-traversal"
    if XSS.search(path):
        return "xss"
    if SCANNER.search(message):
        return "scanner"
    return None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audit-trail event (CloudTrail's shape)."""

    ts: float
    service: str
    principal: str
    name: str
    network: str | None
    address: str
    denied: bool
    key: str = ""


def audit_event(line: Line) -> AuditEvent | None:
    """A CloudTrail-style JSON event, else None."""
    text = line.message.strip()
    if not text.startswith("{") or '"eventName"' not in text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("eventName"), str):
        return None
    identity = record.get("userIdentity") or {}
    address = str(record.get("sourceIPAddress") or "")
    error = str(record.get("errorCode") or "")
    return AuditEvent(
        ts=line.ts,
        service=line.service,
        principal=principal_of(identity if isinstance(identity, dict) else {}),
        name=record["eventName"],
        network=network_of(address),
        address=address,
        denied=bool(error and DENIED.search(error)),
        key=str(identity.get("accessKeyId") or "") if isinstance(identity, dict) else "",
    )


def principal_of(identity: dict[str, Any]) -> str:
    """Who acted, without the session: an assumed role is the role, whoever assumed it."""
    context = identity.get("sessionContext") or {}
    issuer = context.get("sessionIssuer") or {} if isinstance(context, dict) else {}
    if isinstance(issuer, dict) and issuer.get("userName"):
        return f"role/{issuer['userName']}"
    if identity.get("userName"):
        return f"user/{identity['userName']}"
    arn = str(identity.get("arn") or "")
    if arn:
        return requester_of(arn)
    principal = str(identity.get("principalId") or identity.get("type") or "unknown")
    return principal.split(":", maxsplit=1)[0]


def requester_of(arn: str) -> str:
    """An ARN reduced to the user or role behind it."""
    assumed = ASSUMED_ROLE.match(arn)
    if assumed:
        return f"role/{assumed.group(1)}"
    entity = IAM_ENTITY.match(arn)
    if entity:
        return f"{entity.group(1)}/{entity.group(2)}"
    return arn


@dataclass(frozen=True, slots=True)
class ObjectRead:
    ts: float
    service: str
    requester: str
    bucket: str
    address: str
    bytes: float


def object_read(line: Line) -> ObjectRead | None:
    """A successful GET in an S3-style server access record, else None."""
    match = S3_ACCESS.match(line.message)
    if match is None or "GET" not in match.group("op") or match.group("status") == "-":
        return None
    if not 200 <= int(match.group("status")) < 300:
        return None
    size = match.group("bytes")
    return ObjectRead(
        ts=line.ts,
        service=line.service,
        requester=requester_of(match.group("requester")),
        bucket=match.group("bucket"),
        address=match.group("ip"),
        bytes=float(size) if size != "-" else 0.0,
    )


# -- rates ---------------------------------------------------------------------------


def reference_end(split: Split) -> float:
    return max(split.start_s, split.onset_s - RECENT_S)


def burst(
    times: np.ndarray, split: Split, weights: np.ndarray | None = None, first_s: float | None = None
) -> Burst:
    """The busiest PEAK_S stretch of the recent part against the reference part.

    Expected is the larger of the reference's mean rate over PEAK_S and its own
    busiest stretch: a burst the reference already had is routine.
    """
    times = np.asarray(times, dtype=np.float64)
    w = np.ones_like(times) if weights is None else np.asarray(weights, dtype=np.float64)
    ref_end = reference_end(split)
    ref_start = max(split.start_s, first_s if first_s is not None else split.start_s)
    in_ref = (times >= ref_start) & (times < ref_end)
    ref_span = max(ref_end - ref_start, PEAK_S)
    ref_peak, _ = _peak(times[in_ref], w[in_ref], ref_start, ref_end)
    expected = max(w[in_ref].sum() / ref_span * PEAK_S, ref_peak, 0.5)
    recent = times >= ref_end
    peak, start = _peak(times[recent], w[recent], ref_end, split.now_s)
    z = float(poisson_z(np.array([peak]), np.array([expected]))[0]) if peak > expected else 0.0
    return Burst(peak=peak, expected=expected, z=z, start_s=start)


def _peak(times: np.ndarray, weights: np.ndarray, start: float, end: float) -> tuple[float, float]:
    if times.size == 0 or end <= start:
        return 0.0, start
    starts = np.arange(start, max(end - PEAK_S, start) + 1e-9, STEP_S)
    order = np.argsort(times)
    t, w = times[order], np.concatenate(([0.0], np.cumsum(weights[order])))
    lo = np.searchsorted(t, starts, side="left")
    hi = np.searchsorted(t, starts + PEAK_S, side="left")
    sums = w[hi] - w[lo]
    best = int(np.argmax(sums))
    return float(sums[best]), float(starts[best])


def strength_of(z: float) -> float:
    """Map a burst's z onto [0, 1] (FULL_Z and beyond is 1)."""
    if not np.isfinite(z) or z <= 0:
        return 0.0
    return float(min(1.0, np.log1p(z) / np.log1p(FULL_Z)))


def _by_service(lines: Iterable[Line]) -> dict[str, list[Line]]:
    out: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        out[line.service].append(line)
    return out


def _examples(lines: Sequence[Line], k: int = 2) -> tuple[str, ...]:
    return tuple(line.message[:300] for line in lines[-k:])


# -- detectors ---------------------------------------------------------------------------


Volume = tuple[np.ndarray, np.ndarray]


def auth_failure_bursts(
    lines: Iterable[Line],
    split: Split,
    first_s: float | None = None,
    volume: dict[str, Volume] | None = None,
) -> list[SecurityFinding]:
    """Failed logins far above normal, from many addresses or against many accounts.

    With `volume` (each service's line counts: bucket starts and counts), the
    expected number is the failures' usual share of the service's lines: a rush
    of customers brings its usual share of mistyped passwords, an attack does not.
    """
    out = []
    for service, items in _by_service(ln for ln in lines if is_auth_failure(ln.message)).items():
        times = np.array([line.ts for line in items])
        found = burst(times, split, first_s=first_s)
        if volume is not None and service in volume:
            found = _as_share(found, times, volume[service], split, first_s)
        if found.peak < MIN_BURST or found.z < MIN_Z:
            continue
        window = [ln for ln in items if found.start_s <= ln.ts < found.start_s + PEAK_S]
        addresses = {ip for ln in window for ip in public_ips(ln.message)}
        users = {m.group(1).lower() for ln in window if (m := USER.search(ln.message))}
        sources = max(len(addresses), len(users))
        if sources < MIN_SOURCES:
            continue
        relayed = sum(access_request(ln.message) is not None for ln in window) > len(window) / 2
        out.append(
            found.finding(
                service,
                "security_auth_failures",
                f"{service} logged {found.peak:.0f} failed logins in {PEAK_S / 60:.0f} minutes"
                f" (about {found.expected:.1f} expected) from {len(addresses)} addresses"
                f" against {len(users)} accounts: credential stuffing or password spraying.",
                summary_ja=f"{service}で{PEAK_S / 60:.0f}分間に{found.peak:.0f}件のログイン失敗"
                f"（通常は約{found.expected:.1f}件）。{len(addresses)}個のアドレスから"
                f"{len(users)}個のアカウントが狙われています：クレデンシャルスタッフィングまたは"
                "パスワードスプレー攻撃の疑い。",
                subject=f"{len(addresses)} addresses",
                examples=_examples(window),
                # A proxy answering 401 relays a verdict; the service logging why decides.
                weight=RELAYED if relayed else 1.0,
            )
        )
    return out


def _as_share(
    found: Burst, times: np.ndarray, volume: Volume, split: Split, first_s: float | None
) -> Burst:
    """The burst's peak against the failures' usual share of all the service's lines."""
    starts, counts = volume
    ref_end = reference_end(split)
    ref_start = max(split.start_s, first_s if first_s is not None else split.start_s)
    in_ref = (starts >= ref_start) & (starts < ref_end)
    ref_lines = float(counts[in_ref].sum())
    if ref_lines <= 0:
        return found
    ref_failures = float(((times >= ref_start) & (times < ref_end)).sum())
    share = max(ref_failures, 0.5) / ref_lines
    in_peak = (starts >= found.start_s) & (starts < found.start_s + PEAK_S)
    expected = max(share * float(counts[in_peak].sum()), 0.5)
    peak = found.peak
    z = float(poisson_z(np.array([peak]), np.array([expected]))[0]) if peak > expected else 0.0
    return Burst(peak=peak, expected=expected, z=z, start_s=found.start_s)


RELAYED = 0.6


def web_attacks(
    lines: Iterable[Line], split: Split, first_s: float | None = None
) -> list[SecurityFinding]:
    """Attack signatures in access lines far above the background of probes."""
    out = []
    tagged = [(line, kind) for line in lines if (kind := attack_signature(line.message))]
    by_service: dict[str, list[tuple[Line, str]]] = defaultdict(list)
    for line, kind in tagged:
        by_service[line.service].append((line, kind))
    for service, items in by_service.items():
        times = np.array([line.ts for line, _ in items])
        found = burst(times, split, first_s=first_s)
        if found.peak < MIN_BURST or found.z < MIN_Z:
            continue
        window = [(ln, k) for ln, k in items if found.start_s <= ln.ts < found.start_s + PEAK_S]
        kinds = Counter(k for _, k in window)
        addresses = {ip for ln, _ in window for ip in public_ips(ln.message)}
        what = ", ".join(f"{n} {k}" for k, n in kinds.most_common())
        out.append(
            found.finding(
                service,
                "security_web_attack",
                f"{service} received {found.peak:.0f} requests with attack signatures in"
                f" {PEAK_S / 60:.0f} minutes ({what}; about {found.expected:.1f} usual)"
                f" from {len(addresses)} addresses.",
                summary_ja=f"{service}が{PEAK_S / 60:.0f}分間に攻撃シグネチャを含むリクエストを"
                f"{found.peak:.0f}件受けました（{what}、通常は約{found.expected:.1f}件）。"
                f"送信元は{len(addresses)}個のアドレスです。",
                subject=", ".join(sorted(addresses)[:3]),
                examples=_examples([ln for ln, _ in window]),
            )
        )
    return out


def audit_findings(lines: Iterable[Line], split: Split) -> list[SecurityFinding]:
    """New networks, unusual and denied API calls per principal, in audit events."""
    events = [e for line in lines if (e := audit_event(line)) is not None]
    out: list[SecurityFinding] = []
    for service in sorted({e.service for e in events}):
        mine = [e for e in events if e.service == service]
        out += _new_networks(service, mine, split)
        out += _rare_calls(service, mine, split)
        out += _denied_calls(service, mine, split)
    return out


def _split_events(
    events: list[AuditEvent], split: Split
) -> tuple[list[AuditEvent], list[AuditEvent]]:
    ref_end = reference_end(split)
    return [e for e in events if e.ts < ref_end], [e for e in events if e.ts >= ref_end]


def _new_networks(service: str, events: list[AuditEvent], split: Split) -> list[SecurityFinding]:
    reference, recent = _split_events(events, split)
    if not reference:
        return []
    seen: dict[str, set[str]] = defaultdict(set)
    for e in reference:
        if e.network:
            seen[e.principal].add(e.network)
    anyone = set().union(*seen.values()) if seen else set()
    novel: dict[str, list[AuditEvent]] = defaultdict(list)
    for e in recent:
        if e.network is None:
            continue
        known = seen.get(e.principal, anyone)
        if e.network not in known:
            novel[e.principal].append(e)
    out = []
    for principal, items in novel.items():
        if len(items) < MIN_NOVEL:
            continue
        n = len(items)
        known_principal = any(e.principal == principal for e in reference)
        networks = sorted({e.network for e in items if e.network})
        keys = sorted({e.key for e in items if e.key})
        who = f"{principal} (access key {keys[0][:8]}...)" if keys else principal
        newness = "" if known_principal else ", a principal not seen in the baseline,"
        newness_ja = "" if known_principal else "（ベースラインに現れない主体）"
        out.append(
            SecurityFinding(
                service=service,
                signal="security_new_network",
                z=float(n),
                strength=(n / (n + NOVEL_KNEE)) * (1.0 if known_principal else NEW_PRINCIPAL),
                current=float(n),
                expected=0.0,
                summary=(
                    f"{who}{newness} made {n} API calls from {', '.join(networks[:3])}, a network"
                    " never seen for it in the baseline."
                ),
                summary_ja=f"{who}{newness_ja}が、ベースラインで一度も使っていないネットワーク"
                f"（{'、'.join(networks[:3])}）から{n}件のAPI呼び出しを行いました。",
                subject=principal,
                since_s=min(e.ts for e in items),
                examples=tuple(f"{e.name} from {e.address}" for e in items[-2:]),
            )
        )
    return out


NEW_PRINCIPAL = 0.9


def _rare_calls(service: str, events: list[AuditEvent], split: Split) -> list[SecurityFinding]:
    reference, recent = _split_events(events, split)
    if not reference:
        return []
    used: dict[str, set[str]] = defaultdict(set)
    for e in reference:
        used[e.principal].add(e.name)
    out = []
    by_principal: dict[str, list[AuditEvent]] = defaultdict(list)
    for e in recent:
        by_principal[e.principal].append(e)
    for principal, items in by_principal.items():
        rare = sorted({e.name for e in items} - used.get(principal, set()))
        sensitive = [name for name in rare if name in SENSITIVE_CALLS]
        score = len(rare) + 2 * len(sensitive)
        if not sensitive and len(rare) < RARE_MIN:
            continue
        out.append(
            SecurityFinding(
                service=service,
                signal="security_rare_api",
                z=float(score),
                strength=score / (score + RARE_KNEE),
                current=float(len(rare)),
                expected=0.0,
                summary=(
                    f"{principal} called {len(rare)} APIs it never used in the baseline"
                    f" ({', '.join((sensitive + [r for r in rare if r not in sensitive])[:6])})"
                    + (f"; sensitive: {', '.join(sensitive[:4])}." if sensitive else ".")
                ),
                summary_ja=f"{principal}がベースラインで使っていないAPIを{len(rare)}種類呼び出しました"
                f"（{'、'.join((sensitive + [r for r in rare if r not in sensitive])[:6])}）"
                + (f"。機微な操作：{'、'.join(sensitive[:4])}。" if sensitive else "。"),
                subject=principal,
                since_s=min(e.ts for e in items if e.name in rare),
            )
        )
    return out


RARE_MIN = 3


def _denied_calls(service: str, events: list[AuditEvent], split: Split) -> list[SecurityFinding]:
    out = []
    by_principal: dict[str, list[AuditEvent]] = defaultdict(list)
    for e in events:
        if e.denied:
            by_principal[e.principal].append(e)
    for principal, items in by_principal.items():
        found = burst(np.array([e.ts for e in items]), split)
        if found.peak < MIN_DENIED or found.z < MIN_Z:
            continue
        names = Counter(e.name for e in items if e.ts >= found.start_s)
        out.append(
            found.finding(
                service,
                "security_denied_api",
                f"{principal} was denied {found.peak:.0f} API calls in {PEAK_S / 60:.0f}"
                f" minutes (about {found.expected:.1f} usual):"
                f" {', '.join(n for n, _ in names.most_common(4))}.",
                summary_ja=f"{principal}のAPI呼び出しが{PEAK_S / 60:.0f}分間に"
                f"{found.peak:.0f}件拒否されました（通常は約{found.expected:.1f}件）："
                f"{'、'.join(n for n, _ in names.most_common(4))}。",
                subject=principal,
            )
        )
    return out


def exfiltration(lines: Iterable[Line], split: Split) -> list[SecurityFinding]:
    """One principal reading far more from object storage than the store served before."""
    reads = [r for line in lines if (r := object_read(line)) is not None]
    out = []
    for service in sorted({r.service for r in reads}):
        mine = [r for r in reads if r.service == service]
        ref_end = reference_end(split)
        ref_span = max(ref_end - split.start_s, PEAK_S)
        total_ref = sum(r.bytes for r in mine if r.ts < ref_end) / ref_span * PEAK_S
        by_requester: dict[str, list[ObjectRead]] = defaultdict(list)
        for r in mine:
            by_requester[r.requester].append(r)
        for requester, items in by_requester.items():
            ref_own = sum(r.bytes for r in items if r.ts < ref_end) / ref_span * PEAK_S
            recent = [r for r in items if r.ts >= ref_end]
            peak, start = _peak(
                np.array([r.ts for r in recent]),
                np.array([r.bytes for r in recent]),
                ref_end,
                split.now_s,
            )
            floor = max(ref_own, EXFIL_FLOOR_SHARE * total_ref, MIN_BYTES)
            ratio = peak / floor
            if ratio < EXFIL_RATIO or peak < max(total_ref, MIN_BYTES):
                continue
            buckets = sorted({r.bucket for r in recent if r.ts >= start})
            out.append(
                SecurityFinding(
                    service=service,
                    signal="security_exfiltration",
                    z=float(ratio),
                    strength=float(min(1.0, np.log10(ratio) / 2.0)),
                    current=peak,
                    expected=floor,
                    summary=(
                        f"{requester} read {_size(peak)} from {', '.join(buckets[:2])} in"
                        f" {PEAK_S / 60:.0f} minutes, {ratio:.0f}x what it (or a tenth of the"
                        f" whole store, {_size(total_ref)}) used to: bulk download."
                    ),
                    summary_ja=f"{requester}が{PEAK_S / 60:.0f}分間に{'、'.join(buckets[:2])}から"
                    f"{_size(peak)}を読み出しました。これまで（またはストア全体の1割、"
                    f"{_size(total_ref)}）の{ratio:.0f}倍で、一括ダウンロードの疑いがあります。",
                    subject=requester,
                    since_s=start,
                )
            )
    return out


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
