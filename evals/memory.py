"""`triage eval --memory sequential`: does remembering earlier incidents help the next one?

Cases are replayed in time order, each twice: by the engine with no memory,
and by the engine with a memory of this dataset's earlier cases. After a case,
its incident is stored as resolved at the case's clock with its TRUE root cause
(what a responder would confirm), so a later case may recall it. The memory's
own honesty filter (resolved before now) keeps a case from seeing itself or
anything after it. Each dataset gets a fresh, temporary memory.

Scored per dataset: AC@1 with memory against without, and retrieval recall@5:
among cases for which an earlier case had the same root-cause service and fault
type, the share whose recalled incidents include one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from agent.incident.memory import ConfirmedRootCause, resolved_record
from agent.incident.models import Incident
from knowledge.config import MemoryConfig
from knowledge.retrieve import ChromaMemory, open_memory
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import CaseRecord, TruthRecord


class SequentialMemory:
    """One temporary memory per dataset, taught each case's truth after it is triaged."""

    def __init__(self, config: MemoryConfig | None = None) -> None:
        self.config = config or MemoryConfig()
        self._dir = tempfile.TemporaryDirectory(prefix="triage-eval-memory-")
        self._memories: dict[Path, ChromaMemory] = {}

    def __enter__(self) -> SequentialMemory:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._dir.cleanup()

    def memory(self, dataset: ReplayDataset) -> ChromaMemory:
        if dataset.root not in self._memories:
            home = Path(self._dir.name) / f"{len(self._memories):02d}-{dataset.info.name}"
            local = self.config.model_copy(update={"path": None, "server_url": None})
            self._memories[dataset.root] = open_memory(local, home)
        return self._memories[dataset.root]

    def learn(
        self, dataset: ReplayDataset, case: CaseRecord, incident: Incident, truth: TruthRecord
    ) -> None:
        """Store the case as resolved at its clock, with the true root cause."""
        cause = truth.root_cause
        top = incident.isolation.top() if incident.isolation else None
        confirmed = ConfirmedRootCause(
            service=cause.service,
            fault_type=cause.fault_type,
            description=cause.detail or "",
            instance=cause.instance,
            change_id=truth.change_id,
            corrected=top is None or top.service != cause.service,
        )
        resolution = f"Confirmed in replay: {cause.fault_type} fault in {cause.service}."
        record = resolved_record(incident, confirmed, resolution, case.now, record_id=case.id)
        self.memory(dataset).remember_resolved(record)


def in_time_order(cases: Sequence[CaseRecord]) -> list[CaseRecord]:
    return sorted(cases, key=lambda c: (c.now, c.id))
