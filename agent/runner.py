"""Run the triage graph and answer its approval step: the one entry point the CLI,
the server and the eval harness share."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, Durability

from agent.alert.models import Alert
from agent.approval.models import Decision
from agent.approval.service import ApprovalError, decide
from agent.checkpoint import serializer
from agent.context import TriageContext
from agent.graph import build_graph
from agent.incident.models import Incident
from agent.incident.standing import Standing
from agent.state import TriageState

# Each step's checkpoint is saved before the next step starts. With LangGraph's default
# ("async") a step that sends a page can run while the approval before it is unsaved;
# a process killed then leaves a send that nothing knows to carry through.
DURABILITY: Durability = "sync"
APPROVAL = "await_approval"


class TriageInProgress(RuntimeError):
    """The incident's run has not reached the approval step yet (or was cut short)."""


@dataclass(slots=True)
class RunOutcome:
    """Where a run stands: the incident, how the alerts were matched, what waits."""

    incident: Incident
    correlated: str
    pending: list[dict[str, Any]] = field(default_factory=list)

    @property
    def waiting(self) -> bool:
        return bool(self.pending)


@dataclass(frozen=True, slots=True)
class NoIncident:
    """A run that ended at its first step without an incident, and why (a recovery that
    no open incident holds)."""

    reason: str


class TriageRunner:
    """The compiled graph with its durable checkpoints where the context's engines keep them."""

    def __init__(self, ctx: TriageContext) -> None:
        self.ctx = ctx
        self.graph = build_graph(ctx.engines.checkpointer(serializer()))

    def run(
        self,
        alerts: list[Alert],
        received_at: datetime | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> RunOutcome | NoIncident:
        """Triage `alerts` up to the approval step (or to the end, if they only attach or
        open nothing).

        `on_step` is told each step's name as it finishes, for progress displays.
        """
        if not alerts:
            raise ValueError("no alerts to triage")
        self.ctx.require_telemetry()  # refuse before anything is recorded
        run_id = f"run-{uuid.uuid4().hex[:12]}"
        state = TriageState(
            run_id=run_id, alerts=alerts, received_at=received_at or self.ctx.clock()
        )
        outcome = self._advance(run_id, state, on_step)
        if isinstance(outcome, RunOutcome) and outcome.correlated != "new":
            self.sync(outcome.incident)
        return outcome

    def reinvestigate(self, incident: Incident, at: datetime, reason: str) -> Incident:
        """Look at an open incident again as of `at` (the data may have changed): a run of
        its own from `investigate` to `revise`, then the incident's waiting run is synced."""
        run_id = f"run-look-{incident.id}-{uuid.uuid4().hex[:8]}"
        state = TriageState(
            run_id=run_id,
            alerts=incident.alerts,
            received_at=at,
            incident=incident,
            correlated="related",
            reason=reason,
            before=Standing.of(incident),
        )
        thread = _thread(run_id)
        self.graph.update_state(thread, state.model_dump(), as_node="open_or_attach")
        try:
            self.graph.invoke(None, thread, context=self.ctx, durability=DURABILITY)
        finally:
            self.graph.checkpointer.delete_thread(run_id)  # type: ignore[union-attr]
        looked = self.ctx.store.get(incident.id)
        self.sync(looked)
        return looked

    def _advance(
        self,
        run_id: str,
        start: TriageState | None,
        on_step: Callable[[str], None] | None = None,
    ) -> RunOutcome | NoIncident:
        """Run the graph from `start` (None: from its last checkpoint) to the next stop."""
        for update in self.graph.stream(
            start, _thread(run_id), context=self.ctx, stream_mode="updates", durability=DURABILITY
        ):
            if on_step is not None:
                for step in update:
                    on_step(step)
        return self._ended(run_id)

    def decide(self, incident_id: str, decision: Decision) -> RunOutcome:
        """Resume the incident's run with a person's decision on one draft."""
        incident = self.ctx.store.get(incident_id)
        self._check(incident, decision)
        if incident.run_id is None or not self._waiting(incident.run_id):
            raise ApprovalError(f"{incident_id} is not waiting for an approval")
        self.sync(incident)
        self.graph.invoke(
            Command(resume=decision.model_dump()),
            _thread(incident.run_id),
            context=self.ctx,
            durability=DURABILITY,
        )
        return self._outcome(incident.run_id)

    def _check(self, incident: Incident, decision: Decision) -> None:
        """Fail before resuming if the decision would be refused, so a bad
        command never disturbs the waiting run."""
        decide(incident, decision, self.ctx.clock())

    def sync(self, incident: Incident) -> None:
        """Make the incident's run hold the stored incident and wait at the approval step
        again. Anything written outside that run (an attached alert, a re-investigation, a
        chat note) lives only in the store until then; without this, the run's next
        decision would save its stale copy over it."""
        if incident.run_id is None:
            return
        thread = _thread(incident.run_id)
        snapshot = self.graph.get_state(thread)
        if not snapshot.values:
            return
        if snapshot.next and not snapshot.interrupts and snapshot.next != (APPROVAL,):
            raise TriageInProgress(f"{incident.id} is still being triaged; try again shortly")
        self.graph.update_state(thread, {"incident": incident}, as_node="draft")
        self.graph.invoke(None, thread, context=self.ctx, durability=DURABILITY)

    def _waiting(self, run_id: str) -> bool:
        """Waiting at the approval step, or cut short on its way back there (a process
        killed inside `sync`, between re-entering the step and reaching it)."""
        snapshot = self.graph.get_state(_thread(run_id))
        return bool(snapshot.interrupts) or snapshot.next == (APPROVAL,)

    def _ended(self, run_id: str) -> RunOutcome | NoIncident:
        """Where a first triage stopped: its incident, or why it opened none."""
        values = self.graph.get_state(_thread(run_id)).values
        reason = TriageState.model_validate(values).no_incident
        return NoIncident(reason) if reason is not None else self._outcome(run_id)

    def _outcome(self, run_id: str) -> RunOutcome:
        snapshot = self.graph.get_state(_thread(run_id))
        state = TriageState.model_validate(snapshot.values)
        if state.incident is None:
            raise RuntimeError(f"run {run_id} ended without an incident")
        interrupts = [dict(i.value) for i in snapshot.interrupts]
        pending = interrupts[0]["pending"] if interrupts else []
        incident = self.ctx.store.get(state.incident.id)
        return RunOutcome(incident=incident, correlated=state.correlated, pending=pending)


def _thread(run_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": run_id}}
