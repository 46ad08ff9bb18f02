"""Telling actions, decisions and needs apart from questions in a chat line.

`/action`, `/decision`, `/need` (and their Japanese 対応/決定/要請) are explicit,
and so are the timeline's prefixes ("Need:", "決定：", "対応：").
Otherwise a few phrasings are recognised: "rolled back payment to v2.3" is an
action, "decided to fail over" a decision, "need DBA help" a need. A question
is never a note. The note's text is what the responder wrote, prefix removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.draft.context import NoteKind
from agent.draft.from_incident import NOTE_PREFIXES

COMMANDS: dict[str, NoteKind] = {
    "/action": "action",
    "/did": "action",
    "/対応": "action",
    "/decision": "decision",
    "/decide": "decision",
    "/決定": "decision",
    "/need": "need",
    "/needs": "need",
    "/要請": "need",
}
_QUESTION = re.compile(
    r"[?？]\s*$|^(what|why|who|how|when|where|which|is|are|can|could|show|tell|list|write"
    r"|draft|give)\b|(ですか|ますか|でしょうか|教えて|見せて|書いて)",
    re.IGNORECASE,
)
PHRASES: tuple[tuple[NoteKind, re.Pattern[str]], ...] = (
    (
        "need",
        re.compile(
            r"^(we |i )?(still )?(need|needs|require|request(ing)?)\b"
            r"|\bneed(s|ed)? (\w+ ){0,3}help\b"
            r"|(が|を)?(必要|欲しい|ほしい|求む)|支援(を)?(お願い|依頼|要請)|お願いします",
            re.IGNORECASE,
        ),
    ),
    (
        "decision",
        re.compile(
            r"^(we |i )?(have )?(decided|agreed|chose|will|'ll|are going to)\b|\bdecision\b"
            r"|することに(した|しました|決定)|決定(した|しました)|決めました|方針",
            re.IGNORECASE,
        ),
    ),
    (
        "action",
        re.compile(
            r"^(we |i )?(have |just )?(rolled|roll(ed)? back|restarted|reverted|scaled|deployed"
            r"|failed over|disabled|enabled|drained|flushed|killed|bumped|raised|lowered|applied"
            r"|paused|resumed|mitigated|blocked|patched|purged|cordoned|increased|decreased)\b"
            r"|(ロールバック|再起動|切り戻|切り替え|スケール|無効化|有効化|適用|停止|復旧)"
            r"(しました|した|済み|完了)",
            re.IGNORECASE,
        ),
    ),
)


@dataclass(frozen=True)
class Note:
    kind: NoteKind
    text: str


def recognise_note(line: str) -> Note | None:
    """The action, decision or need `line` states, or None for anything else."""
    text = line.strip()
    command, _, rest = text.partition(" ")
    if command.lower() in COMMANDS:
        return Note(COMMANDS[command.lower()], rest.strip()) if rest.strip() else None
    prefixed = next((p for p in NOTE_PREFIXES if text.lower().startswith(p)), None)
    if prefixed is not None:
        rest = text[len(prefixed) :].strip()
        return Note(NOTE_PREFIXES[prefixed], rest) if rest else None
    if not text or _QUESTION.search(text):
        return None
    return next((Note(kind, text) for kind, pattern in PHRASES if pattern.search(text)), None)
