"""What every tool shares: strict inputs, time ranges on the backend's clock, caps.

Tools are called by the engine and by an LLM. An LLM gets times wrong in
every way there is, so ranges are relative strings ("-15m", "30m") resolved
against `backend.now` and clamped to it; absolute RFC 3339 times work too.
Outputs go back into a prompt, so every list is capped and says what it left
out instead of silently dropping rows.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.models import TimeWindow, from_epoch

T = TypeVar("T")

_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_RELATIVE = re.compile(r"now(?:-(?P<after_now>[\d.smhdw]+))?|-?(?P<ago>[\d.smhdw]+)")


class ToolError(Exception):
    """A tool could not answer; the message is meant to be shown to a person or an LLM."""

    def __init__(self, message: str, *, tool: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.tool = tool
        self.field = field

    def __str__(self) -> str:
        return f"{self.tool}: {self.message}" if self.tool else self.message


class ToolInputError(ToolError):
    """An argument was wrong; `field` names it so the caller can fix just that."""

    def __init__(
        self, field: str, problem: str, *, tool: str | None = None, several: bool = False
    ) -> None:
        message = (
            f"invalid arguments: {problem}" if several else f"invalid argument '{field}': {problem}"
        )
        super().__init__(message, tool=tool, field=field)


def parse_duration(text: str) -> float:
    """Seconds in '90s', '15m', '2h', '1h30m', '1d', '1w'."""
    compact = text.strip().lower().replace(" ", "")
    if not _DURATION.fullmatch(compact):
        raise ValueError(f"'{text}' is not a duration like '90s', '15m', '2h' or '1h30m'")
    return sum(float(n) * _UNIT_S[u] for n, u in _DURATION_PART.findall(compact))


def resolve_time(text: str, now_s: float) -> float:
    """Epoch seconds of 'now', '-15m', '15m', 'now-15m' (all before `now_s`) or an
    RFC 3339 time; a time without an offset is taken as UTC, like all telemetry."""
    compact = text.strip().lower().replace(" ", "")
    relative = _RELATIVE.fullmatch(compact)
    if relative:
        ago = relative.group("after_now") or relative.group("ago")
        return now_s - (parse_duration(ago) if ago else 0.0)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"'{text}' is neither a relative time like '-15m' or 'now' nor an RFC 3339 time"
            " like '2024-03-01T12:00:00Z'"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class ToolInput(BaseModel):
    """Base of every tool's arguments: unknown arguments are errors, not ignored typos."""

    model_config = ConfigDict(extra="forbid")


class TimeRange(ToolInput):
    """A time range on the backend's clock: `start`/`end`, or the `last` span before `end`."""

    start: str | None = Field(
        None,
        description="Start of the range: relative to now like '-15m' or 'now-2h' (units s, m,"
        " h, d, w) or an absolute UTC time like '2024-03-01T12:00:00Z'. Omit to use `last`.",
    )
    end: str | None = Field(
        None,
        description="End of the range, same formats as `start`. Default: now. Never later than"
        " now: the backend's clock bounds every query.",
    )
    last: str = Field(
        "60m",
        description="Length of the range ending at `end` when `start` is omitted, like '15m',"
        " '2h' or '1h30m'.",
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _datetime_to_text(cls, value: object) -> object:
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
        return value

    @field_validator("start", "end")
    @classmethod
    def _valid_time(cls, value: str | None) -> str | None:
        if value is not None:
            resolve_time(value, 0.0)
        return value

    @field_validator("last")
    @classmethod
    def _valid_duration(cls, value: str) -> str:
        if parse_duration(value) <= 0:
            raise ValueError("must be longer than zero")
        return value

    @model_validator(mode="after")
    def _start_or_last(self) -> TimeRange:
        if self.start is not None and "last" in self.model_fields_set:
            raise ValueError("give either 'start' or 'last', not both")
        return self

    def window(self, backend: TelemetryBackend) -> TimeWindow:
        """The absolute window, clamped so it never reaches past `backend.now`."""
        now_s = backend.now_s
        end_s = resolve_time(self.end, now_s) if self.end is not None else now_s
        if self.start is not None:
            start_s = resolve_time(self.start, now_s)
        else:
            start_s = end_s - parse_duration(self.last)
        if start_s > end_s:
            end = from_epoch(end_s).isoformat()
            raise ToolInputError("start", f"'{self.start}' is after the range's end ({end})")
        return TimeWindow.of(start_s, end_s).clamp(now_s)


class Bounded(BaseModel):
    """Mixed into outputs whose lists are capped."""

    truncated: bool = Field(
        False, description="True when a cap left rows out: narrow the query or raise the limit."
    )
    omitted: int = Field(0, description="How many rows the cap left out.")


def take(items: Sequence[T], limit: int) -> tuple[list[T], int]:
    """The first `limit` items and how many were left out."""
    return list(items[:limit]), max(len(items) - limit, 0)


def ellipsize(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near,
    marked with an ellipsis where cut (for people: pages, evidence, titles)."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - 1, 0)]
    space = head.rfind(" ")
    if space >= 0.6 * len(head):
        head = head[:space]
    return head.rstrip() + "…"


def clip(text: str, max_chars: int) -> str:
    """`text` cut to `max_chars`, saying how much was cut so nobody mistakes it for whole."""
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}…[+{len(text) - max_chars} chars]"


def sig(value: float, digits: int = 6) -> float | None:
    """`value` rounded to `digits` significant digits (None for NaN): prompts stay short."""
    if not math.isfinite(value):
        return None
    if value == 0:
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def name_matcher(pattern: str) -> Callable[[str], bool]:
    """A case-insensitive test for comma-separated names or globs ('pay*,cart');
    the empty pattern matches only the empty name (a service-level series)."""
    globs = [p.strip().lower() for p in pattern.split(",")]
    return lambda name: any(fnmatchcase(name.lower(), g) for g in globs)


def match_names(pattern: str | None, names: Iterable[str], field: str) -> list[str] | None:
    """The `names` that `pattern` selects (None: no filter); none at all is an input error
    that suggests the closest names, so an LLM can correct a misspelt service."""
    if pattern is None:
        return None
    known = sorted(set(names))
    matches = [n for n in known if name_matcher(pattern)(n)]
    if not matches:
        raise ToolInputError(field, f"nothing matches '{pattern}'; {_suggest(pattern, known)}")
    return matches


def require_name(name: str, names: Iterable[str], field: str) -> str:
    """`name` itself if it is one of `names`, else an input error suggesting close ones."""
    known = sorted(set(names))
    if name not in known:
        raise ToolInputError(field, f"unknown name '{name}'; {_suggest(name, known)}")
    return name


def _suggest(text: str, known: list[str]) -> str:
    close = difflib.get_close_matches(text, known, n=5, cutoff=0.5)
    return f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(known[:30])}"


def pattern_help(what: str) -> str:
    """The description of a name-pattern argument, shared so every tool explains globs alike."""
    return (
        f"{what} name, or glob pattern like 'pay*'; several separated by commas."
        " Case-insensitive. Default: all."
    )
