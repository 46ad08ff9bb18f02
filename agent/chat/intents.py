"""What a responder is asking, in English or Japanese, however it is phrased: offline.

A chat line is matched to example questions (intents.yaml) by the incident
memory's own hybrid search: the multilingual sentence encoder for meaning (so
「決済の原因は何ですか？」 lands on "what is the root cause?") fused with BM25 over
English and Japanese words (knowledge.lexical), the closest intent first. How
close it came decides what happens: close enough, it is answered; nearer one
intent than anything else but not close, it is answered as that intent and the
reply says so; far from everything, the reply says what it can answer.

The service, team and time span are entities: services and teams are the known
names (catalogue names, aliases, public and display names in both languages),
found in the text and masked before matching so that a name never decides the
kind of question; spans like "last 2 hours", "15m" or 「直近30分」 set the time.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import yaml

from agent.draft.models import DraftKind, Language
from knowledge.embeddings import MultilingualEmbedding
from knowledge.lexical import LexicalIndex, fuse, terms

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
EXAMPLES = Path(__file__).with_name("intents.yaml")
SURE = 0.55  # cosine of the nearest example: answered as asked
CLOSEST = 0.40  # below SURE: answered as the closest intent, saying so; below this: unknown
SERVICE, TEAM = "SERVICE", "TEAM"
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
    """A question's kind, how sure the match is, and its subject."""

    name: IntentName
    language: Language
    service: str | None = None
    team: str | None = None
    minutes: int | None = None
    closeness: float = 1.0
    sure: bool = True
    problem: str | None = None  # why the line could not be matched (the model did not load)

    @property
    def draft_kind(self) -> DraftKind | None:
        return DRAFT_KINDS.get(self.name)


def language_of(text: str) -> Language:
    return "ja" if _JAPANESE.search(text) else "en"


class IntentMatcher:
    """The example questions, embedded and indexed once per process."""

    def __init__(self, examples: Mapping[str, list[str]]) -> None:
        unknown = set(examples) - set(get_args(IntentName))
        if unknown:
            raise ValueError(f"{EXAMPLES}: unknown intents {sorted(unknown)}")
        self.intents = [name for name, texts in examples.items() for _ in texts]
        texts = [_neutral(t) for ts in examples.values() for t in ts]
        self.embedding = MultilingualEmbedding()
        self.vectors = np.asarray(self.embedding(texts), dtype=np.float32)
        ids = [str(i) for i in range(len(texts))]
        self.words = LexicalIndex(ids, [terms(t) for t in texts], [0.0] * len(texts))
        self.lock = threading.Lock()

    def nearest(self, text: str) -> tuple[IntentName, float]:
        """The closest intent (meaning and words fused) and its nearest example's cosine."""
        with self.lock:
            vector = np.asarray(self.embedding([_neutral(text)])[0], dtype=np.float32)
        cosines = self.vectors @ vector
        scores = self.words.scores(terms(_neutral(text)))
        meaning: dict[str, float] = {}
        words: dict[str, float] = {}
        for name, cosine, score in zip(self.intents, cosines, scores, strict=True):
            meaning[name] = max(meaning.get(name, -1.0), float(cosine))
            words[name] = max(words.get(name, 0.0), float(score))
        fused = fuse(meaning, words)
        best = max(fused, key=lambda name: (fused[name], meaning[name]))
        return best, meaning[best]  # type: ignore[return-value]


@cache
def matcher() -> IntentMatcher:
    return IntentMatcher(yaml.safe_load(EXAMPLES.read_text(encoding="utf-8")))


def match_intent(
    text: str, services: Mapping[str, str] | None = None, teams: Mapping[str, str] | None = None
) -> Intent:
    """The intent of `text`, with the service and team it names (`services` and `teams`
    map every known name, alias or display name to the canonical name)."""
    service, masked = find_name(text, services or {}, SERVICE)
    team, masked = find_name(masked, teams or {}, TEAM)
    name, closeness = matcher().nearest(masked)
    if closeness < CLOSEST:
        name = "unknown"
    return Intent(
        name=name,
        language=language_of(text),
        service=service,
        team=team,
        minutes=span_minutes(text) or DEFAULT_MINUTES.get(name),
        closeness=round(closeness, 3),
        sure=closeness >= SURE or name == "unknown",
    )


def find_name(text: str, names: Mapping[str, str], mask: str) -> tuple[str | None, str]:
    """The canonical name of the longest known name written in `text` (Latin names as whole
    words; Japanese ones anywhere), and `text` with that mention replaced by `mask`."""
    found = [(alias, canonical) for alias, canonical in names.items() if _mention(alias, text)]
    if not found:
        return None, text
    alias, canonical = max(found, key=lambda pair: len(pair[0]))
    return canonical, _mention(alias, text).sub(mask, text, count=1)  # type: ignore[union-attr]


def _mention(alias: str, text: str) -> re.Pattern[str] | None:
    if not alias:
        return None
    if _JAPANESE.search(alias):
        pattern = re.compile(re.escape(alias), re.IGNORECASE)
    else:
        pattern = re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(alias)}(?![A-Za-z0-9_-])", re.I)
    return pattern if pattern.search(text) else None


def _neutral(text: str) -> str:
    """Placeholders read as plain words, so an example and a masked question agree."""
    return text.replace(SERVICE, "service").replace(TEAM, "team")


def span_minutes(text: str) -> int | None:
    """'last 2 hours', '15m', '直近30分' in minutes; None when the text names no span."""
    match = _SPAN.search(text)
    if match:
        unit = match["unit"].lower()[0]
        return max(1, round(float(match["n"]) * _UNIT_MIN.get(unit, 1)))
    return next((minutes for pattern, minutes in _WORD_SPANS if pattern.search(text)), None)
