"""Shared helpers for the alert intake tests: the provider-shaped fixture payloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"


def read_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def load() -> Callable[[str], Any]:
    """A fresh copy of tests/fixtures/alerts/<name>, safe to mutate."""
    return read_fixture
