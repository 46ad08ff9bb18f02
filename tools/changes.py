"""Recent changes: the deploys, config pushes and flag flips a fault may follow.

Most incidents start with a change, so this answers "what changed, where, and
how long before now". Summaries are redacted: config pushes carry secrets.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tools.bounds import Bounded, TimeRange, clip, match_names, name_matcher, pattern_help, take
from tools.redact import redact
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.models import Change, ChangeKind, TimeWindow, to_epoch
from tools.toolset import Tool, Toolset

SUMMARY_CHARS = 300


class RecentChangesInput(TimeRange):
    """List deploys, config pushes, feature-flag flips and other changes; newest first.

    Use it early: a change shortly before a shift on the same service (or one
    it calls) is the usual suspect.
    """

    last: str = Field(
        "24h",
        description="Length of the range ending at `end` when `start` is omitted, like '6h'.",
    )
    service: str | None = Field(None, description=pattern_help("Service"))
    kinds: list[ChangeKind] | None = Field(
        None,
        description="Only these kinds: deploy, config, feature_flag, scale, infra,"
        " secret_rotation, other.",
    )
    limit: int = Field(20, ge=1, le=100, description="At most this many changes.")


class ChangeRecord(BaseModel):
    id: str
    ts: datetime = Field(description="When the change started (UTC).")
    minutes_before_now: float
    service: str
    kind: ChangeKind
    summary: str = Field(description="Redacted, cut to 300 characters.")
    from_version: str | None = None
    to_version: str | None = None
    actor: str | None = None
    done_ts: datetime | None = None


class RecentChangesOutput(Bounded):
    """Changes newest first; `omitted` counts older matches beyond `limit`."""

    window: TimeWindow
    changes: list[ChangeRecord]


def _record(change: Change, now_s: float) -> ChangeRecord:
    return ChangeRecord(
        id=change.id,
        ts=change.ts,
        minutes_before_now=round((now_s - to_epoch(change.ts)) / 60.0, 1),
        service=change.service,
        kind=change.kind,
        summary=clip(redact(change.summary), SUMMARY_CHARS),
        from_version=change.from_version,
        to_version=change.to_version,
        actor=change.actor,
        done_ts=change.done_ts,
    )


def recent_changes(backend: TelemetryBackend, params: RecentChangesInput) -> RecentChangesOutput:
    """Deploys, config pushes, flag flips and other changes in a range, newest first,
    optionally for some services or kinds. Each says how many minutes before now it
    started. Compare with when metrics shifted (summarize_metric, query_metrics)."""
    window = params.window(backend)
    found = backend.changes(window)
    if params.service is not None:
        match_names(params.service, backend.services() + [c.service for c in found], "service")
        found = [c for c in found if name_matcher(params.service)(c.service)]
    if params.kinds:
        found = [c for c in found if c.kind in params.kinds]
    found.sort(key=lambda c: to_epoch(c.ts), reverse=True)
    chosen, omitted = take(found, params.limit)
    return RecentChangesOutput(
        window=window,
        changes=[_record(c, backend.now_s) for c in chosen],
        truncated=omitted > 0,
        omitted=omitted,
    )


TOOLSET = Toolset(
    name="changes",
    description="Deploys, config pushes, feature-flag flips: what changed and when.",
    tools=(Tool.from_function(recent_changes),),
    requires=frozenset({"changes"}),
)
