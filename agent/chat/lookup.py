"""Read-only tool access for answers about one incident, on the incident's clock.

Live (`server.clock: wall`) that is now; for a replayed dataset it is the
triage's own clock, so "the last hour" means the hour before the alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from agent.context import TriageContext
from agent.incident.models import Incident
from tools.telemetry.backend import TelemetryBackend
from tools.toolset import ToolCall, ToolError, ToolSession


def incident_now(ctx: TriageContext, incident: Incident) -> datetime:
    """The clock telemetry is read at for this incident."""
    isolation = incident.isolation
    if ctx.config.server.clock == "replay" and isolation is not None and isolation.now:
        return isolation.now
    return ctx.clock()


def incident_backend(ctx: TriageContext, incident: Incident) -> TelemetryBackend | None:
    """The configured telemetry as of the incident's clock, or None when there is none."""
    if ctx.telemetry is None:
        return None
    return ctx.backend(incident_now(ctx, incident))


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
