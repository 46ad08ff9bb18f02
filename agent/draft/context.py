"""Everything a draft may state, gathered in one place so drafts never reach for more.

The writers read only this model. Facts that are not here cannot appear in a
draft, and facts that are missing are written as unknown. Text fields that came
from telemetry, alerts or chat (`title`, evidence summaries, `verdict_reason`,
responder notes) are untrusted: the writers redact them and quote them as data,
and only internal drafts (page, responder update) show them at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.draft.models import Language
from agent.isolation.evidence import EvidenceKind
from agent.isolation.models import Verdict
from agent.routing.models import Routing
from agent.severity.models import SeverityAssessment
from tools.telemetry.replay.format import FaultType

AnalysisBy = Literal["deterministic", "llm", "llm_failed"]
NoteKind = Literal["action", "decision", "need"]
MAX_SUSPECTS = 3


class Bilingual(BaseModel):
    """The same short text in both draft languages (public names, organisation, impact)."""

    model_config = ConfigDict(frozen=True)

    en: str = Field(min_length=1)
    ja: str = Field(min_length=1)

    def get(self, language: Language) -> str:
        return self.ja if language == "ja" else self.en


class ServiceRef(BaseModel):
    """An affected service: its internal name for responders, its public name for everyone else.

    `public` is None when the catalogue has no public name; outside drafts then
    speak of "some of our services" rather than leak the internal name.
    """

    name: str
    public: Bilingual | None = None


class Suspect(BaseModel):
    """One ranked hypothesis, reduced to what a draft may say about it."""

    service: str
    instance: str | None = None
    fault_type: FaultType = "unknown"
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    evidence_ids: list[str] = Field(default_factory=list)


class EvidenceItem(BaseModel):
    """A piece of evidence a suspect cites. `summary` is untrusted telemetry text."""

    id: str
    kind: EvidenceKind
    summary: str
    summary_ja: str = ""

    def wording(self, language: str) -> str:
        """The sentence in `language` where the engine has one, else the English."""
        return self.summary_ja if language == "ja" and self.summary_ja else self.summary


class ResponderNote(BaseModel):
    """A responder's timeline note: an action taken, a decision made, or something needed."""

    at: AwareDatetime
    author: str
    text: str
    kind: NoteKind = "action"


class DraftContext(BaseModel):
    """The facts for one round of drafts, in one language, as of `now`."""

    incident_id: str = Field(min_length=1)
    title: str = Field(description="Incident title; usually alert text, so untrusted.")
    opened_at: AwareDatetime
    now: AwareDatetime
    language: Language = "en"
    organisation: Bilingual
    timezone: str = Field("Asia/Tokyo", description="IANA zone for local times in drafts.")
    status_page_url: str | None = None
    war_room_url: str | None = Field(None, description="None: the page carries a placeholder.")
    severity: SeverityAssessment
    routing: Routing
    team_names: dict[str, Bilingual] = Field(
        default_factory=dict, description="Team id -> display name, for the IC and the paged."
    )
    suspects: list[Suspect] = Field(default_factory=list, max_length=MAX_SUSPECTS)
    evidence: list[EvidenceItem] = Field(default_factory=list)
    verdict: Verdict = "no-signal"
    verdict_reason: str = ""
    affected: list[ServiceRef] = Field(default_factory=list)
    impact_known: bool = Field(False, description="User-facing impact is established.")
    impact: Bilingual | None = Field(
        None, description="Customer-safe description of the impact, written by a person or policy."
    )
    notes: list[ResponderNote] = Field(default_factory=list)
    status_updates_sent: int = Field(0, ge=0)
    resolved_at: AwareDatetime | None = Field(
        None, description="When responders resolved it: the status update then says so."
    )
    next_update_due: AwareDatetime | None = Field(
        None, description="None: now plus the severity's status cadence."
    )
    security: bool = False
    analysis_by: AnalysisBy = "deterministic"
    unavailable: dict[str, str] = Field(
        default_factory=dict,
        description="Telemetry kinds the investigation could not read, and why (untrusted).",
    )
    example_policy: bool = Field(
        False, description="No policy is configured: the bundled example speaks for it."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _impact_needs_known(self) -> DraftContext:
        if self.impact is not None and not self.impact_known:
            raise ValueError("impact is described but impact_known is False")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def top(self) -> Suspect | None:
        return self.suspects[0] if self.suspects else None

    @property
    def next_update_at(self) -> datetime:
        """When the next status update is due: given, or by the severity's cadence."""
        if self.next_update_due is not None:
            return self.next_update_due
        return self.now + timedelta(minutes=self.severity.status_every_min)

    def outside_approvers(self) -> list[str]:
        """Who must approve a draft for outside readers: legal and PR for a security
        incident, plus any team routing policy named."""
        base = ["legal", "pr"] if self.security else []
        return list(dict.fromkeys([*base, *self.routing.approvals_required]))

    def cited_evidence(self) -> list[EvidenceItem]:
        """Evidence in suspect order (what the suspects cite first), then any other items."""
        by_id = {item.id: item for item in self.evidence}
        order = [i for s in self.suspects for i in s.evidence_ids if i in by_id]
        order += [item.id for item in self.evidence]
        return [by_id[i] for i in dict.fromkeys(order)]

    def public_name(self, service: str) -> Bilingual | None:
        return next((ref.public for ref in self.affected if ref.name == service), None)

    def public_services(self) -> list[str]:
        """Public names of the affected services in this language; internal names never."""
        names = [ref.public.get(self.language) for ref in self.affected if ref.public]
        return list(dict.fromkeys(names))

    def internal_names(self) -> list[str]:
        """Names that must not reach outside audiences: services and instances."""
        names = [ref.name for ref in self.affected]
        names += self.severity.harmed
        names += [s.service for s in self.suspects]
        names += [s.instance for s in self.suspects if s.instance]
        return list(dict.fromkeys(n for n in names if n))

    def public_terms(self) -> list[str]:
        """Words outside drafts may use even if they look internal (the lint allow-list)."""
        terms = [*self.organisation.model_dump().values()]
        terms += [
            v for ref in self.affected if ref.public for v in ref.public.model_dump().values()
        ]
        if self.status_page_url:
            terms.append(self.status_page_url)
        return list(dict.fromkeys(terms))
