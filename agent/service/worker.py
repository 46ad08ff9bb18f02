"""The triage worker: a thread pool taking inbox rows from the alert queue, one graph
run per row.

The queue (agent/inbox/queue.py) hands a row over; it is marked running, triaged
and marked done or failed (the error kept on the row), and only then is the
delivery acknowledged. A row a killed worker left is delivered again (at the
next start embedded, after the claim timeout on Redis) and its run resumes from
its last checkpoint (DeskRunner), so every accepted alert is triaged and none
twice. Runs take the desk's locks, so dedup and correlation always see the
incidents other runs opened, in this process or any other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from queue import Queue

from agent.engines.errors import one_line, unreachable
from agent.inbox.models import Inbox, InboxItem
from agent.inbox.queue import AlertQueue, Delivery
from agent.runner import NoIncident, RunOutcome
from agent.service.desk import Desk

log = logging.getLogger(__name__)

IDLE_WAIT_S = 1.0
STOP_WAIT_S = 5.0
# An engine that went away mid-triage (PostgreSQL restarting, a dropped connection) is
# waited for, then the run resumes from its checkpoint; only after these waits is the row
# failed, so a brief outage never leaves an accepted alert needing a manual retry. Each
# attempt fails after at most engines.pool_timeout_s, so these waits are most of the
# patience: about three and a half minutes in all.
ENGINE_RETRY_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 60.0)
ClockFor = Callable[[InboxItem], datetime]


class InboxWorker:
    """Claims inbox rows and triages them on `workers` threads until stopped.

    The threads are daemons: stopping does not wait for a long triage to end,
    because a row left running is queued again (and resumed) at the next start.
    """

    def __init__(
        self,
        inbox: Inbox,
        queue: AlertQueue,
        desk: Desk,
        *,
        workers: int,
        clock_for: ClockFor,
        step_delay_s: float = 0.0,
    ) -> None:
        self.inbox = inbox
        self.queue = queue
        self.desk = desk
        self.clock_for = clock_for
        self.step_delay_s = step_delay_s
        self._slots = threading.Semaphore(workers)
        self._work: Queue[Delivery | None] = Queue()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._drain, name=f"triage-{n}", daemon=True)
            for n in range(workers)
        ]
        self._claimer = threading.Thread(target=self._claim, name="inbox", daemon=True)

    def start(self) -> None:
        recovered = self.queue.recover()
        if recovered:
            log.warning("resuming %d alert(s) a stopped server left mid-triage", recovered)
        for thread in self._threads:
            thread.start()
        self._claimer.start()

    def stop(self) -> None:
        """Stop claiming; rows being triaged finish or are resumed at the next start."""
        self._stop.set()
        self.queue.wake()
        self._claimer.join(timeout=STOP_WAIT_S)
        for _ in self._threads:
            self._work.put(None)
        deadline = time.monotonic() + STOP_WAIT_S
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _claim(self) -> None:
        """Hand one delivered row to each free thread, oldest first."""
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=IDLE_WAIT_S):
                continue
            try:
                taken = self.queue.receive(1, IDLE_WAIT_S)
            except Exception as error:  # the queue is away: wait and ask again, never exit
                log.error("cannot take alerts from the queue (retrying): %s", one_line(error))
                taken = []
                self._stop.wait(IDLE_WAIT_S)
            if taken:
                self._work.put(taken[0])
                continue
            self._slots.release()

    def _drain(self) -> None:
        while (item := self._work.get()) is not None:
            try:
                self._process(item)
            finally:
                self._slots.release()

    def _process(self, delivery: Delivery) -> None:
        """Triage one row, record the outcome on it, then acknowledge the delivery. Nothing is
        acknowledged before it is recorded: a failure to record leaves it to be delivered again."""
        try:
            item = self.inbox.start(delivery.inbox_id, self.desk.ctx.clock())
            if item is not None:
                self._triage(item)
            self.queue.ack(delivery)
        except Exception as error:
            log.error(
                "inbox row %d not recorded; it will be delivered again: %s",
                delivery.inbox_id,
                one_line(error),
            )
            log.debug("inbox row %d not recorded", delivery.inbox_id, exc_info=True)

    def _triage(self, item: InboxItem) -> None:
        """Triage one row; any failure is kept on the row, never lost."""
        try:
            outcome = self._triage_waiting_for_engines(item)
        except Exception as error:
            reason = one_line(error)
            log.error(
                "triage of inbox row %d failed (kept; retry it once fixed): %s", item.id, reason
            )
            log.debug("triage of inbox row %d failed", item.id, exc_info=True)
            self.inbox.fail(item.id, reason, self.desk.ctx.clock())
            return
        clock = self.desk.ctx.clock()
        if isinstance(outcome, NoIncident):
            # A warning, so `triage serve` shows it: a recovery of an alert never received
            # may mean its firing was lost on the way.
            log.warning(
                "inbox row %d (%d alert(s) from %s): %s",
                item.id,
                len(item.alerts),
                item.source,
                outcome.reason,
            )
            self.inbox.finish(item.id, None, None, clock, outcome=outcome.reason)
            return
        self.inbox.finish(item.id, outcome.incident.id, outcome.correlated, clock)

    def _triage_waiting_for_engines(self, item: InboxItem) -> RunOutcome | NoIncident:
        """The row's triage; a run cut short by an engine that went away is resumed once it
        answers again (from its checkpoint, so nothing is done twice)."""
        waits = iter(ENGINE_RETRY_S)
        while True:
            try:
                return self.desk.triage(item, self.clock_for(item), self._on_step)
            except Exception as error:
                engine = unreachable(error)
                wait_s = next(waits, None) if engine is not None else None
                if wait_s is None or self._stop.is_set():
                    raise
                log.warning(
                    "triage of inbox row %d cut short: %s unreachable (resuming in %.0f s): %s",
                    item.id,
                    engine,
                    wait_s,
                    one_line(error),
                )
                self._stop.wait(wait_s)

    def _on_step(self, step: str) -> None:
        if self.step_delay_s > 0:
            time.sleep(self.step_delay_s)
