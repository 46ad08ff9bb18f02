"""Log search: the lines behind a shift, newest first, masked and cut to size.

Lines leave here for a prompt or a page, so every message is redacted
(tools.redact) before it is cut, and a cut says how much it dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from tools.bounds import (
    Bounded,
    TimeRange,
    ToolInputError,
    clip,
    match_names,
    pattern_help,
)
from tools.redact import redact_counted
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.models import LogRecord, TimeWindow
from tools.toolset import Tool, Toolset

LevelName = Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", ""]
_LEVEL_ALIASES = {"WARNING": "WARN", "ERR": "ERROR", "CRITICAL": "FATAL", "NONE": ""}
# Matches are counted up to this many lines; beyond it the count is a lower bound.
SCAN_CAP = 1000
MAX_GROUPS = 20
# Constructs Python accepts and the log store's RE2 engine does not.
_RE2_UNSUPPORTED = re.compile(r"\(\?<?[=!]|\(\?P=|\\[1-9]")


class SearchLogsInput(TimeRange):
    """Search log lines by text, regex, level and service in a time range; newest first.

    Use it to read what a service said around a shift (the error behind a
    latency jump). `contains` is a case-insensitive substring; `regex` is
    case-sensitive (prefix '(?i)' to ignore case; no look-arounds or
    back-references).
    """

    contains: str | None = Field(
        None, min_length=1, description="Case-insensitive substring the message must contain."
    )
    regex: str | None = Field(
        None,
        min_length=1,
        description="Regular expression the message must match (RE2 syntax: no look-arounds or"
        " back-references). Case-sensitive unless it starts with '(?i)'.",
    )
    levels: list[LevelName] | None = Field(
        None,
        description="Only these levels, e.g. ['ERROR', 'FATAL']; '' is a line with no level.",
    )
    service: str | None = Field(None, description=pattern_help("Service"))
    limit: int = Field(30, ge=1, le=200, description="At most this many lines.")
    max_chars: int = Field(300, ge=40, le=2000, description="Cut each message to this length.")

    @field_validator("levels", mode="before")
    @classmethod
    def _normalise_levels(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            return [
                _LEVEL_ALIASES.get(str(v).strip().upper(), str(v).strip().upper()) for v in value
            ]
        return value

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"not a valid regular expression: {error}") from None
        if _RE2_UNSUPPORTED.search(value):
            raise ValueError("look-arounds and back-references are not supported")
        return value


class LogLine(BaseModel):
    ts: datetime
    service: str
    instance: str
    level: str
    message: str = Field(description="Redacted, and cut to max_chars.")
    trace_id: str | None = None


class SearchLogsOutput(Bounded):
    """Matching lines, newest first; `omitted` counts matches beyond `limit`."""

    window: TimeWindow
    matched: int = Field(description=f"Matching lines, counted up to {SCAN_CAP}.")
    matched_is_lower_bound: bool = Field(
        description="True when there were more matches than were counted."
    )
    by_service: dict[str, int] = Field(description="Counted matches per service (top 20).")
    by_level: dict[str, int] = Field(description="Counted matches per level.")
    redactions: int = Field(description="Secrets or personal data masked in the lines shown.")
    lines: list[LogLine]


def _fetch(
    backend: TelemetryBackend, window: TimeWindow, params: SearchLogsInput
) -> list[LogRecord]:
    services = match_names(params.service, backend.services(), "service")
    try:
        return backend.logs(
            window,
            services=services,
            levels=params.levels,
            contains=params.contains,
            regex=params.regex,
            limit=SCAN_CAP,
        )
    except Exception as error:
        if params.regex is None:
            raise
        # A pattern Python accepts can still be one the store's engine rejects.
        raise ToolInputError("regex", f"the log store rejected it: {error}") from None


def _line(record: LogRecord, max_chars: int) -> tuple[LogLine, int]:
    message, masked = redact_counted(record.message)
    line = LogLine(
        ts=record.ts,
        service=record.service,
        instance=record.instance,
        level=record.level,
        message=clip(message, max_chars),
        trace_id=record.trace_id,
    )
    return line, masked


def search_logs(backend: TelemetryBackend, params: SearchLogsInput) -> SearchLogsOutput:
    """Search log lines (newest first) by substring or regex, level and service.

    Messages are redacted (tokens, passwords, e-mails, card numbers) and cut to
    `max_chars`. Counts per service and level show where matches concentrate.
    """
    window = params.window(backend)
    records = _fetch(backend, window, params)
    shown = [_line(r, params.max_chars) for r in records[: params.limit]]
    omitted = len(records) - len(shown)
    lower_bound = len(records) >= SCAN_CAP
    return SearchLogsOutput(
        window=window,
        matched=len(records),
        matched_is_lower_bound=lower_bound,
        by_service=dict(Counter(r.service for r in records).most_common(MAX_GROUPS)),
        by_level=dict(Counter(r.level for r in records).most_common()),
        redactions=sum(masked for _, masked in shown),
        lines=[line for line, _ in shown],
        truncated=omitted > 0 or lower_bound,
        omitted=omitted,
    )


TOOLSET = Toolset(
    name="logs",
    description="Log lines: search by text, regex, level and service; redacted.",
    tools=(Tool.from_function(search_logs),),
    requires=frozenset({"logs"}),
)
