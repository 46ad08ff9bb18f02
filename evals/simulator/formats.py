"""Log lines in the formats the estate's software really writes.

Go services log zap JSON, Node services pino JSON, Java services Spring Boot's
logback pattern (with stack traces), Python the logging module's default-ish
pattern; web-frontend writes nginx access lines, api-gateway Envoy's, and the
datastores their own (PostgreSQL, Redis, Kafka). Object storage writes S3
server access records and the cloud account CloudTrail events. Engines and
people are scored on this, so it should look like what they would really grep.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from evals.simulator.timeutil import iso

PINO_LEVEL = {"TRACE": 10, "DEBUG": 20, "INFO": 30, "WARN": 40, "ERROR": 50, "FATAL": 60}
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SH-M26) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.6367.82 Mobile Safari/537.36",
    "SakuraMart/5.12.0 (iOS 17.4.1; iPhone15,3)",
    "SakuraMart/5.12.0 (Android 14; Pixel 8)",
)


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def zap(ts: float, level: str, caller: str, msg: str, trace_id: str, **fields: Any) -> str:
    """A Go service's zap production-encoder line."""
    record: dict[str, Any] = {"level": level.lower(), "ts": iso(ts, 3), "caller": caller}
    record["msg"] = msg
    if trace_id:
        record["trace_id"] = trace_id
    record.update(fields)
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def pino(ts: float, level: str, host: str, msg: str, trace_id: str, **fields: Any) -> str:
    """A Node service's pino line (numeric level, epoch-millisecond time)."""
    record: dict[str, Any] = {
        "level": PINO_LEVEL.get(level, 30),
        "time": round(ts * 1000),
        "pid": 1,
        "hostname": host,
    }
    if trace_id:
        record["trace_id"] = trace_id
    record.update(fields)
    record["msg"] = msg
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def logback(  # noqa: PLR0917
    ts: float,
    level: str,
    app: str,
    thread: str,
    logger: str,
    msg: str,
    trace_id: str,
    span_id: str,
    stack: str = "",
) -> str:
    """Spring Boot's default console pattern with Sleuth/Micrometer trace ids."""
    stamp = _dt(ts).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    line = f"{stamp} {level:>5} [{app},{trace_id},{span_id}] 1 --- [{thread}] {logger} : {msg}"
    return f"{line}\n{stack}" if stack else line


def pylog(ts: float, level: str, logger: str, msg: str, trace_id: str) -> str:
    """Python logging with an OpenTelemetry trace id in the format."""
    stamp = _dt(ts).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
    return f"{stamp} {level} [{logger}] [trace_id={trace_id or '0'}] {msg}"


def nginx(  # noqa: PLR0917
    ts: float,
    ip: str,
    method: str,
    path: str,
    status: int,
    size: int,
    agent: str,
    seconds: float,
    trace_id: str,
) -> str:
    """nginx's combined format plus request time and the trace id."""
    stamp = _dt(ts).strftime("%d/%b/%Y:%H:%M:%S +0000")
    upstream = "-" if status in {400, 403, 404} and seconds < 0.002 else f"{seconds * 0.97:.3f}"
    return (
        f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size}'
        f' "https://www.sakuramart.example/" "{agent}" rt={seconds:.3f} urt={upstream}'
        f" trace_id={trace_id}"
    )


def envoy(  # noqa: PLR0917
    ts: float,
    ip: str,
    method: str,
    path: str,
    status: int,
    size: int,
    agent: str,
    millis: int,
    request_id: str,
    upstream: str,
    flags: str = "-",
) -> str:
    """Envoy's default access-log format (the API gateway's)."""
    return (
        f'[{iso(ts, 3)}] "{method} {path} HTTP/1.1" {status} {flags} 0 {size} {millis}'
        f' {max(millis - 1, 0)} "{ip}" "{agent}" "{request_id}" "api.sakuramart.example"'
        f' "{upstream}"'
    )


def postgres(ts: float, pid: int, who: str, level: str, msg: str) -> str:
    """PostgreSQL's log_line_prefix '%m [%p] %q%u@%d '."""
    stamp = _dt(ts).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return f"{stamp} UTC [{pid}] {who} {level}:  {msg}"


def redis(ts: float, role: str, marker: str, msg: str) -> str:
    """Redis server log: pid:role day month year time marker message."""
    stamp = _dt(ts).strftime("%d %b %Y %H:%M:%S.%f")[:-3]
    return f"1:{role} {stamp} {marker} {msg}"


def kafka(ts: float, level: str, msg: str, logger: str) -> str:
    """Kafka broker log4j line."""
    stamp = _dt(ts).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
    return f"[{stamp}] {level} {msg} ({logger})"


def s3_access(  # noqa: PLR0917
    ts: float,
    bucket: str,
    ip: str,
    principal: str,
    request_id: str,
    operation: str,
    key: str,
    status: int,
    error: str,
    size: int,
    millis: int,
    agent: str,
) -> str:
    """One S3 server access log record."""
    stamp = _dt(ts).strftime("%d/%b/%Y:%H:%M:%S +0000")
    owner = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
    verb = "PUT" if "PUT" in operation else "GET"
    return (
        f"{owner} {bucket} [{stamp}] {ip} {principal} {request_id} {operation} {key}"
        f' "{verb} /{bucket}/{key} HTTP/1.1" {status} {error} {size if verb == "GET" else "-"}'
        f' {size} {millis} {max(millis - 2, 1)} "-" "{agent}" - {request_id.lower()}= SigV4'
        f" ECDHE-RSA-AES128-GCM-SHA256 AuthHeader {bucket}.s3.ap-northeast-1.amazonaws.com"
        " TLSv1.2 - -"
    )


def cloudtrail(  # noqa: PLR0917
    ts: float,
    event_name: str,
    source: str,
    identity: dict[str, Any],
    ip: str,
    agent: str,
    region: str,
    event_id: str,
    error_code: str | None = None,
    params: dict[str, Any] | None = None,
) -> str:
    """One CloudTrail management event as delivered to CloudWatch Logs."""
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": iso(ts),
        "eventSource": source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": params,
        "responseElements": None,
        "eventID": event_id,
        "readOnly": event_name.startswith(("Get", "List", "Describe")),
        "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012",
        "eventCategory": "Management",
    }
    if error_code:
        record["errorCode"] = error_code
        record["errorMessage"] = f"User is not authorized to perform: {event_name}"
    return json.dumps(record, separators=(",", ":"))
