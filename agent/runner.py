"""Run the triage graph and answer its approval step: the one entry point the CLI,
the server and the eval harness share."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from agent.alert.models import Alert
from agent.approval.models import Decision
from agent.approval.service import ApprovalError, decide
from agent.checkpoint import open_checkpointer
from agent.context import TriageContext
from agent.graph import build_graph
from agent.incident.models import Incident
from agent.state import TriageState


@dataclass(slots=True)
class RunOutcome:
    """Where a run stands: the incident, how the alerts were matched, what waits."""

    incident: Incident
    correlated: str
    pending: list[dict[str, Any]] = field(default_factory=list)

    @property
    def waiting(self) -> bool:
        return bool(self.pending)


class TriageRunner:
    """The compiled graph with its durable checkpoints under the context's data dir."""

    def __init__(self, ctx: TriageContext) -> None:
        self.ctx = ctx
        self.graph = build_graph(open_checkpointer(ctx.home / "checkpoints.sqlite"))

    def run(
        self,
        alerts: list[Alert],
        received_at: datetime | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> RunOutcome:
        """Triage `alerts` up to the approval step (or to the end, if they only attach).

        `on_step` is told each step's name as it finishes, for progress displays.
        """
        if not alerts:
            raise ValueError("no alerts to triage")
        self.ctx.require_telemetry()  # refuse before anything is recorded
        run_id = f"run-{uuid.uuid4().hex[:12]}"
        state = TriageState(
            run_id=run_id, alerts=alerts, received_at=received_at or self.ctx.clock()
        )
        return self._advance(run_id, state, on_step)

    def _advance(
        self,
        run_id: str,
        start: TriageState | None,
        on_step: Callable[[str], None] | None = None,
    ) -> RunOutcome:
        """Run the graph from `start` (None: from its last checkpoint) to the next stop."""
        for update in self.graph.stream(
            start, _thread(run_id), context=self.ctx, stream_mode="updates"
        ):
            if on_step is not None:
                for step in update:
                    on_step(step)
        return self._outcome(run_id)

    def decide(self, incident_id: str, decision: Decision) -> RunOutcome:
        """Resume the incident's run with a person's decision on one draft."""
        incident = self.ctx.store.get(incident_id)
        self._check(incident, decision)
        if incident.run_id is None or not self._interrupts(incident.run_id):
            raise ApprovalError(f"{incident_id} is not waiting for an approval")
        self.graph.invoke(
            Command(resume=decision.model_dump()), _thread(incident.run_id), context=self.ctx
        )
        return self._outcome(incident.run_id)

    def _check(self, incident: Incident, decision: Decision) -> None:
        """Fail before resuming if the decision would be refused, so a bad
        command never disturbs the waiting run."""
        decide(incident, decision, self.ctx.clock())

    def _interrupts(self, run_id: str) -> list[dict[str, Any]]:
        snapshot = self.graph.get_state(_thread(run_id))
        return [dict(i.value) for i in snapshot.interrupts]

    def _outcome(self, run_id: str) -> RunOutcome:
        snapshot = self.graph.get_state(_thread(run_id))
        state = TriageState.model_validate(snapshot.values)
        if state.incident is None:
            raise RuntimeError(f"run {run_id} ended without an incident")
        interrupts = self._interrupts(run_id)
        pending = interrupts[0]["pending"] if interrupts else []
        incident = self.ctx.store.get(state.incident.id)
        return RunOutcome(incident=incident, correlated=state.correlated, pending=pending)


def _thread(run_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": run_id}}
