"""A team's answers to a drill, as the facilitator collects them (YAML or JSON).

team: Team Sakura
detected_at: 2026-05-11T12:31:00Z     # or time_to_detect_min: 7
root_cause_service: payment
fault_type: bad-deploy
severity: SEV1
paged: [payments]                     # teams paged (one or more)
first_status_update_at: 2026-05-11T12:52:00Z   # or time_to_first_update_min: 28
notes: rolled back payment at 12:49
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class TeamAnswers(BaseModel):
    """What the humans said; every field but `team` may be missing (not answered)."""

    model_config = ConfigDict(extra="forbid")

    team: str = "team"
    detected_at: datetime | None = None
    time_to_detect_min: float | None = Field(None, ge=0)
    root_cause_service: str | None = None
    fault_type: str | None = None
    severity: str | None = None
    paged: list[str] = Field(default_factory=list)
    first_status_update_at: datetime | None = None
    time_to_first_update_min: float | None = Field(None, ge=0)
    notes: str = ""

    @field_validator("paged", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("detected_at", "first_status_update_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """A time without a zone is UTC (docs/drills.md), not the local time of the scorer."""
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class AnswersError(ValueError):
    """A team's answers file that cannot be read; the message names the file and field."""


def load_answers(path: Path) -> TeamAnswers:
    """The team's answers from YAML or JSON, or AnswersError saying what is wrong where."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        kind = "JSON" if path.suffix == ".json" else "YAML"
        raise AnswersError(f"{path}: not valid {kind}: {error}") from None
    if data is not None and not isinstance(data, dict):
        raise AnswersError(f"{path}: expected a mapping of answers (see `triage drill new`)")
    try:
        return TeamAnswers.model_validate(data or {})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answers"
        raise AnswersError(f"{path}: {where}: {first['msg']}") from None


TEMPLATE = """# Your team's answers. Fill in what you concluded; leave out what you did not.
team: my-team
detected_at:            # when you knew something was wrong, e.g. 2026-05-11T12:31:00Z
root_cause_service:     # the service at fault
fault_type:             # cpu, memory, disk, network-delay, network-loss, bad-deploy, config,
                        # dependency-down, database, resource-exhaustion, traffic-surge, security
severity:               # SEV1..SEV4 by the policy
paged: []               # the team(s) you paged
first_status_update_at: # when the first status update went out
notes: ""
"""
