"""Unacknowledged pages: which escalation steps are due, and the job that checks.

The product rule holds here too: nothing reaches a person without a recorded
approval. A due step therefore becomes a pending page draft for the next
responder and a timeline entry; a human approves it like any other page.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from agent.engines.errors import one_line
from agent.incident.models import Incident
from agent.policy.models import Policy
from agent.routing.models import EscalationStep
from agent.routing.route import escalate_unacknowledged

log = logging.getLogger(__name__)


def paged_at(incident: Incident) -> datetime | None:
    """When the incident's page actually went out (escalation counts from there)."""
    page_id = f"{incident.id}-page"
    sent = [r.at for r in incident.dispatches if r.status == "sent" and r.draft_id == page_id]
    return min(sent) if sent else None


def step_key(step: EscalationStep) -> str:
    """Names a step across re-resolution (its target may change with the shift)."""
    return f"{step.after_min}|{step.target}|{step.when}"


def due_escalations(policy: Policy, incident: Incident, now: datetime) -> list[EscalationStep]:
    """Steps due by `now` and not yet drafted, for an incident still unacknowledged."""
    if incident.status != "open" or incident.routing is None:
        return []
    sent_at = paged_at(incident)
    if sent_at is None:
        return []
    done = {e.data.get("step") for e in incident.timeline if e.kind == "escalation"}
    due = escalate_unacknowledged(policy, incident.routing, sent_at, now)
    return [step for step in due if step_key(step) not in done]


class EscalationJob:
    """Calls `check()` every `every_s` seconds in a daemon thread until stopped."""

    def __init__(self, check: Callable[[], object], every_s: float) -> None:
        self._check = check
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="escalation", daemon=True)

    def start(self) -> None:
        if self._every_s > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self._check()
            except Exception as error:  # one bad pass must not end the job
                log.error("escalation check failed (next pass as usual): %s", one_line(error))
                log.debug("escalation check failed", exc_info=True)
