"""Warnings for drafts meant for people outside the response: internals that slipped in.

`check_external` looks for what must not reach customers, media or executives:
internal service names, hostnames and pod-like names, IP addresses, metric-like
tokens, confidence percentages, evidence ids and redaction markers (a sign that
telemetry text was pasted in). It returns warnings for a human approver; it
neither blocks nor edits. It checks any draft it is given, so running it on an
internal draft (the responder update) lists exactly the internals that draft
shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from agent.draft.models import Audience, Draft

OUTSIDE_AUDIENCES: frozenset[Audience] = frozenset(
    {"customers", "stakeholders", "executives", "media"}
)

_A = re.ASCII
_EDGE_L = r"(?<![A-Za-z0-9_\-.])"
_EDGE_R = r"(?![A-Za-z0-9_\-]|\.[A-Za-z0-9])"
_CONFIDENCE_WORDS = (
    r"confiden\w*|probab\w*|likel\w*|certain\w*|suspect\w*|確度|信頼度|確率|可能性|疑い|推定"
)
_PERCENT = r"\d{1,3}(?:\.\d+)?\s*[%％]"

CHECKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("IP address", re.compile(rf"{_EDGE_L}(?:\d{{1,3}}\.){{3}}\d{{1,3}}{_EDGE_R}", _A)),
    (
        "IP address",
        re.compile(
            r"(?<![\w:])(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?", _A | re.I
        ),
    ),
    ("URL", re.compile(r"\b(?:https?|wss?)://[^\s)>\]」）]+", _A | re.I)),
    (
        "hostname",
        re.compile(
            rf"{_EDGE_L}(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]{_EDGE_R}",
            _A | re.I,
        ),
    ),
    ("pod-like name", re.compile(rf"{_EDGE_L}[a-z][a-z0-9]*(?:-[a-z0-9]+)*-\d+{_EDGE_R}", _A)),
    (
        "pod-like name",
        re.compile(
            rf"{_EDGE_L}[a-z][a-z0-9]*(?:-[a-z0-9]+)*-[a-z0-9]{{5,10}}-[a-z0-9]{{5}}{_EDGE_R}", _A
        ),
    ),
    ("instance id", re.compile(rf"{_EDGE_L}i-[0-9a-f]{{8,17}}{_EDGE_R}", _A)),
    (
        "metric-like token",
        re.compile(rf"{_EDGE_L}[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+{_EDGE_R}", _A),
    ),
    ("metric selector", re.compile(r"\b\w+\{[^}\n]*\}", _A)),
    ("evidence id", re.compile(rf"{_EDGE_L}ev-[a-z]+-[0-9a-f]{{6,}}{_EDGE_R}", _A)),
    ("redaction marker", re.compile(r"<(?:REDACTED|TOKEN|JWT|AWS_KEY|EMAIL|CARD|PRIVATE_KEY|IP)>")),
    (
        "confidence percentage",
        re.compile(
            rf"(?:{_CONFIDENCE_WORDS})[^\n]{{0,40}}?{_PERCENT}|{_PERCENT}[^\n]{{0,40}}?(?:{_CONFIDENCE_WORDS})"
            r"|confiden\w*\s*[:=]?\s*0?\.\d+",
            re.I,
        ),
    ),
)


# Blanks a template can leave unfilled: <war-room-url>, ${next_update}, [TBD].
PLACEHOLDER = re.compile(r"<[a-z]+(?:-[a-z]+)+>|\$\{[a-z_]+\}|\[(?:TBD|TODO|FIXME)\]")


def unfilled(draft: Draft, body: str | None = None) -> list[str]:
    """Placeholders left in the body (`body` stands in for an edit being approved).
    A draft with one cannot be approved: the approver fills it in with an edit."""
    text = draft.body if body is None else body
    return list(dict.fromkeys(m.group(0) for m in PLACEHOLDER.finditer(text)))


def is_outside(draft: Draft) -> bool:
    """Whether the draft's audience is outside the response team (the lint applies)."""
    return draft.audience in OUTSIDE_AUDIENCES


def check_external(
    draft: Draft, internal_names: Iterable[str], *, allowed: Iterable[str] = ()
) -> list[str]:
    """Warnings, one per distinct finding, e.g. "internal service name 'checkout' in body".

    `allowed` are terms outside drafts may use even if they look internal (public
    service names, the organisation, the status page URL: `DraftContext.public_terms()`);
    the draft's own incident id is always allowed.
    """
    keep = sorted({t for t in [*allowed, draft.incident_id] if t}, key=len, reverse=True)
    names = [n for n in dict.fromkeys(internal_names) if len(n) >= 2]
    warnings: dict[str, None] = {}
    for where, raw in _texts(draft):
        text = _blank(raw, keep)
        for name in names:
            if _name_pattern(name).search(text):
                warnings[f"internal service name {name!r} in {where}"] = None
        for what, pattern in CHECKS:
            for match in pattern.finditer(text):
                warnings[f"{what} {match.group(0).strip()!r} in {where}"] = None
    return list(warnings)


def _texts(draft: Draft) -> Iterator[tuple[str, str]]:
    yield "title", draft.title
    yield "body", draft.body
    yield from _strings(draft.payload, "payload")


def _strings(value: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}[{i}]")


def _blank(text: str, allowed: list[str]) -> str:
    """Allowed terms replaced by spaces, longest first, so nothing inside them is flagged."""
    for term in allowed:
        text = re.sub(re.escape(term), " ", text, flags=re.I)
    return text


def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_\-.]){re.escape(name)}(?![A-Za-z0-9_\-])", re.I)
