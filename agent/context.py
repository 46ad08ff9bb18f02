"""What every graph node may use but the checkpoint never stores.

State is data about the incident and is checkpointed; the context is the
machinery (stores, policy, telemetry, clock) and is rebuilt by whichever
process runs or resumes the graph.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from agent.config import ConfigError, Language, TriageConfig, data_dir
from agent.dispatch.config import DispatchConfig
from agent.dispatch.outbox import Outbox
from agent.draft.context import Bilingual, DraftContext
from agent.draft.from_incident import context_from_incident
from agent.engines import Engines
from agent.incident.models import Incident, TelemetrySource
from agent.incident.store import IncidentStore
from agent.isolation.ranking import RankingModel
from agent.policy.load import default_policy, load_policy
from agent.policy.models import LocalText, Policy
from knowledge.memory import EmptyMemory, IncidentMemory, configured_memory
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.composite import open_telemetry
from tools.telemetry.guard import GuardedBackend, guard, unavailable
from tools.telemetry.replay.backend import ReplayDataset

NO_TELEMETRY = "no telemetry configured (telemetry: in triage.yaml)"
OBSERVED_RUNS = 16


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
    # The isolation engine's ranking model; None = the shipped one (evals swap in held-out fits).
    ranking: RankingModel | None = None
    _observed: OrderedDict[tuple[str | None, datetime], GuardedBackend] = field(
        default_factory=OrderedDict, repr=False
    )
    _observing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def engines(self) -> Engines:
        """Where incidents, inbox, outbox, checkpoints and locks live (agent/engines)."""
        return Engines(self.config, self.home, self.dispatch.outbox_path)

    @property
    def store(self) -> IncidentStore:
        return self.engines.store

    @property
    def outbox(self) -> Outbox:
        return self.engines.outbox

    @cached_property
    def policy(self) -> Policy:
        """The configured policy; a rota whose terms have all ended is an error today."""
        if self.config.policy is None:
            return default_policy()
        return load_policy(self.config.policy, today=self.clock().date())

    @property
    def example_policy(self) -> bool:
        """No policy is configured: the bundled fictional example speaks for the organisation."""
        return self.config.policy is None

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

    def draft_context(self, incident: Incident, at: datetime) -> DraftContext:
        """What drafts may say about `incident` at `at` under this deployment's policy:
        evidence, routing, public names, notes. The graph's drafts and the service's
        redrafts and escalation pages all start here."""
        policy = self.policy
        org = policy.organisation
        public_names = {
            s.name: _bilingual(s.public_name) for s in policy.services if s.public_name is not None
        }
        base = self.config.war_room_url
        return context_from_incident(
            incident,
            now=at,
            language=self.language,
            organisation=_bilingual(org.product_name),
            public_names=public_names,
            timezone=org.timezone,
            status_page_url=str(org.status_page_url) if org.status_page_url else None,
            war_room_url=f"{base.rstrip('/')}/incidents/{incident.id}" if base else None,
            team_names={t.name: _bilingual(t.display_name) for t in policy.teams},
            example_policy=self.example_policy,
        )

    def public_terms(self) -> list[str]:
        """What outside drafts may say though it looks internal (the lint's allow-list,
        docs/drafts.md): the product's name, the status page URL and every public service
        name, in both languages."""
        policy = self.policy
        names = [policy.organisation.product_name]
        names += [s.public_name for s in policy.services if s.public_name is not None]
        terms = [v for name in names for v in _bilingual(name).model_dump().values()]
        url = policy.organisation.status_page_url
        return list(dict.fromkeys([*terms, *([str(url)] if url else [])]))

    def incident_now(self, incident: Incident) -> datetime:
        """The clock telemetry is read at for this incident: its replay clock, else now."""
        source, isolation = incident.telemetry, incident.isolation
        if source is not None and source.clock == "replay" and source.now is not None:
            return source.now
        if self.config.server.clock == "replay" and isolation is not None and isolation.now:
            return isolation.now
        return self.clock()

    def backend(self, now: datetime) -> TelemetryBackend:
        return self.require_telemetry()(now)

    def observe(self, now: datetime, run: str | None = None) -> GuardedBackend:
        """The telemetry as of `now`, failing soft: whatever cannot be read (nothing
        configured, a store down) is a gap in `.gaps`, never an error.

        The steps of one `run` share one backend, so a store that failed is not
        asked again (an unreachable host costs one timeout per run, not per step).
        """
        key = (run, now)
        with self._observing:
            if run is not None and key in self._observed:
                self._observed.move_to_end(key)
                return self._observed[key]
        backend = self._open_guarded(now)
        if run is not None:
            with self._observing:
                self._observed[key] = backend
                while len(self._observed) > OBSERVED_RUNS:
                    self._observed.popitem(last=False)
        return backend

    def _open_guarded(self, now: datetime) -> GuardedBackend:
        if self.telemetry is None:
            return unavailable(now, NO_TELEMETRY)
        try:
            return guard(self.telemetry(now))
        except Exception as error:  # the stores could not even be opened
            return unavailable(now, f"cannot open the telemetry stores: {error}"[:300])

    def telemetry_source(self, now: datetime) -> TelemetrySource | None:
        """What an incident triaged at `now` records as its telemetry's origin. A replayed
        dataset reads as of its own clock, unless the server is told to run on the wall
        clock (then it stands in for live stores)."""
        dataset = getattr(self.telemetry, "__self__", None)  # ReplayDataset.at
        if isinstance(dataset, ReplayDataset):
            server = self.config.server
            live = server.clock == "wall" and "clock" in server.model_fields_set
            return TelemetrySource(
                kind="replay",
                dataset=str(dataset.root),
                clock="wall" if live else "replay",
                now=now,
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


def _bilingual(text: LocalText) -> Bilingual:
    return Bilingual(en=text.get("en"), ja=text.get("ja"))


def build_context(
    config: TriageConfig,
    home: Path | None = None,
    telemetry: Callable[[datetime], TelemetryBackend] | None = None,
    memory: IncidentMemory | None = None,
    ranking: RankingModel | None = None,
) -> TriageContext:
    home = data_dir(home)
    return TriageContext(
        config=config,
        home=home,
        telemetry=telemetry if telemetry is not None else open_telemetry(config.telemetry),
        memory=memory or configured_memory(config.memory, home),
        ranking=ranking,
    )
