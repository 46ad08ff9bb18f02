"""Read-only tool access for answers about one incident, from its own telemetry, on its clock.

The incident records where its telemetry came from (`Incident.telemetry`): a
replay/1 dataset is read again from that folder as of the triage's own clock, so
"the last hour" means the hour before the alert, whatever this process has
configured (the demo's incident answers from the demo's dataset). Live telemetry
is this process's configured stores at the current time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.context import TriageContext
from agent.incident.models import Incident
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.replay.backend import ReplayDataset
from tools.toolset import ToolCall, ToolError, ToolSession

DATASETS_KEPT = 4


@lru_cache(maxsize=DATASETS_KEPT)
def _dataset(root: Path) -> ReplayDataset:
    return ReplayDataset.open(root)


def incident_backend(ctx: TriageContext, incident: Incident) -> TelemetryBackend | None:
    """The incident's own replay dataset, else the configured telemetry, as of the
    incident's clock; None when there is neither."""
    source = incident.telemetry
    if source is not None and source.kind == "replay" and source.dataset:
        root = Path(source.dataset)
        if root.is_dir():
            return _dataset(root.resolve()).at(ctx.incident_now(incident))
    if ctx.telemetry is None:
        return None
    return ctx.backend(ctx.incident_now(incident))


@dataclass
class Lookup:
    """Tool calls for one answer; every call (and failure) is kept for citing."""

    session: ToolSession | None

    @classmethod
    def of(cls, ctx: TriageContext, incident: Incident) -> Lookup:
        backend = incident_backend(ctx, incident)
        return cls(ToolSession(backend) if backend is not None else None)

    @property
    def calls(self) -> list[ToolCall]:
        return self.session.calls if self.session else []

    def run(self, tool: str, args: Mapping[str, Any]) -> BaseModel | str:
        """The tool's output, or a sentence saying why there is none."""
        if self.session is None:
            return "no telemetry is configured (telemetry.path in triage.yaml)"
        try:
            return self.session.run(tool, args)
        except ToolError as error:
            return str(error)
