"""What every graph node may use but the checkpoint never stores.

State is data about the incident and is checkpointed; the context is the
machinery (stores, policy, telemetry, clock) and is rebuilt by whichever
process runs or resumes the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from agent.config import ConfigError, Language, TriageConfig, data_dir
from agent.dispatch.config import DispatchConfig
from agent.incident.models import TelemetrySource
from agent.incident.store import IncidentStore
from agent.policy.load import default_policy, load_policy
from agent.policy.models import Policy
from knowledge.memory import EmptyMemory, IncidentMemory, configured_memory
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.composite import open_telemetry
from tools.telemetry.replay.backend import ReplayDataset


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class TriageContext:
    """Per-process machinery for the triage graph."""

    config: TriageConfig
    home: Path
    telemetry: Callable[[datetime], TelemetryBackend] | None = None
    memory: IncidentMemory = field(default_factory=EmptyMemory)
    clock: Callable[[], datetime] = utc_now
    actor: str = "agent"

    @cached_property
    def store(self) -> IncidentStore:
        return IncidentStore(self.home / "incidents.sqlite")

    @cached_property
    def policy(self) -> Policy:
        """The configured policy; a rota whose terms have all ended is an error today."""
        if self.config.policy is None:
            return default_policy()
        return load_policy(self.config.policy, today=self.clock().date())

    @property
    def language(self) -> Language:
        return self.config.language or self.policy.language

    @cached_property
    def dispatch(self) -> DispatchConfig:
        """The dispatch config, its outbox inside this context's data directory
        unless the config names one, so separate runs never share an outbox."""
        chosen = self.config.dispatch
        if "outbox_path" in chosen.model_fields_set:
            return chosen
        return chosen.model_copy(update={"outbox_path": self.home / "outbox.jsonl"})

    def backend(self, now: datetime) -> TelemetryBackend:
        return self.require_telemetry()(now)

    def telemetry_source(self, now: datetime) -> TelemetrySource | None:
        """What an incident triaged at `now` records as its telemetry's origin."""
        dataset = getattr(self.telemetry, "__self__", None)  # ReplayDataset.at
        if isinstance(dataset, ReplayDataset):
            return TelemetrySource(
                kind="replay", dataset=str(dataset.root), clock="replay", now=now
            )
        if self.telemetry is None:
            return None
        return TelemetrySource(kind="configured", clock=self.config.server.clock, now=now)

    def require_telemetry(self) -> Callable[[datetime], TelemetryBackend]:
        """The telemetry source, or ConfigError saying how to configure one."""
        if self.telemetry is None:
            raise ConfigError(
                "no telemetry configured: pass --telemetry DATASET or set telemetry in"
                " triage.yaml (see config/triage.example.yaml)"
            )
        return self.telemetry


def build_context(
    config: TriageConfig,
    home: Path | None = None,
    telemetry: Callable[[datetime], TelemetryBackend] | None = None,
    memory: IncidentMemory | None = None,
) -> TriageContext:
    home = data_dir(home)
    return TriageContext(
        config=config,
        home=home,
        telemetry=telemetry if telemetry is not None else open_telemetry(config.telemetry),
        memory=memory or configured_memory(config.memory, home),
    )
