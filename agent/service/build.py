"""One process's application service, assembled for its role.

- `all` (`triage serve`): accepts alerts, triages them on its own worker
  threads, runs the escalation and re-investigation jobs: the embedded default;
- `api` (`triage serve --role api`): accepts alerts and serves people; the
  triage happens in worker processes, so this needs the alert queue (Redis);
- `worker` (`triage worker`): takes alerts from the queue and triages them,
  with no HTTP at all.

The HTTP server (agent/server/app.py) is routes over a Service of role `all` or `api`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from agent.alert.models import Alert
from agent.config import ConfigError, TriageConfig
from agent.context import TriageContext, build_context
from agent.inbox.models import Accepted, Inbox, InboxItem
from agent.inbox.queue import AlertQueue
from agent.isolation.degraded import gap_lines
from agent.service.desk import Desk
from agent.service.escalation import EscalationJob
from agent.service.reinvestigation import Reinvestigation
from agent.service.worker import ClockFor, InboxWorker
from tools.telemetry.replay.backend import ReplayDataset

log = logging.getLogger(__name__)

Role = Literal["all", "api", "worker"]
STEP_DELAY_ENV = "TRIAGE_TEST_TRIAGE_DELAY_S"  # test-only: slows each graph step


class Health(BaseModel):
    """What /v1/health answers."""

    status: Literal["ok", "degraded"]
    reasons: list[str] = Field(description="Why it is degraded, one line each.")
    inbox: dict[str, int] = Field(
        description="Inbox rows per state; empty while the database does not answer."
    )


@dataclass
class Service:
    """The long-lived parts of one process; jobs and worker run as its role says."""

    config: TriageConfig
    ctx: TriageContext
    role: Role
    inbox: Inbox
    queue: AlertQueue
    desk: Desk
    worker: InboxWorker
    escalation: EscalationJob
    looks: Reinvestigation

    @property
    def triages(self) -> bool:
        return self.role in ("all", "worker")

    @property
    def coordinates(self) -> bool:
        """Runs the escalation and re-investigation jobs (one such process per deployment)."""
        return self.role in ("all", "api")

    def start(self) -> None:
        if self.triages:
            self.worker.start()
        if self.coordinates:
            self.escalation.start()
            self.looks.start()

    def stop(self) -> None:
        if self.coordinates:
            self.looks.stop()
            self.escalation.stop()
        if self.triages:
            self.worker.stop()

    def accept(
        self, source: str, alerts: Sequence[Alert], received_at: datetime, body_sha256: str
    ) -> Accepted:
        """Store the alerts durably, then hand the new row to the queue."""
        stored = self.inbox.put(source, alerts, received_at, body_sha256)
        if not stored.duplicate:
            self.queue.publish([stored.inbox_id])
        return stored

    def retry(self, item_id: int) -> InboxItem:
        """Queue a failed row for triage again."""
        item = self.inbox.retry(item_id, self.ctx.clock())
        if item.state == "queued":
            self.queue.publish([item.id])
        return item

    def health(self) -> Health:
        """'ok', or 'degraded' with why; within seconds even with an engine down, because
        each engine is asked with a short timeout and the inbox only when the database
        answered (asked, it would wait out the pool)."""
        database = self.ctx.engines.problem()
        counts = self.inbox.counts() if database is None else {}
        reasons = gap_lines(self.looks.failing())
        reasons += [r for r in (database, self.queue.problem()) if r is not None]
        failed = counts.get("failed", 0)
        if failed:
            reasons.append(
                f"{failed} accepted alert request(s) failed triage: GET /v1/inbox?state=failed,"
                " then POST /v1/inbox/<id>/retry"
            )
        return Health(status="degraded" if reasons else "ok", reasons=reasons, inbox=counts)

    def degraded(self) -> list[str]:
        """Why the service is not fully working, one line each (empty: it is)."""
        return self.health().reasons

    def close(self) -> None:
        self.queue.close()
        self.ctx.engines.close()


def build_service(
    config: TriageConfig,
    home: Path | None = None,
    *,
    role: Role = "all",
    clock: Callable[[], datetime] | None = None,
    step_delay_s: float = 0.0,
) -> Service:
    """A Service over `home` (the data directory) and the configured engines."""
    if role != "all" and not config.engines.distributed:
        raise ConfigError(
            f"role {role!r} needs the alert queue: set TRIAGE_QUEUE_URL (redis://...) and"
            " TRIAGE_DATABASE_URL (postgresql://...), or engines: in triage.yaml"
        )
    ctx = build_context(config, home=home)
    if clock is not None:
        ctx.clock = clock
    settings = config.server
    inbox = ctx.engines.inbox
    queue = ctx.engines.queue(ctx.clock)
    desk = Desk(ctx)
    worker = InboxWorker(
        inbox,
        queue,
        desk,
        workers=settings.workers,
        clock_for=clock_for(config, replay_dataset(config)),
        step_delay_s=step_delay_s,
    )
    escalation = EscalationJob(desk.escalate, settings.escalation_every_s)
    looks = Reinvestigation(desk, config.reinvestigate, live_clock=settings.clock == "wall")
    return Service(config, ctx, role, inbox, queue, desk, worker, escalation, looks)


def replay_dataset(config: TriageConfig) -> ReplayDataset | None:
    """The replay dataset whose clock the service follows, if it runs on one."""
    path = config.telemetry.replay_path()
    if config.server.clock != "replay" or path is None:
        return None
    return ReplayDataset.open(path.resolve())


def clock_for(config: TriageConfig, dataset: ReplayDataset | None) -> ClockFor:
    """The triage clock of an inbox row: when it arrived, or for replays the alert's time."""
    if config.server.clock == "wall" or dataset is None:
        return lambda item: item.received_at
    return lambda item: dataset.clock_after(max(a.starts_at for a in item.alerts))
