"""Looking again at open incidents while `triage serve` runs.

- Telemetry an incident could not read is tried again with backoff
  (`reinvestigate.retry_first_s`, doubling up to `retry_max_s`); when it
  answers, the incident is re-investigated, so a triage done blind during an
  outage catches up by itself.
- On a live clock (`server.clock: wall`) every open incident is looked at
  again every `reinvestigate.every_min` minutes: the data may have changed.
- What the job last learnt about the stores is kept for /v1/health, with a
  light check of every store each `retry_max_s` even when no incident needs it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from agent.config import ReinvestigateConfig
from agent.engines.errors import one_line
from agent.incident.models import Incident
from agent.incident.reinvestigate import due_by_time
from agent.runner import TriageInProgress
from agent.service.desk import Desk
from tools.telemetry.guard import probe

log = logging.getLogger(__name__)

TICK_S = 5.0


@dataclass
class Retry:
    """One incident's telemetry retries: how many so far, when next, what still fails."""

    still: dict[str, str]
    next_at: float
    attempts: int = 0


@dataclass
class Reinvestigation:
    """The job; `check()` does one pass (the thread calls it every tick)."""

    desk: Desk
    config: ReinvestigateConfig
    live_clock: bool
    retries: dict[str, Retry] = field(default_factory=dict)
    watched: dict[str, str] = field(default_factory=dict)
    _watch_at: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def tick_s(self) -> float:
        return min(TICK_S, self.config.retry_first_s)

    def failing(self) -> dict[str, str]:
        """Telemetry kinds known to fail now, and why (for /v1/health)."""
        found = dict(self.watched)
        for retry in self.retries.values():
            found.update(retry.still)
        return found

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="reinvestigation", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        """A pass at once (so /v1/health knows the stores from the start), then every tick."""
        while True:
            try:
                self.check()
            except Exception as error:  # one bad pass must not end the job
                log.error("re-investigation check failed (next pass as usual): %s", one_line(error))
                log.debug("re-investigation check failed", exc_info=True)
            if self._stop.wait(self.tick_s):
                return

    def check(self, now: float | None = None) -> list[str]:
        """One pass; the ids of the incidents re-investigated."""
        clock = time.monotonic() if now is None else now
        self._watch(clock)
        looked: list[str] = []
        open_ids = set()
        for incident in self.desk.unresolved():
            open_ids.add(incident.id)
            reason = self._reason(incident, clock)
            if reason is None:
                continue
            try:
                self.desk.reinvestigate(incident.id, self.desk.ctx.incident_now(incident), reason)
            except TriageInProgress:
                continue  # its first triage is still running: next pass
            self.retries.pop(incident.id, None)
            looked.append(incident.id)
        for gone in set(self.retries) - open_ids:
            del self.retries[gone]
        return looked

    def _reason(self, incident: Incident, clock: float) -> str | None:
        """Why to look at `incident` now, if at all."""
        if not incident.telemetry_gaps:
            self.retries.pop(incident.id, None)
            if not self.live_clock:
                return None
            return due_by_time(incident, self.desk.ctx.clock(), self.config)
        retry = self.retries.setdefault(
            incident.id,
            Retry(dict(incident.telemetry_gaps), clock + self.config.retry_first_s),
        )
        if clock < retry.next_at or self.desk.ctx.telemetry is None:
            return None
        backend = self.desk.ctx.observe(self.desk.ctx.incident_now(incident))
        retry.still = probe(backend, incident.telemetry_gaps)
        if retry.still:
            retry.attempts += 1
            wait = self.config.retry_first_s * 2**retry.attempts
            retry.next_at = clock + min(wait, self.config.retry_max_s)
            return None
        for kind in incident.telemetry_gaps:
            self.watched.pop(kind, None)
        return f"{', '.join(incident.telemetry_gaps)} answered again"

    def _watch(self, clock: float) -> None:
        """Every store asked what it holds, once per `retry_max_s`."""
        if self.desk.ctx.telemetry is None or clock < self._watch_at:
            return
        self._watch_at = clock + self.config.retry_max_s
        backend = self.desk.ctx.observe(self.desk.ctx.clock())
        backend.services()
        self.watched = dict(backend.gaps.reasons)
