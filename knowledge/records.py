"""What the memory keeps: past incidents and runbooks, validated strictly.

Unknown fields are errors (extra="forbid"), so a typo in a postmortem's front
matter is reported, not silently dropped. Every record knows the text it is
embedded as and the time from which it may be recalled (`available_at`): an
incident only once it was resolved, so a replay never sees its own future.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from tools.telemetry.replay.format import FaultType, Severity

RecordKind = Literal["incident", "runbook"]
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _names(values: list[str]) -> list[str]:
    """Trimmed, de-duplicated, order kept: service and alert names are matched exactly."""
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


Names = Annotated[list[str], AfterValidator(_names)]


class TimelineHighlight(BaseModel):
    """One moment worth remembering: when, and what happened."""

    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime
    text: str = Field(min_length=1)


class PastIncident(BaseModel):
    """A resolved incident. `services[0]` is where the root cause was; the rest were hit."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["incident"] = "incident"
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    summary: str = ""
    services: Names = Field(min_length=1)
    fault_type: FaultType = "unknown"
    root_cause: str = Field(min_length=1)
    resolution: str = ""
    severity: Severity | None = None
    timeline: list[TimelineHighlight] = Field(default_factory=list)
    tags: Names = Field(default_factory=list)
    start: AwareDatetime
    end: AwareDatetime = Field(description="When it was resolved: recallable from then on.")
    links: list[str] = Field(default_factory=list)
    alert_names: Names = Field(default_factory=list)
    log_templates: list[str] = Field(default_factory=list)
    action_items: list[str] = Field(
        default_factory=list, description="What its approved postmortem says to do."
    )
    language: str = "en"
    source: str = Field("", description="Where it came from: a file, or 'agent'.")

    @model_validator(mode="after")
    def _ends_after_start(self) -> PastIncident:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self

    @property
    def root_service(self) -> str:
        return self.services[0]

    @property
    def available_at(self) -> datetime:
        return self.end

    def document(self) -> str:
        """The text that is embedded: what happened first (the model reads 256 tokens)."""
        parts = [
            self.title,
            f"Root cause in {self.root_service} ({self.fault_type}): {self.root_cause}",
            self.summary,
            f"Resolution: {self.resolution}" if self.resolution else "",
            f"Services: {', '.join(self.services)}.",
            f"Alerts: {', '.join(self.alert_names)}." if self.alert_names else "",
            f"Tags: {', '.join(self.tags)}." if self.tags else "",
        ]
        return "\n".join(p for p in parts if p)

    def words(self) -> str:
        """The text searched by words: the embedded text and the log lines, verbatim."""
        return "\n".join([self.document(), *self.log_templates])


class Runbook(BaseModel):
    """How to diagnose and mitigate something, for the services and alerts it names."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["runbook"] = "runbook"
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    summary: str = ""
    services: Names = Field(min_length=1)
    alert_names: Names = Field(default_factory=list)
    fault_types: list[FaultType] = Field(default_factory=list)
    tags: Names = Field(default_factory=list)
    owner: str | None = None
    updated: date | AwareDatetime | None = None
    links: list[str] = Field(default_factory=list)
    body: str = ""
    language: str = "en"
    source: str = ""

    @property
    def available_at(self) -> datetime:
        """Runbooks undated are always available; dated ones from their last update."""
        if self.updated is None:
            return EPOCH
        if isinstance(self.updated, datetime):
            return self.updated
        return datetime.combine(self.updated, time(), tzinfo=UTC)

    def document(self) -> str:
        parts = [
            self.title,
            self.summary,
            f"Services: {', '.join(self.services)}.",
            f"Alerts: {', '.join(self.alert_names)}." if self.alert_names else "",
            f"Faults: {', '.join(self.fault_types)}." if self.fault_types else "",
            self.body[:1500],
        ]
        return "\n".join(p for p in parts if p)

    def words(self) -> str:
        """The text searched by words: the title, services, alerts and the whole body."""
        names = [*self.services, *self.alert_names, *self.tags]
        return "\n".join([self.title, " ".join(names), self.body])


MemoryRecord = PastIncident | Runbook
