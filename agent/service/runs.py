"""TriageRunner for the desk: runs named by inbox row, resumable, in two steps, and kept
in step with the store.

A run first opens or joins an incident (`open`, under the correlation locks),
then triages it (`triage`, under the incident's lock), so the desk can let the
correlation locks go as soon as the incident is known.

The graph's nodes save the incident they hold in their state. Anything a
person changes between steps (a chat note, an acknowledgement, a new draft)
lives only in the store until `sync` (TriageRunner) copies the stored incident
back into the waiting run, re-entering the approval step with it. A run resumed
after its process died starts from the stored incident too, so what others
wrote meanwhile (an attached alert) is not lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.alert.models import Alert
from agent.approval.models import Decision
from agent.incident.models import Incident
from agent.runner import DURABILITY, NoIncident, RunOutcome, TriageRunner, _thread
from agent.state import TriageState
from knowledge.memory import Recollection

OPENS = "open_or_attach"
SENDS = "send_approved"


@dataclass(frozen=True)
class Opened:
    """Where the first step of a run left it: its incident (None: it opened none, see
    NoIncident), and whether the run was found already past that step (a resumed run)."""

    incident_id: str | None
    resumed: bool


class DeskRunner(TriageRunner):
    """Runs whose id the caller chooses, so re-running an inbox row resumes it."""

    def open(self, run_id: str, alerts: list[Alert], received_at: datetime) -> Opened:
        """Run `run_id`'s first step (dedup and correlation), unless it already ran."""
        thread = _thread(run_id)
        snapshot = self.graph.get_state(thread)
        resumed = _first_step(snapshot.values) is not None
        if not resumed:
            start = self._start(run_id, alerts, received_at)
            if start is not None:
                # A process killed after saving the run's input but before its first step
                # finished left that step pending: resume it rather than start over.
                given = None if snapshot.next else start
                self.graph.invoke(
                    given, thread, context=self.ctx, interrupt_after=[OPENS], durability=DURABILITY
                )
            snapshot = self.graph.get_state(thread)
        state = _first_step(snapshot.values)
        if state is None:
            raise RuntimeError(f"run {run_id} has no incident after its first step")
        return Opened(state.incident.id if state.incident else None, resumed)

    def triage(
        self, run_id: str, opened: Opened, on_step: Callable[[str], None] | None = None
    ) -> RunOutcome | NoIncident:
        """Run `run_id` on to the approval step: from its first step, from where a killed
        process left it (holding the stored incident), or not at all when it got there
        (or opened no incident)."""
        thread = _thread(run_id)
        snapshot = self.graph.get_state(thread)
        # Not `next`: a step whose writes were saved before its checkpoint (a kill in
        # between) is no longer in `next`, yet the run has not moved past it.
        if snapshot.interrupts or not snapshot.tasks:
            return self._ended(run_id)
        if opened.resumed and opened.incident_id is not None:
            self.graph.update_state(thread, {"incident": self.ctx.store.get(opened.incident_id)})
        return self._advance(run_id, None, on_step)

    def finish_cut_send(self, incident: Incident) -> bool:
        """A decision whose send a dead process cut short is carried through now (the
        outbox's ledger keeps the send once-only); True if there was one. Callers hold
        the incident's lock, so no live process is in the middle of it."""
        if incident.run_id is None:
            return False
        thread = _thread(incident.run_id)
        tasks = self.graph.get_state(thread).tasks
        if [t.name for t in tasks] != [SENDS]:
            return False
        self.graph.invoke(None, thread, context=self.ctx, durability=DURABILITY)
        return True

    def decide(self, incident_id: str, decision: Decision) -> RunOutcome:
        self.finish_cut_send(self.ctx.store.get(incident_id))
        return super().decide(incident_id, decision)

    def _start(self, run_id: str, alerts: list[Alert], received_at: datetime) -> TriageState | None:
        """A fresh state, unless a killed run saved its incident before its first checkpoint:
        then that incident is handed on as if `open_or_attach` had just finished."""
        state = TriageState(run_id=run_id, alerts=alerts, received_at=received_at)
        keys = {f"fp:{a.fingerprint}" for a in alerts}
        orphan = next(
            (
                i
                for i in self.ctx.store.open_with_keys(
                    keys, datetime.min.replace(tzinfo=received_at.tzinfo)
                )
                if i.run_id == run_id
            ),
            None,
        )
        if orphan is None:
            return state
        resumed = state.model_copy(update={"incident": orphan, "correlated": "new"})
        self.graph.update_state(_thread(run_id), resumed.model_dump(), as_node="open_or_attach")
        return None

    def recollections(self, incident: Incident) -> list[Recollection]:
        """Similar past incidents the run recalled (they live in the run's state only)."""
        if incident.run_id is None:
            return []
        values: dict[str, Any] = self.graph.get_state(_thread(incident.run_id)).values
        found = values.get("recollections") or []
        return [Recollection.model_validate(r) for r in found]


def _first_step(values: dict[str, Any]) -> TriageState | None:
    """A run's saved state once its first step ran: it holds the incident that step opened
    or joined, or why it has none (None before then); read once, used for both."""
    if not values:
        return None
    state = TriageState.model_validate(values)
    return state if state.incident is not None or state.no_incident is not None else None
