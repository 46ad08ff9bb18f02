"""Severity levels in order: SEV1 is the most severe.

Compared by rank rather than by string, so "at least SEV2" reads the way
responders say it (SEV1 and SEV2 both qualify).
"""

from __future__ import annotations

from tools.telemetry.replay.format import Severity

SEVERITIES: tuple[Severity, ...] = ("SEV1", "SEV2", "SEV3", "SEV4")


def rank(level: Severity) -> int:
    """1 for SEV1 (most severe) .. 4 for SEV4."""
    return SEVERITIES.index(level) + 1


def at_least(level: Severity, threshold: Severity) -> bool:
    """True when `level` is as severe as `threshold` or more (SEV1 >= SEV2)."""
    return rank(level) <= rank(threshold)
