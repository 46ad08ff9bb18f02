"""What the Datadog searches share: the query syntax, the time range, a time budget.

Logs, spans, events and signals are searched with one syntax
(`service:(a OR b) status:error "phrase"`); every search is narrowed to the
configured env and scope here. Datadog's `to` is not documented as inclusive,
so ranges reach one millisecond past the window and lines are cut here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tools.telemetry.config import DatadogConfig
from tools.telemetry.datadog.client import DatadogError
from tools.telemetry.models import from_epoch


def iso(seconds: float) -> str:
    """RFC 3339 with milliseconds, as the search APIs take it."""
    return from_epoch(seconds).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_until(seconds: float) -> str:
    """The end of a range that includes `seconds` itself."""
    return iso(seconds + 0.001)


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def any_of(name: str, values: Sequence[str]) -> str:
    inner = " OR ".join(quoted(v) if " " in v else v for v in values)
    return f"{name}:({inner})" if len(values) > 1 else f"{name}:{inner}"


def search_query(
    config: DatadogConfig,
    scope: str,
    *,
    services: Sequence[str] | None = None,
    statuses: Sequence[str] = (),
    phrase: str | None = None,
) -> str:
    """The search for these filters within `scope` and the configured env. Services
    are named as Datadog names them (the inverse of `naming.map`); with a naming
    pattern they cannot be, and are filtered after the search instead."""
    parts = [f"({scope})"] if scope.strip() not in {"", "*"} else []
    if config.env:
        parts.append(f"{config.tags.env}:{config.env}")
    if services and config.naming.pattern is None:
        inverse = {v: k for k, v in config.naming.map.items()}
        parts.append(any_of(config.tags.service, [inverse.get(s, s) for s in services]))
    if statuses:
        parts.append(any_of("status", statuses))
    if phrase:
        parts.append(quoted(phrase))
    return " ".join(parts) or "*"


class Budget:
    """How long one kind of telemetry may take in one triage: past it, the kind fails
    (DatadogError) and the triage goes on without it."""

    def __init__(self, kind: str, seconds: float) -> None:
        self.kind = kind
        self.seconds = seconds
        self.deadline: float | None = None

    def check(self) -> None:
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + self.seconds
        elif now > self.deadline:
            raise DatadogError(
                self.kind, f"slower than datadog.kind_timeout_s ({self.seconds:.0f} s)"
            )


def pages(
    fetch: Callable[[str | None], Any], budget: Budget, max_pages: int, what: str
) -> Iterator[Any]:
    """Answers of a cursor-paginated search, `fetch(cursor)` page by page; a search
    with more than `max_pages` pages is refused (`what` says which and how to narrow it)."""
    cursor: str | None = None
    for _ in range(max_pages):
        budget.check()
        answer = fetch(cursor)
        yield answer
        meta = answer.get("meta")
        page = meta.get("page") if meta is not None else None
        cursor = page.get("after") if page is not None else None
        if not cursor or not answer.get("data"):
            return
    operation, _, message = what.partition(": ")
    raise DatadogError(operation, f"more than {max_pages} pages {message}")
