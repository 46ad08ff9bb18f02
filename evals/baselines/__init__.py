"""Reference rankers the engine is held against, run on the same cases and window.

Every baseline sees the case the way the engine does (a backend bound to the
case's clock) and the same evidence window: the last `WINDOW` before `now`,
split into normal and anomalous at the alert's start. BARO and NSigma are the
published implementations from RCAEval; random and most-errors are floors a
useful engine must clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from evals.models import RankedSuspect
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.models import TimeWindow

WINDOW = timedelta(minutes=60)


def evidence_window(now: datetime) -> TimeWindow:
    """[now - WINDOW, now]: what every baseline may look at."""
    return TimeWindow(start=now - WINDOW, end=now)


@dataclass(frozen=True)
class BaselineOutput:
    ranking: list[RankedSuspect]
    verdict: str


class Baseline(Protocol):
    """A ranker of services for one case."""

    name: str

    def rank(self, backend: TelemetryBackend, alert_at: datetime, case_id: str) -> BaselineOutput:
        """Rank the services of `backend` for a fault alerted at `alert_at`."""
        ...


def load_baselines() -> tuple[list[Baseline], list[str]]:
    """Every baseline that can run here, and a note for each that cannot.

    BARO and NSigma need RCAEval (`python -m evals.baselines.install`); without it
    the run goes on with the simple baselines and says why the others are missing.
    """
    from evals.baselines.baro import BaroBaseline
    from evals.baselines.nsigma import NSigmaBaseline
    from evals.baselines.rcaeval_runner import rcaeval_problem
    from evals.baselines.simple import MostErrorsBaseline, RandomBaseline

    baselines: list[Baseline] = []
    notes: list[str] = []
    problem = rcaeval_problem()
    if problem is None:
        baselines += [BaroBaseline(), NSigmaBaseline()]
    else:
        notes.append(
            f"BARO and NSigma skipped: RCAEval is not importable ({problem}); "
            "run `python -m evals.baselines.install`"
        )
    baselines += [RandomBaseline(), MostErrorsBaseline()]
    return baselines, notes
