"""One module per alert source, each exporting `SOURCE`; `agent.alert.parse` dispatches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent.alert.models import Alert
from tools.telemetry.replay.format import AlertSource


@dataclass(frozen=True)
class Source:
    """How to recognise one source's payload and parse it."""

    name: AlertSource
    shape: str  # what `looks_like` checks, quoted in the unknown-shape error
    looks_like: Callable[[object], bool]
    parse: Callable[[object], list[Alert]]
