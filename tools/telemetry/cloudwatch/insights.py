"""CloudWatch Logs Insights: building queries, running them, reading their results.

A query runs asynchronously: StartQuery, then GetQueryResults until it is
done. Insights bills per byte scanned, so a query whose running statistics
pass the configured cap is stopped (StopQuery) and the call fails loudly
rather than quietly costing money; so is one that outlives its timeout.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tools.telemetry.backend import TelemetryError
from tools.telemetry.metering import QueryCounter

MAX_ROWS = 10_000
MAX_GROUPS_PER_QUERY = 50
_REGEX_SPECIAL = set("\\^$.|?*+()[]{}/")
_DONE = {"Complete"}
_FAILED = {"Failed", "Cancelled", "Timeout", "Unknown"}

Row = dict[str, str]


# -- query text -----------------------------------------------------------------------


def field(name: str) -> str:
    """A field reference, backquoted unless it is a plain (or @system) name."""
    plain = name.lstrip("@").replace("_", "").replace(".", "").isalnum()
    return name if plain else "`" + name.replace("`", "\\`") + "`"


def string(value: str) -> str:
    """A string literal."""
    return json.dumps(value)


def string_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(string(v) for v in values) + "]"


def literal_regex(text: str, *, ignore_case: bool = True) -> str:
    """A /regex/ matching `text` literally (case-insensitively by default)."""
    escaped = "".join(f"\\{c}" if c in _REGEX_SPECIAL else c for c in text)
    return f"/{'(?i)' if ignore_case else ''}{escaped}/"


def regex(pattern: str) -> str:
    """A /regex/ literal for a caller's pattern (slashes escaped)."""
    return "/" + pattern.replace("\\/", "/").replace("/", "\\/") + "/"


def bin_spec(bucket_s: float) -> str:
    """`bin()` argument for a bucket width: whole seconds as `Ns`, else milliseconds."""
    if float(bucket_s).is_integer():
        return f"{int(bucket_s)}s"
    return f"{max(1, round(bucket_s * 1000))}ms"


@dataclass(frozen=True, slots=True)
class Query:
    """fields | filter ... | (stats | sort) | limit, as Logs Insights text."""

    fields: tuple[str, ...] = ("@timestamp", "@message", "@logStream", "@log")
    filters: tuple[str, ...] = ()
    stats: str | None = None
    sort: str | None = "@timestamp desc"
    limit: int = MAX_ROWS

    def text(self) -> str:
        parts = ["fields " + ", ".join(field(f) for f in self.fields)]
        parts += [f"filter {f}" for f in self.filters]
        if self.stats:
            parts.append(f"stats {self.stats}")
        elif self.sort:
            parts.append(f"sort {self.sort}")
        parts.append(f"limit {min(self.limit, MAX_ROWS)}")
        return "\n| ".join(parts)


# -- results --------------------------------------------------------------------------


def parse_rows(results: list[list[dict[str, str]]]) -> list[Row]:
    """GetQueryResults rows ([{field, value}, ...]) as dicts, `@ptr` dropped."""
    return [
        {c["field"]: c.get("value", "") for c in row if c["field"] != "@ptr"} for row in results
    ]


def parse_time(value: str) -> float:
    """Insights timestamps (`2024-03-01 10:00:00.000`, UTC) as epoch seconds."""
    text = value.strip().replace("T", " ").rstrip("Z")
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()


# -- running --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes_scanned: int
    poll_s: float
    timeout_s: float


class InsightsRunner:
    """Runs one query at a time against a logs client, within the byte and time limits."""

    def __init__(
        self,
        client: Any,
        limits: Limits,
        counter: QueryCounter,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.limits = limits
        self.counter = counter
        self._sleep = sleep
        self._clock = clock

    def run(self, query: Query, groups: Sequence[str], start_s: float, end_s: float) -> list[Row]:
        """Rows of `query` over `groups` (any number: run 50 at a time) in [start_s, end_s]."""
        rows: list[Row] = []
        for i in range(0, len(groups), MAX_GROUPS_PER_QUERY):
            rows += self._run_once(query, groups[i : i + MAX_GROUPS_PER_QUERY], start_s, end_s)
        return rows

    def _run_once(
        self, query: Query, groups: Sequence[str], start_s: float, end_s: float
    ) -> list[Row]:
        started = self.client.start_query(
            logGroupNames=list(groups),
            startTime=math.floor(start_s),
            endTime=max(math.ceil(end_s), math.floor(start_s)),
            queryString=query.text(),
            limit=min(query.limit, MAX_ROWS),
        )
        query_id = started["queryId"]
        deadline = self._clock() + self.limits.timeout_s
        wait = min(0.2, self.limits.poll_s)
        while True:
            result = self.client.get_query_results(queryId=query_id)
            status = result.get("status", "Unknown")
            scanned = int(result.get("statistics", {}).get("bytesScanned", 0))
            if status in _DONE:
                self.counter.add_scanned(scanned)
                return parse_rows(result.get("results", []))
            if status in _FAILED:
                self.counter.add_scanned(scanned)
                raise TelemetryError(f"CloudWatch Logs Insights query {status.lower()}: {query_id}")
            if scanned > self.limits.max_bytes_scanned:
                self._stop(query_id, scanned)
                raise TelemetryError(
                    f"CloudWatch Logs Insights query stopped after scanning {scanned} bytes, over"
                    f" the cap of {self.limits.max_bytes_scanned}"
                    " (cloudwatch.logs.max_bytes_scanned): narrow the window or raise the cap"
                )
            if self._clock() > deadline:
                self._stop(query_id, scanned)
                raise TelemetryError(
                    f"CloudWatch Logs Insights query still {status.lower()} after"
                    f" {self.limits.timeout_s:.0f} s (cloudwatch.logs.timeout_s); stopped it"
                )
            self._sleep(wait)
            wait = min(wait * 2, self.limits.poll_s)

    def _stop(self, query_id: str, scanned: int) -> None:
        self.counter.add_scanned(scanned)
        try:
            self.client.stop_query(queryId=query_id)
        except (BotoCoreError, ClientError):  # best effort: the error raised next says why
            return
