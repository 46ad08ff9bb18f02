"""Business days: the retrospective's deadline skips weekends and the policy's holidays."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from agent.policy.models import WEEKDAYS, Weekday


def business_days_after(
    start: date, days: int, working: Collection[Weekday], holidays: Collection[date]
) -> date:
    """The `days`-th working day after `start` (`start` itself does not count)."""
    if not working:
        raise ValueError("no working days to count")
    found, day = 0, start
    while found < days:
        day += timedelta(days=1)
        if WEEKDAYS[day.weekday()] in working and day not in holidays:
            found += 1
    return day
