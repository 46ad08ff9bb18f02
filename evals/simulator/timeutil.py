"""Timestamps as replay/1 writes them: UTC, RFC 3339 with a Z."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

MINUTE = 60.0


@lru_cache(maxsize=4096)
def _minute_prefix(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, tz=UTC).strftime("%Y-%m-%dT%H:%M:")


def iso(epoch_s: float, digits: int = 0) -> str:
    """`2026-05-11T03:12:45Z`, or with `digits` of fractional seconds."""
    micros = round(float(epoch_s) * 1_000_000)
    whole, frac = divmod(micros, 1_000_000)
    minute, second = divmod(whole, 60)
    text = f"{_minute_prefix(minute)}{second:02d}"
    if digits > 0:
        text += "." + f"{frac:06d}"[:digits]
    return text + "Z"


def epoch(ts: datetime) -> float:
    return ts.replace(tzinfo=ts.tzinfo or UTC).timestamp()


def utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=UTC)


def day_of(epoch_s: float) -> str:
    """The UTC day a sample falls on: the partition it is written to."""
    return _day(int(epoch_s // 86400))


@lru_cache(maxsize=1024)
def _day(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, tz=UTC).strftime("%Y-%m-%d")
