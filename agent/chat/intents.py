"""What a responder is asking, in English or Japanese, by keyword: no model needed.

Patterns are tried in order; the first that matches wins. Drafting requests
come first because they contain words ("update", "summary") other intents use.
The service, team and time span are pulled out of the same text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from agent.draft.models import DraftKind, Language

IntentName = Literal[
    "help",
    "customer_update",
    "exec_summary",
    "responder_update",
    "oncall",
    "changes",
    "why",
    "errors",
    "metrics",
    "status",
    "unknown",
]


def _rule(name: IntentName, pattern: str) -> tuple[IntentName, re.Pattern[str]]:
    return name, re.compile(pattern, re.IGNORECASE)


PATTERNS: tuple[tuple[IntentName, re.Pattern[str]], ...] = (
    _rule("help", r"^\s*(/?help|\?)\s*$|何ができ|ヘルプ|使い方"),
    _rule(
        "customer_update",
        r"customer|status[- ]?page|status update|public update|顧客|お客様|ステータスページ",
    ),
    _rule("exec_summary", r"exec|leadership|management summary|経営|役員|エグゼクティブ"),
    _rule("responder_update", r"responder update|team update|sitrep|対応状況|レスポンダー"),
    _rule(
        "oncall",
        r"on[- ]?call|who(?:'s| is)? (?:paged|in charge)|\bic\b|当番|オンコール|担当者|指揮",
    ),
    _rule("changes", r"chang|deploy|roll(?:ed)? ?out|release|変更|変わ|デプロイ|リリース"),
    _rule("why", r"\bwhy\b|reason|evidence|suspect|なぜ|どうして|根拠|疑"),
    _rule("errors", r"error|exception|\blogs?\b|fail|エラー|ログ|例外|失敗"),
    _rule("metrics", r"metric|latency|\bcpu\b|memory|graph|メトリクス|レイテンシ|遅延|メモリ"),
    _rule("status", r"status|summary|where are we|what'?s (?:going on|happening)|状況|概要|サマリ"),
)
DRAFT_KINDS: dict[IntentName, DraftKind] = {
    "customer_update": "status_update",
    "exec_summary": "exec_summary",
    "responder_update": "responder_update",
}
DEFAULT_MINUTES: dict[IntentName, int] = {"changes": 60, "errors": 30, "metrics": 30}
_SPAN = re.compile(
    r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>minutes?|mins?|m\b|hours?|hrs?|h\b|days?|d\b|分|時間|日)",
    re.IGNORECASE,
)
_UNIT_MIN = {"m": 1, "分": 1, "h": 60, "時": 60, "d": 1440, "日": 1440}
_WORD_SPANS = (
    (re.compile(r"(last|past|this) hour|1時間|一時間", re.IGNORECASE), 60),
    (re.compile(r"(last|past) day|today|24 ?h|今日|一日", re.IGNORECASE), 1440),
)
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@dataclass(frozen=True)
class Intent:
    """A question's kind and its subject."""

    name: IntentName
    language: Language
    service: str | None = None
    team: str | None = None
    minutes: int | None = None

    @property
    def draft_kind(self) -> DraftKind | None:
        return DRAFT_KINDS.get(self.name)


def language_of(text: str) -> Language:
    return "ja" if _JAPANESE.search(text) else "en"


def match_intent(text: str, services: Iterable[str] = (), teams: Iterable[str] = ()) -> Intent:
    """The intent of `text`, with the service and team it names (from the known names)."""
    name: IntentName = next((n for n, pattern in PATTERNS if pattern.search(text)), "unknown")
    return Intent(
        name=name,
        language=language_of(text),
        service=find_name(text, services),
        team=find_name(text, teams),
        minutes=span_minutes(text) or DEFAULT_MINUTES.get(name),
    )


def find_name(text: str, names: Iterable[str]) -> str | None:
    """The longest of `names` written in `text` as a whole word (Japanese may touch it)."""
    found = [
        name
        for name in names
        if name and re.search(rf"(?<![A-Za-z0-9_-]){re.escape(name)}(?![A-Za-z0-9_-])", text, re.I)
    ]
    return max(found, key=len) if found else None


def span_minutes(text: str) -> int | None:
    """'last 2 hours', '15m', '直近30分' in minutes; None when the text names no span."""
    match = _SPAN.search(text)
    if match:
        unit = match["unit"].lower()[0]
        return max(1, round(float(match["n"]) * _UNIT_MIN.get(unit, 1)))
    return next((minutes for pattern, minutes in _WORD_SPANS if pattern.search(text)), None)
