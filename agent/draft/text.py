"""Text helpers every draft kind shares: untrusted text, lists, times and size bounds."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from agent.draft.models import Language
from tools.bounds import ellipsize
from tools.redact import redact

MAX_TITLE = 120
MAX_BODY = 4000
MAX_ITEM = 300
MAX_NAME = 80
MAX_UNTRUSTED_INPUT = 65536

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_SPACE = re.compile(r"\s+")
_MASS_MENTION = re.compile(
    r"<!(here|channel|everyone)(?:\|[^>]*)?>|@(here|channel|everyone)\b", re.I
)


def clip_lines(text: str, limit: int, marker: str) -> str:
    """`text` cut at a line boundary so it fits `limit` with `marker` appended when cut."""
    if len(text) <= limit:
        return text
    room = max(limit - len(marker) - 1, 0)
    head = text[:room]
    cut = head.rfind("\n")
    return (head[:cut] if cut > 0 else head).rstrip() + "\n" + marker


def one_line(text: str, limit: int = MAX_ITEM) -> str:
    """One bounded line: a newline inside a value must not start a fake section of a draft."""
    return ellipsize(_SPACE.sub(" ", _CONTROL.sub(" ", text)).strip(), limit)


def untrusted(text: str, limit: int = MAX_ITEM) -> str:
    """Text from telemetry, alerts or chat, made fit to quote in an internal draft.

    Secrets and personal data are masked before the text is cut to size, so a cut
    never leaves part of a secret unmasked (only input beyond MAX_UNTRUSTED_INPUT,
    far past anything shown, is dropped unread). Mass mentions are defused and the
    result is one bounded line. The text is only ever quoted, never acted on.
    """
    masked = redact(text[:MAX_UNTRUSTED_INPUT])
    defused = _MASS_MENTION.sub(lambda m: f"[{(m.group(1) or m.group(2)).lower()}]", masked)
    return one_line(defused, limit)


def join_list(items: Sequence[str], sep: str, last: str) -> str:
    """'a, b and c' in English, 'a、b、c' in Japanese (the separators come from the phrases)."""
    if len(items) <= 1:
        return "".join(items)
    return sep.join(items[:-1]) + last + items[-1]


SHOWN_MAX = 0.99


def shown(confidence: float) -> float:
    """A confidence as people may read it: never certain, since no analysis is."""
    return min(max(confidence, 0.0), SHOWN_MAX)


def percent(confidence: float) -> str:
    """'87%', never '100%' (see `shown`)."""
    return f"{round(shown(confidence) * 100)}%"


def ja_date(local: datetime) -> str:
    """A date as Japanese readers write it: '2026年11月26日'."""
    return f"{local.year}年{local.month}月{local.day}日"


def format_time(at: datetime, language: Language, tz: ZoneInfo) -> str:
    """Japanese: local date and time ('2026年11月26日 15:30 (JST)').
    English: UTC with the local time beside it ('2026-11-26 06:30 UTC (15:30 JST)')."""
    local = at.astimezone(tz)
    if language == "ja":
        return f"{ja_date(local)} {local:%H:%M} ({local.tzname()})"
    utc = at.astimezone(UTC)
    text = f"{utc:%Y-%m-%d %H:%M} UTC"
    if local.utcoffset() == timedelta(0):
        return text
    shown = f"{local:%H:%M}" if local.date() == utc.date() else f"{local:%Y-%m-%d %H:%M}"
    return f"{text} ({shown} {local.tzname()})"


def format_clock(at: datetime, language: Language, tz: ZoneInfo) -> str:
    """A short time of day for timeline lines: local in Japanese, UTC in English."""
    if language == "ja":
        return f"{at.astimezone(tz):%H:%M}"
    return f"{at.astimezone(UTC):%H:%M} UTC"
