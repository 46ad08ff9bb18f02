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
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from agent.approval.models import Decision
from agent.approval.service import StaleDraft
from agent.context import TriageContext
from agent.draft.models import Draft, DraftKind, Language
from agent.draft.revise import rewrite_pending
from agent.engines.locks import Held, Locks, incident_lock, key_locks
from agent.inbox.models import InboxItem
from agent.incident.correlate import correlate, keys_for
from agent.incident.lifecycle import LifecycleError, advance
from agent.incident.memory import confirmed_record
from agent.incident.models import (
    ConfirmedCause,
    Incident,
    IncidentStatus,
    RootCause,
    TimelineKind,
    UnknownCause,
)
from agent.incident.scorecard import engine_record
from agent.incident.service import note
from agent.incident.store import IncidentStore
from agent.retrospective.write import NotResolved
from agent.routing.command import commander_named, handed_over
from agent.runner import NoIncident, RunOutcome, TriageInProgress
from agent.service.drafting import (
    escalation_page,
    redraft,
    resolved_status_update,
    with_draft,
    withdraw_pending,
)
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
    ) -> RunOutcome | NoIncident:
        """Run (or resume) the inbox row's triage; a joined incident's own run is synced."""
        held, opened = self._open(item, received_at)
        with held or nullcontext():
            outcome = self.runner.triage(item.run_id, opened, on_step)
            if isinstance(outcome, RunOutcome) and outcome.correlated != "new":
                self._sync_joined(outcome.incident)
            return outcome

    def _open(self, item: InboxItem, received_at: datetime) -> tuple[Held | None, Opened]:
        """The run's first step under its correlation keys and the lock of the incident it
        would join; what it opened or joined, with that incident's lock held (no lock when
        it opened none)."""
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
            if held is not None and opened.incident_id != target:
                held.release()
                held = None
            if held is None and opened.incident_id is not None:
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
            _same_revision(self.store.get(incident_id), decision)
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
        return self._advance(incident_id, "mitigated", by, text, {"note": note} if note else None)

    def _advance(
        self,
        incident_id: str,
        to: Literal["acknowledged", "mitigated"],
        by: str,
        text: str,
        data: dict[str, Any] | None = None,
    ) -> Incident:
        """`data` keeps what the responder said apart from the sentence, for the postmortem."""

        def apply(incident: Incident, at: datetime) -> Incident:
            moved = advance(incident, to)
            return incident if moved is None else note(moved, to, text, by, at, data=data)

        return self._change(incident_id, apply)

    def hand_over(self, incident_id: str, by: str, to: str) -> Incident:
        """Incident command to the person named (someone the policy knows); pending drafts
        are rewritten to name them, and re-investigations leave command with them."""

        def apply(incident: Incident, at: datetime) -> Incident:
            if incident.routing is None or incident.status in ("resolved", "closed"):
                raise LifecycleError(f"{incident.id} is {incident.status}: no command to hand over")
            new = commander_named(self.ctx.policy, to)
            old = incident.routing.incident_commander.name
            if new.name == old:
                return incident
            moved = incident.model_copy(update={"routing": handed_over(incident.routing, new)})
            revised = rewrite_pending(moved.id, moved.drafts, self.ctx.draft_context(moved, at))
            moved = moved.model_copy(update={"drafts": revised.drafts})
            text = f"{by} handed incident command from {old} to {new.name}."
            text += f" Drafts: {revised.summary()}."
            return note(moved, "command", text, by, at, data={"from": old, "to": new.name})

        return self._change(incident_id, apply)

    def resolve(self, incident_id: str, by: str, given: RootCause) -> Incident:
        """Resolved with the confirmed root cause, recorded beside the engine's ranking;
        the incident memory learns it. Pending drafts are withdrawn, and customers who
        were told of it get a pending "resolved" status update."""

        def apply(incident: Incident, at: datetime) -> Incident:
            moved = advance(incident, "resolved") or incident
            cause = confirmed(self.ctx, incident, given)
            record = engine_record(incident.isolation, cause)
            root = ConfirmedCause(**cause.model_dump(), by=by, at=at, engine=record)
            done, withdrawn = withdraw_pending(moved.model_copy(update={"root_cause": root}))
            text = f"{by} resolved it: {cause.service} ({cause.fault_type})"
            text += f": {cause.summary}." if cause.summary else "."
            if withdrawn:
                text += f" Withdrawn, never sent: {', '.join(d.kind for d in withdrawn)}."
            data = {"resolution": cause.resolution, "withdrawn": [d.id for d in withdrawn]}
            done = note(done, "resolved", text, by, at, data=data)
            done = resolved_status_update(self.ctx, done, at)
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


def confirmed(ctx: TriageContext, incident: Incident, cause: RootCause) -> RootCause:
    """`cause` with its service as the catalogue names it (an alias or another case is
    accepted); refused when neither the catalogue nor the incident knows it: a typo would
    teach the incident memory and the engine's scorecard a service that does not exist."""
    entry = ctx.policy.service(cause.service)
    if entry is not None:
        return cause.model_copy(update={"service": entry.name})
    ranked = [h.service for h in incident.isolation.hypotheses] if incident.isolation else []
    if cause.service in {*incident.services, *ranked}:
        return cause
    suspects = ranked[:3]
    hint = f"; its top suspects: {', '.join(suspects)}" if suspects else ""
    raise UnknownCause(
        f"service {cause.service!r} is neither in the service catalogue nor among"
        f" {incident.id}'s services and suspects{hint}"
    )


def _same_revision(incident: Incident, decision: Decision) -> None:
    """Refuse a decision made on words the reviewer did not read: the draft was redrafted
    (chat, a re-investigation) after the page, the Slack button or the client showed it."""
    draft = incident.draft(decision.draft_id)
    if decision.revision is None or draft is None or draft.revision == decision.revision:
        return
    raise StaleDraft(decision.draft_id, decision.revision, draft.revision)
