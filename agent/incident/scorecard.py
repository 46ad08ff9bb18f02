"""The engine's record on confirmed causes: was its top suspect right, and was its
confidence worth what it said?

At resolution the confirmed cause is stored beside the engine's ranking
(`engine_record`); `scorecard` reads those records back across incidents.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from statistics import fmean, median

from pydantic import BaseModel, Field

from agent.incident.lifecycle import lifecycle
from agent.incident.models import EngineRecord, Incident, RootCause
from agent.incident.store import IncidentStore
from agent.isolation.models import Isolation

RANKING = 5
BINS = 5
SCORED = 100_000  # the most recent incidents a scorecard reads


def engine_record(isolation: Isolation | None, cause: RootCause) -> EngineRecord | None:
    """Where the engine had the confirmed service, or None when it ranked nothing."""
    if isolation is None or not isolation.hypotheses:
        return None
    services = list(dict.fromkeys(h.service for h in isolation.hypotheses))
    top = isolation.hypotheses[0]
    return EngineRecord(
        engine=isolation.engine,
        ranking=services[:RANKING],
        top_confidence=top.confidence,
        rank=services.index(cause.service) + 1 if cause.service in services else None,
        fault_type_match=top.service == cause.service and top.fault_type == cause.fault_type,
    )


class Durations(BaseModel):
    """How long a stage took from the trigger, over the incidents that reached it."""

    count: int = 0
    median_s: float | None = None
    p90_s: float | None = None


class CalibrationBin(BaseModel):
    """Top-1 confidences in [low, high): how often the top suspect was the confirmed cause."""

    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float


class EngineScore(BaseModel):
    """The engine's record on the incidents whose cause a responder confirmed."""

    confirmed: int = Field(0, description="Resolved incidents with a ranking to judge.")
    top1: float | None = Field(None, description="Share whose top suspect was the cause.")
    top3: float | None = Field(None, description="Share with the cause among the first three.")
    fault_type_top1: float | None = Field(None, description="Top suspect and its fault type right.")
    brier: float | None = Field(None, description="Mean squared error of the top-1 confidence.")
    calibration_error: float | None = Field(
        None, description="Expected calibration error of the top-1 confidence (bins weighted)."
    )
    calibration: list[CalibrationBin] = Field(default_factory=list)


class Scorecard(BaseModel):
    """Incidents since a date: how many, how fast they were handled, how right the engine was."""

    since: datetime | None = None
    incidents: int
    by_severity: dict[str, int]
    by_team: dict[str, int]
    by_stage: dict[str, int]
    time_to_acknowledge: Durations
    time_to_mitigate: Durations
    time_to_resolve: Durations
    engine: EngineScore


def stored_scorecard(store: IncidentStore, since: datetime | None = None) -> Scorecard:
    """The scorecard of the most recent `SCORED` stored incidents opened since `since`:
    what `triage stats`, /v1/stats and the overview page show."""
    return scorecard(store.recent(limit=SCORED), since)


def scorecard(incidents: Sequence[Incident], since: datetime | None = None) -> Scorecard:
    """The scorecard of `incidents` opened at or after `since`."""
    chosen = [i for i in incidents if since is None or i.opened_at >= since]
    lives = [lifecycle(i) for i in chosen]
    return Scorecard(
        since=since,
        incidents=len(chosen),
        by_severity=_count(i.severity.level if i.severity else "none" for i in chosen),
        by_team=_count(i.routing.page_team if i.routing else "none" for i in chosen),
        by_stage=_count(life.stage for life in lives),
        time_to_acknowledge=_durations([x.time_to_acknowledge_s for x in lives]),
        time_to_mitigate=_durations([x.time_to_mitigate_s for x in lives]),
        time_to_resolve=_durations([x.time_to_resolve_s for x in lives]),
        engine=engine_score([i.root_cause.engine for i in chosen if i.root_cause]),
    )


def engine_score(records: Sequence[EngineRecord | None]) -> EngineScore:
    judged = [r for r in records if r is not None]
    if not judged:
        return EngineScore()
    hits = [r.rank == 1 for r in judged]
    confidences = [r.top_confidence or 0.0 for r in judged]
    bins = _calibration(confidences, hits)
    return EngineScore(
        confirmed=len(judged),
        top1=_share(hits),
        top3=_share([r.rank is not None and r.rank <= 3 for r in judged]),
        fault_type_top1=_share([r.fault_type_match for r in judged]),
        brier=round(fmean((c - h) ** 2 for c, h in zip(confidences, hits, strict=True)), 4),
        calibration_error=round(
            sum(b.count * abs(b.mean_confidence - b.accuracy) for b in bins) / len(judged), 4
        ),
        calibration=bins,
    )


def _calibration(confidences: Sequence[float], hits: Sequence[bool]) -> list[CalibrationBin]:
    found = []
    for k in range(BINS):
        low, high = k / BINS, (k + 1) / BINS
        inside = [
            (c, h) for c, h in zip(confidences, hits, strict=True)
            if low <= c < high or (k == BINS - 1 and c == 1.0)
        ]  # fmt: skip
        if inside:
            found.append(
                CalibrationBin(
                    low=low,
                    high=high,
                    count=len(inside),
                    mean_confidence=round(fmean(c for c, _ in inside), 4),
                    accuracy=_share([h for _, h in inside]) or 0.0,
                )
            )
    return found


def _durations(values: Sequence[float | None]) -> Durations:
    known = sorted(v for v in values if v is not None)
    if not known:
        return Durations()
    p90 = known[min(len(known) - 1, math.ceil(0.9 * len(known)) - 1)]  # nearest rank
    return Durations(count=len(known), median_s=round(median(known), 1), p90_s=round(p90, 1))


def _share(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _count(keys: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(keys).items()))
