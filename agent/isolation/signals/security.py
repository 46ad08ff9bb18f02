"""Security evidence: the detectors of tools.analysis.security over the window's logs.

Three narrow searches (failed logins; audit events and object-storage access
records; requests with attack signatures) fetch only the lines a detector can
use, so the cost stays small beside the other analyses. Each finding becomes
an Evidence item of kind "log" with a `security_*` signal on the service that
logged it: the login service for failed logins, the account's audit trail for
unusual API use, the object store for bulk reads, the edge for web attacks.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from agent.isolation.evidence import Evidence, EvidenceQuery
from tools.analysis import security
from tools.analysis.security import Line, SecurityFinding
from tools.analysis.split import Split
from tools.redact import redact
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.models import (
    SEVERITIES,
    SecuritySignal,
    TemplateCounts,
    TimeWindow,
    from_epoch,
    to_epoch,
)

# Lines per search; a store that holds more keeps the newest (the reference shrinks).
LIMIT = 20_000
QUERIES = {
    "auth": security.AUTH_QUERY,
    "audit": security.AUDIT_QUERY,
    "web": security.WEB_QUERY,
}
# One pass over the store: the three searches as alternatives (each keeps its flags).
COMBINED = "|".join(f"({q})" for q in QUERIES.values())


# The lines one combined search returned, oldest first, and where coverage starts when
# the limit cut it (None: the search saw the whole window).
SecurityLines = tuple[list[Line], float | None]


def search_lines(backend: TelemetryBackend, window: TimeWindow) -> SecurityLines:
    """One search of `window` for every line a detector can use (the snapshot reads it
    once per triage; each fault window's detectors re-check their own)."""
    return _lines(backend, window, COMBINED)


def security_findings(
    found: SecurityLines, split: Split, counts: TemplateCounts | None = None
) -> list[SecurityFinding]:
    """Run every detector over the lines of one search (`search_lines`).

    `counts` (the window's line counts per template, as the log analysis reads
    them) lets failed logins be judged as a share of each service's lines.
    """
    lines, first = found
    volume = _volume(counts) if counts is not None else None
    return [
        *security.auth_failure_bursts(lines, split, first_s=first, volume=volume),
        *security.audit_findings(lines, split),
        *security.exfiltration(lines, split),
        *security.web_attacks(lines, split, first_s=first),
    ]


# A SIEM signal's own severity as strength: high and critical decide the suspect.
SIEM_STRENGTH = {"info": 0.1, "low": 0.25, "medium": 0.45, "high": 0.75, "critical": 1.0}
SIEM = "security_siem"


def siem_findings(signals: list[SecuritySignal], split: Split) -> list[SecurityFinding]:
    """Signals a SIEM raised on a service since shortly before the onset (older ones
    are the estate's usual noise). The snapshot reads them apart from the logs, so a
    SIEM that cannot be read is a note of its own and leaves the logs be."""
    since = security.reference_end(split)
    return [
        SecurityFinding(
            service=s.service,
            signal=SIEM,
            z=float(SEVERITIES.index(s.severity)),
            strength=SIEM_STRENGTH[s.severity],
            current=1.0,
            expected=0.0,
            summary=f"{s.source or 'SIEM'} signal ({s.severity}) on {s.service}: {s.rule}."
            + (f" {s.title}" if s.title and s.title != s.rule else ""),
            summary_ja=f"{s.service}で{s.source or 'SIEM'}のシグナル（{s.severity}）：{s.rule}。",
            subject=s.id,
            since_s=to_epoch(s.ts),
        )
        for s in signals
        if to_epoch(s.ts) >= since
    ]


def _lines(
    backend: TelemetryBackend, window: TimeWindow, regex: str
) -> tuple[list[Line], float | None]:
    """Matching lines, oldest first, and where coverage starts when the limit cut it."""
    records = backend.logs(window, regex=regex, limit=LIMIT)
    lines = [Line(to_epoch(r.ts), r.service, r.message) for r in reversed(records)]
    first = lines[0].ts if len(records) >= LIMIT and lines else None
    return lines, first


def _volume(counts: TemplateCounts) -> dict[str, security.Volume]:
    """Each service's line counts per bucket (bucket starts, counts)."""
    out: dict[str, security.Volume] = {}
    services = counts.service.astype(str)
    for service in np.unique(services):
        mine = services == service
        starts, index = np.unique(counts.bucket_s[mine], return_inverse=True)
        totals = np.bincount(index, weights=counts.count[mine].astype(np.float64))
        out[str(service)] = (starts.astype(np.float64), totals)
    return out


def security_evidence(findings: list[SecurityFinding], split: Split) -> list[Evidence]:
    return [_evidence(f, split) for f in findings]


def _evidence(finding: SecurityFinding, split: Split) -> Evidence:
    window = {"start": _iso(from_epoch(split.start_s)), "end": _iso(from_epoch(split.now_s))}
    if finding.signal == SIEM:
        query = EvidenceQuery(
            tool="security_signals", args={"service": finding.service, "id": finding.subject,
                                           **window}
        )  # fmt: skip
    else:
        query = EvidenceQuery(
            tool="search_logs",
            args={"service": finding.service, "regex": QUERIES[_query_of(finding.signal)],
                  **window},
        )  # fmt: skip
    subject = f"{finding.service}|{finding.signal}|{finding.subject}"
    return Evidence(
        id=Evidence.make_id("log", query, subject),
        kind="log",
        service=finding.service,
        summary=redact(finding.summary),
        summary_ja=redact(finding.summary_ja),
        query=query,
        strength=finding.strength,
        signal=finding.signal,
        values={"z": finding.z, "current": finding.current, "expected": finding.expected},
    )


def _query_of(signal: str) -> str:
    if signal == "security_auth_failures":
        return "auth"
    if signal == "security_web_attack":
        return "web"
    return "audit"


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")
