"""The triage worker: a thread pool draining the inbox, one graph run per row.

Rows are claimed (queued -> running) before they are worked on and marked
done or failed after, with the error kept on the row. A row left running by a
killed server is queued again at start, and its run resumes from its last
checkpoint (DeskRunner.triage), so every accepted alert is triaged and none
twice. Runs hold the desk's lock, so dedup and correlation always see the
incidents the previous run opened.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime

from agent.service.desk import Desk
from agent.service.inbox import Inbox, InboxItem

log = logging.getLogger(__name__)

IDLE_WAIT_S = 1.0
STOP_WAIT_S = 5.0
ClockFor = Callable[[InboxItem], datetime]


class InboxWorker:
    """Claims inbox rows and triages them on `workers` threads until stopped.

    The threads are daemons: stopping does not wait for a long triage to end,
    because a row left running is queued again (and resumed) at the next start.
    """

    def __init__(
        self,
        inbox: Inbox,
        desk: Desk,
        workers: int,
        clock_for: ClockFor,
        step_delay_s: float = 0.0,
    ) -> None:
        self.inbox = inbox
        self.desk = desk
        self.clock_for = clock_for
        self.step_delay_s = step_delay_s
        self._slots = threading.Semaphore(workers)
        self._work: queue.Queue[InboxItem | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._drain, name=f"triage-{n}", daemon=True)
            for n in range(workers)
        ]
        self._claimer = threading.Thread(target=self._claim, name="inbox", daemon=True)

    def start(self) -> None:
        recovered = self.inbox.recover(self.desk.ctx.clock())
        if recovered:
            log.warning("resuming %d alert(s) a stopped server left mid-triage", recovered)
        for thread in self._threads:
            thread.start()
        self._claimer.start()

    def stop(self) -> None:
        """Stop claiming; rows being triaged finish or are resumed at the next start."""
        self._stop.set()
        self.inbox.arrived.set()
        self._claimer.join(timeout=STOP_WAIT_S)
        for _ in self._threads:
            self._work.put(None)
        deadline = time.monotonic() + STOP_WAIT_S
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _claim(self) -> None:
        """Hand one queued row to each free thread, oldest first."""
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=IDLE_WAIT_S):
                continue
            items = self.inbox.claim(1, self.desk.ctx.clock())
            if items:
                self._work.put(items[0])
                continue
            self._slots.release()
            self.inbox.arrived.wait(IDLE_WAIT_S)
            self.inbox.arrived.clear()

    def _drain(self) -> None:
        while (item := self._work.get()) is not None:
            try:
                self._process(item)
            finally:
                self._slots.release()

    def _process(self, item: InboxItem) -> None:
        """Triage one row; any failure is kept on the row, never lost."""
        try:
            outcome = self.desk.triage(item, self.clock_for(item), self._on_step)
            clock = self.desk.ctx.clock()
            self.inbox.finish(item.id, outcome.incident.id, outcome.correlated, clock)
        except Exception as error:
            reason = " ".join(f"{type(error).__name__}: {error}".split())
            log.error(
                "triage of inbox row %d failed (kept; retry it once fixed): %s", item.id, reason
            )
            log.debug("triage of inbox row %d failed", item.id, exc_info=True)
            self.inbox.fail(item.id, reason, self.desk.ctx.clock())

    def _on_step(self, step: str) -> None:
        if self.step_delay_s > 0:
            time.sleep(self.step_delay_s)
