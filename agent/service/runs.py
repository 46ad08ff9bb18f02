"""TriageRunner for a server: runs named by inbox row, resumable, and kept in step with the store.

The graph's nodes save the incident they hold in their state. Anything a
person changes between steps (a chat note, an acknowledgement, a new draft)
lives only in the store until `sync` (TriageRunner) copies the stored incident
back into the waiting run, re-entering the approval step with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from agent.alert.models import Alert
from agent.incident.models import Incident
from agent.runner import RunOutcome, TriageRunner, _thread
from agent.state import TriageState
from knowledge.memory import Recollection


class DeskRunner(TriageRunner):
    """Runs whose id the caller chooses, so re-running an inbox row resumes it."""

    def triage(
        self,
        run_id: str,
        alerts: list[Alert],
        received_at: datetime,
        on_step: Callable[[str], None] | None = None,
    ) -> RunOutcome:
        """Run `run_id` to the approval step: from the start, from where a killed
        process left it, or not at all when it already got there."""
        thread = _thread(run_id)
        snapshot = self.graph.get_state(thread)
        if snapshot.values and (snapshot.interrupts or not snapshot.next):
            return self._outcome(run_id)
        start = None if snapshot.values else self._start(run_id, alerts, received_at)
        return self._advance(run_id, start, on_step)

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
