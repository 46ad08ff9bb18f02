"""The triage graph as LangGraph Server serves it (`langgraph.json`, `langgraph dev`,
LangGraph Platform).

The server brings its own checkpoints and task queue; the graph's machinery (the
incident store, policy, telemetry, memory) is this deployment's, built from the
environment as every other process builds it: TRIAGE_CONFIG (triage.yaml),
TRIAGE_HOME (the data directory) and the engines' URLs. A run's input is
`{"run_id", "alerts", "received_at"}` (agent.state.TriageState), its `context` is
`{}` (the server's context is filled in here), and it stops at the approval
interrupt; resume it with `Command(resume={"draft_id", "action", "by"})`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from agent.config import TriageConfig, load_config
from agent.context import TriageContext, build_context
from agent.graph import TriageGraph, build_graph


@cache
def deployment() -> TriageContext:
    """This process's context, built once from the environment."""
    return build_context(load_config(None))


@dataclass
class ServedContext(TriageContext):
    """A TriageContext the server can make from `{}`: every field is this deployment's."""

    config: TriageConfig = field(default_factory=lambda: deployment().config)
    home: Path = field(default_factory=lambda: deployment().home)

    def __post_init__(self) -> None:
        built = deployment()
        self.telemetry = built.telemetry
        self.memory = built.memory
        self.__dict__["engines"] = built.engines  # one pool per process, shared by every run


graph: TriageGraph = build_graph(None, context_schema=ServedContext)
