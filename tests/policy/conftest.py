"""Shared helpers for the policy tests: the example policy and variants of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agent.policy import Policy, default_policy, parse_policy

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "policy.example.yaml"
JST = timezone(timedelta(hours=9), "JST")


def jst(text: str) -> datetime:
    """'2026-10-01 10:00' as Tokyo time."""
    return datetime.fromisoformat(text).replace(tzinfo=JST)


def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def variant(*edits: tuple[str, str]) -> str:
    """The example's text with each `(old, new)` replaced once; `old` must occur."""
    text = example_text()
    for old, new in edits:
        assert old in text, f"not in the example: {old!r}"
        text = text.replace(old, new, 1)
    return text


@pytest.fixture
def policy() -> Policy:
    return default_policy()


@pytest.fixture
def policy_with() -> Callable[..., Policy]:
    """A policy from the example with `(old, new)` text edits applied."""

    def build(*edits: tuple[str, str]) -> Policy:
        return parse_policy(variant(*edits), "variant.yaml")

    return build
