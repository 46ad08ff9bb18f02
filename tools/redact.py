"""Masking secrets and personal data before text leaves the telemetry store.

Log lines and change summaries go into LLM prompts, drafts and pages. Whatever
a service logged by mistake (a bearer token, a password in a DSN, a vendor's API
token, a customer's e-mail, phone or card number) must not travel further. Each
rule keeps enough context to read the line ("password=<REDACTED>") and masking
is idempotent, so text can be redacted twice without harm. IP addresses are kept by default: they
help triage and are rarely personal in a service estate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SECRET_KEYS = (
    r"pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|client[_-]?secret|credentials?|session[_-]?id|cookie"
)
_CARD_PREFIX = re.compile(r"4|5[1-5]|2[2-7]|3[47]|6011|65")


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of sensitive text: a pattern and what replaces each match."""

    name: str
    pattern: re.Pattern[str]
    replace: str | Callable[[re.Match[str]], str]


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    """Only digit runs that are plausible card numbers (issuer prefix and Luhn) are cards;
    order ids and epoch-millisecond timestamps are not."""
    digits = re.sub(r"\D", "", match.group(0))
    if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and _luhn_ok(digits):
        return "<CARD>"
    return match.group(0)


def _mask_phone(match: re.Match[str]) -> str:
    """A domestic number has 10 or 11 digits (03-1234-5678, 090-1234-5678), an
    international one 8 to 15 (E.164); other digit groups (ids, versions) stay."""
    digits = re.sub(r"\D", "", match.group(0))
    plausible = (
        8 <= len(digits) <= 15 if match.group(0).startswith("+") else len(digits) in (10, 11)
    )
    return "<PHONE>" if plausible else match.group(0)


PRIVATE_KEY = Rule(
    "private_key",
    re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
    ),
    "<PRIVATE_KEY>",
)
URL_PASSWORD = Rule(
    "url_password",
    # The user may be empty: redis://:password@host is how Redis and others are configured.
    re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+@"),
    r"\1<REDACTED>@",
)
BEARER = Rule(
    "bearer_token",
    re.compile(r"(\bBearer\s+|\bAuthorization:\s*Basic\s+)(?!<)[A-Za-z0-9\-._~+/]{8,}=*", re.I),
    r"\1<TOKEN>",
)
JWT = Rule("jwt", re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+"), "<JWT>")
# Tokens that name their vendor by prefix are secrets wherever they stand, with no
# "key=" before them (a log line, or a responder typing "token sk_live_..."): Stripe
# secret and restricted keys, Slack, GitHub, GitLab, Google API, OpenAI/Anthropic keys.
VENDOR_TOKEN = Rule(
    "vendor_token",
    re.compile(
        r"\b(?:[sr]k_(?:live|test)_[A-Za-z0-9]{8,}|xox[abposr]-[A-Za-z0-9\-]{10,}"
        r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|glpat-[\w\-]{20,}|AIza[\w\-]{35}"
        r"|sk-(?:proj-|ant-)?[\w\-]{32,})"
    ),
    "<TOKEN>",
)
AWS_KEY = Rule("aws_access_key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "<AWS_KEY>")
KEY_VALUE = Rule(
    "secret_value",
    re.compile(
        rf"(\b[\w.\-]*(?:{_SECRET_KEYS})[\"']?\s*[=:]\s*[\"']?)(?!<)[^\s\"',;&}}\]]+",
        re.I,
    ),
    r"\1<REDACTED>",
)
EMAIL = Rule("email", re.compile(r"\b[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+\b"), "<EMAIL>")
CARD = Rule("card_number", re.compile(r"\b\d(?:[ \-]?\d){12,18}\b"), _mask_card)
# A field that says it holds a phone number is one, however it is written (09012345678).
PHONE_FIELD = Rule(
    "phone_field",
    re.compile(
        r"((?<![A-Za-z])(?:phone|telephone|tel|mobile|msisdn|cell(?:phone)?)(?:[_-]?(?:number|no))?"
        r"[\"']?\s*[=:]\s*[\"']?)\+?[\d(][\d ()\-]{6,18}\d",
        re.I,
    ),
    r"\1<PHONE>",
)
# Elsewhere, written as people write them, with separators: a leading 0 (domestic) or +
# (international); or E.164 as APIs log it (+819012345678); never inside a longer ASCII
# token (a UUID's digit groups, a dotted version); Japanese text may touch it on either side.
PHONE = Rule(
    "phone",
    re.compile(
        r"(?<![0-9A-Za-z_\-+.])(?:\+\d{1,3}[ \-]?(?:\(\d{1,4}\)|\d{1,4})(?:[ \-]\d{2,4}){1,3}"
        r"|\+\d{8,15}|0\d{1,4}-\d{1,4}-\d{3,4})(?![0-9A-Za-z_\-]|\.\d)"
    ),
    _mask_phone,
)
IPV4 = Rule("ip", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), "<IP>")

# Order matters: whole structures (keys, URLs, tokens) go before the generic
# key=value rule, so each secret is named by the most specific rule.
DEFAULT_RULES: tuple[Rule, ...] = (
    PRIVATE_KEY,
    URL_PASSWORD,
    BEARER,
    JWT,
    VENDOR_TOKEN,
    AWS_KEY,
    KEY_VALUE,
    EMAIL,
    CARD,
    PHONE_FIELD,
    PHONE,
)


def rules(*, ips: bool = False) -> tuple[Rule, ...]:
    """The default rules, plus IP address masking when asked for."""
    return (*DEFAULT_RULES, IPV4) if ips else DEFAULT_RULES


def redact_counted(text: str, active: tuple[Rule, ...] = DEFAULT_RULES) -> tuple[str, int]:
    """`text` with every sensitive span masked, and how many spans were masked."""
    masked = 0
    for rule in active:
        text, n = _apply(rule, text)
        masked += n
    return text, masked


def _apply(rule: Rule, text: str) -> tuple[str, int]:
    if isinstance(rule.replace, str):
        return rule.pattern.subn(rule.replace, text)
    result = rule.pattern.sub(rule.replace, text)
    changed = sum(1 for m in rule.pattern.finditer(text) if rule.replace(m) != m.group(0))
    return result, changed


def redact(text: str, active: tuple[Rule, ...] = DEFAULT_RULES) -> str:
    """`text` with every sensitive span masked."""
    return redact_counted(text, active)[0]


def redact_data(value: Any, active: tuple[Rule, ...] = DEFAULT_RULES) -> Any:
    """Every string inside a JSON-like value (dicts, lists) redacted; keys are kept."""
    if isinstance(value, str):
        return redact(value, active)
    if isinstance(value, dict):
        return {k: redact_data(v, active) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v, active) for v in value]
    return value
