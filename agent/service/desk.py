"""The incident desk: every change to an incident, one at a time, in step with its run.

The graph's nodes write whole incidents, so two writers interleaving would
lose one's change, and two runs correlating alerts of one incident at the same
moment would open two. So every write takes locks (agent/engines/locks.py):

- a triage run holds its alerts' correlation keys while it matches them to an
  incident and opens or joins it (a related alert shares at least one key), and
  the lock of the incident it would join; then, keys released, it holds its
  incident's lock for the rest of the triage;
- a decision, a note, an acknowledgement, a resolution, an escalation and a
  re-investigation each hold the incident's lock.

After each write outside the graph, the stored incident is handed back to the
waiting run (DeskRunner.sync). Reads take no lock. Embedded, one lock stands
for all of them (one process); distributed, they are PostgreSQL advisory locks
shared by every worker and the API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from agent.approval.models import Decision
from agent.context import TriageContext
from agent.draft.models import Draft, DraftKind, Language
from agent.engines.locks import Held, Locks, incident_lock, key_locks
from agent.inbox.models import InboxItem
from agent.incident.correlate import correlate, keys_for
from agent.incident.lifecycle import advance
from agent.incident.memory import confirmed_record
from agent.incident.models import (
    ConfirmedCause,
    Incident,
    IncidentStatus,
    RootCause,
    TimelineKind,
)
from agent.incident.scorecard import engine_record
from agent.incident.service import note
from agent.incident.store import IncidentStore
from agent.retrospective.write import NotResolved
from agent.runner import RunOutcome, TriageInProgress
from agent.service.drafting import escalation_page, redraft, with_draft
from agent.service.escalation import due_escalations, step_key
from agent.service.retrospect import (
    export,
    is_approved_postmortem,
    postmortem_of,
    remembered,
    with_postmortem,
)
from agent.service.runs import DeskRunner, Opened
from knowledge.memory import LearnsResolved, Recollection
from knowledge.records import PastIncident

log = logging.getLogger(__name__)


class Desk:
    """Serialised writes to incidents; see the module docstring."""

    def __init__(self, ctx: TriageContext, runner: DeskRunner | None = None) -> None:
        self.ctx = ctx
        self.runner = runner or DeskRunner(ctx)

    @property
    def store(self) -> IncidentStore:
        return self.ctx.store

    @property
    def locks(self) -> Locks:
        return self.ctx.engines.locks

    def holding(self, incident_id: str) -> Held:
        """The incident's lock (use in a `with`)."""
        return self.locks.acquire([incident_lock(incident_id)])

    def triage(
        self, item: InboxItem, received_at: datetime, on_step: Callable[[str], None]
    ) -> RunOutcome:
        """Run (or resume) the inbox row's triage; a joined incident's own run is synced."""
        held = self._open(item, received_at)
        with held[0]:
            outcome = self.runner.triage(item.run_id, held[1], on_step)
            if outcome.correlated != "new":
                self._sync_joined(outcome.incident)
            return outcome

    def _open(self, item: InboxItem, received_at: datetime) -> tuple[Held, Opened]:
        """The run's first step under its correlation keys and the lock of the incident it
        would join; what it opened or joined, with that incident's lock held."""
        topology = self.ctx.observe(received_at, item.run_id).topology()
        dedup, related = keys_for(item.alerts, topology)
        with self.locks.acquire(key_locks(dedup | related)):
            window = timedelta(minutes=self.ctx.config.correlation_window_min)
            found = correlate(self.store, item.alerts, topology, received_at, window).incident
            target = found.id if found is not None else None
            held = self.holding(target) if target is not None else None
            try:
                opened = self.runner.open(item.run_id, item.alerts, received_at)
            except BaseException:
                if held is not None:
                    held.release()
                raise
            if held is None or opened.incident_id != target:
                if held is not None:
                    held.release()
                held = self.holding(opened.incident_id)  # new: nobody else knows it yet
        return held, opened

    def _sync_joined(self, incident: Incident) -> None:
        """Hand the joined incident to its own waiting run. A run cut short by a dead
        process is left alone: it starts again from the stored incident when resumed."""
        try:
            self.runner.sync(incident)
        except TriageInProgress:
            log.info("%s: its first triage was cut short; it resumes from the store", incident.id)

    def decide(self, incident_id: str, decision: Decision) -> RunOutcome:
        """Approve or reject through the waiting run, so an approved draft is dispatched.
        An approved postmortem is exported, remembered, and closes the incident."""
        with self.holding(incident_id):
            outcome = self.runner.decide(incident_id, decision)
        draft = outcome.incident.draft(decision.draft_id)
        if draft is None or not is_approved_postmortem(draft):
            return outcome
        path = export(self.ctx.home, draft)
        taught = self._teach(outcome.incident, remembered(outcome.incident, draft, path))
        closed = self._change(taught.id, lambda i, at: self._closed(i, decision.by, path, at))
        outcome.incident = closed
        return outcome

    def _closed(self, incident: Incident, by: str, path: Path, at: datetime) -> Incident:
        moved = advance(incident, "closed")
        text = f"{by} approved the postmortem ({path.name}); the incident is closed."
        return note(moved or incident, "closed", text, by, at, data={"postmortem": str(path)})

    def postmortem(self, incident_id: str, language: Language, by: str) -> Draft:
        """The incident's postmortem in `language`: the draft as it is, or a new pending
        revision in that language (or after a rejection)."""
        found = postmortem_of(self.store.get(incident_id))
        if found is not None and found.language == language and found.state != "rejected":
            return found
        incident = self._change(
            incident_id, lambda i, at: with_postmortem(self.ctx, i, language, by, at)
        )
        made = postmortem_of(incident)
        if made is None:
            raise NotResolved(f"{incident_id} is not resolved; it has no postmortem yet")
        return made

    def reinvestigate(self, incident_id: str, at: datetime, reason: str) -> Incident:
        """Look at an open incident again as of `at`; its pending drafts follow the findings."""
        with self.holding(incident_id):
            incident = self.store.get(incident_id)
            if incident.status in ("resolved", "closed"):
                return incident
            return self.runner.reinvestigate(incident, at, reason)

    def unresolved(self, limit: int = 200) -> list[Incident]:
        """Open, acknowledged and mitigated incidents, newest first."""
        states: tuple[IncidentStatus, ...] = ("open", "acknowledged", "mitigated")
        found = [i for s in states for i in self.store.recent(s, limit)]
        return sorted(found, key=lambda i: i.updated_at, reverse=True)[:limit]

    def record(
        self,
        incident_id: str,
        kind: TimelineKind,
        text: str,
        actor: str,
        data: dict[str, Any] | None = None,
    ) -> Incident:
        """One more timeline entry (a chat line, a note) by `actor`."""
        return self._change(incident_id, lambda i, at: note(i, kind, text, actor, at, data=data))

    def acknowledge(self, incident_id: str, by: str) -> Incident:
        """Someone has the pages in hand: unacknowledged escalation stops."""
        return self._advance(incident_id, "acknowledged", by, f"{by} acknowledged the incident.")

    def mitigate(self, incident_id: str, by: str, note: str = "") -> Incident:
        """The harm has stopped (a rollback, a failover); the cause may still be open."""
        text = f"{by} mitigated the incident" + (f": {note}" if note else ".")
        return self._advance(incident_id, "mitigated", by, text)

    def _advance(
        self, incident_id: str, to: Literal["acknowledged", "mitigated"], by: str, text: str
    ) -> Incident:
        def apply(incident: Incident, at: datetime) -> Incident:
            moved = advance(incident, to)
            return incident if moved is None else note(moved, to, text, by, at)

        return self._change(incident_id, apply)

    def resolve(self, incident_id: str, by: str, cause: RootCause) -> Incident:
        """Resolved with the confirmed root cause, recorded beside the engine's ranking;
        the incident memory learns it."""

        def apply(incident: Incident, at: datetime) -> Incident:
            moved = advance(incident, "resolved") or incident
            record = engine_record(incident.isolation, cause)
            root = ConfirmedCause(**cause.model_dump(), by=by, at=at, engine=record)
            done = moved.model_copy(update={"root_cause": root})
            text = f"{by} resolved it: {cause.service} ({cause.fault_type})"
            text += f": {cause.summary}" if cause.summary else "."
            done = note(done, "resolved", text, by, at, data={"resolution": cause.resolution})
            return with_postmortem(self.ctx, done, self.ctx.language, "agent", at)

        resolved = self._change(incident_id, apply)
        return self._teach(resolved, confirmed_record(resolved))

    def redraft(self, incident_id: str, kind: DraftKind, by: str) -> Draft:
        """A new pending revision of the `kind` draft from the incident as it is now."""
        made: list[Draft] = []

        def apply(incident: Incident, at: datetime) -> Incident:
            updated, draft = redraft(self.ctx, incident, kind, by, at)
            made.append(draft)
            return updated

        self._change(incident_id, apply)
        return made[0]

    def escalate(self, now: datetime | None = None) -> list[Draft]:
        """A pending page for every unacknowledged step now due, with a timeline entry.

        On the way, a send a dead process cut short after its approval is carried through.
        """
        at = now or self.ctx.clock()
        drafted: list[Draft] = []
        for candidate in self.store.recent(status="open", limit=200):
            with self.holding(candidate.id):
                if self.runner.finish_cut_send(candidate):
                    log.warning("%s: finished a send a stopped process cut short", candidate.id)
                incident = self.store.get(candidate.id)
                steps = due_escalations(self.ctx.policy, incident, at)
                if not steps:
                    continue
                for step in steps:
                    number = 1 + sum(1 for e in incident.timeline if e.kind == "escalation")
                    page = escalation_page(self.ctx, incident, step, number, at)
                    incident = note(
                        with_draft(incident, page),
                        "escalation",
                        f"Unacknowledged: {step.when}. Drafted a page to {step.to.name}"
                        f" ({step.to.role}); waiting for approval.",
                        "system",
                        at,
                        data={"step": step_key(step), "draft_id": page.id, "to": step.to.name},
                    )
                    drafted.append(page)
                self._save(incident)
        return drafted

    def recollections(self, incident: Incident) -> list[Recollection]:
        return self.runner.recollections(incident)

    def _change(
        self, incident_id: str, apply: Callable[[Incident, datetime], Incident]
    ) -> Incident:
        with self.holding(incident_id):
            incident = apply(self.store.get(incident_id), self.ctx.clock())
            return self._save(incident)

    def _save(self, incident: Incident) -> Incident:
        self.store.save(incident)
        self.runner.sync(incident)
        return incident

    def _teach(self, incident: Incident, record: PastIncident) -> Incident:
        """Hand the resolution to the memory, if it can learn; a failure is recorded, not raised."""
        memory = self.ctx.memory
        if not isinstance(memory, LearnsResolved):
            log.info("the incident memory cannot learn resolutions; %s not remembered", incident.id)
            return incident
        try:
            memory.remember_resolved(record)
        except Exception as error:
            text = f"The incident memory could not learn this resolution: {type(error).__name__}."
            return self.record(incident.id, "note", text, "system", {"error": str(error)[:300]})
        return incident
