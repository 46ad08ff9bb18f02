"""The incident policy: who owns what, how bad is bad, who is on duty, who gets paged.

One YAML file (docs/policy.md, config/policy.example.yaml) read into these
models. Every model forbids unknown keys so a typo is an error, not a setting
silently ignored. Checks that span sections (a service naming an unknown team,
overlapping terms, a rule naming an undefined level) run once the whole file
has parsed, in `agent.policy.checks`.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from agent.draft.models import Language
from agent.policy.errors import PolicyError, PolicyProblems
from tools.telemetry.models import ServiceKind
from tools.telemetry.replay.format import Severity

TeamKind = Literal["engineering", "duty", "security", "pr", "legal", "executives"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Shift = Literal["day", "week"]

# Rotations are referred to by their place in the policy: the four fixed ones by
# key, a team's on-call as `teams.<team>`.
FIXED_ROTATIONS: tuple[str, ...] = ("duty", "cover", "senior_ic", "csirt")
TEAM_ROTATION_PREFIX = "teams."
# Words a severity level's `engage` list may use besides team names.
ENGAGE_ROLES: tuple[str, ...] = ("duty", "leader", "senior_ic", "csirt")
# The sections a postmortem may have, in the order they are written.
PostmortemSection = Literal[
    "summary",
    "impact",
    "detection",
    "timeline",
    "root_cause",
    "contributing_factors",
    "went_well",
    "went_badly",
    "action_items",
]
POSTMORTEM_SECTIONS: tuple[PostmortemSection, ...] = get_args(PostmortemSection)
LIGHT_SECTIONS: tuple[PostmortemSection, ...] = ("summary", "root_cause", "action_items")
RetrospectiveTemplate = Literal["full", "light"]
# Reviewers besides team names: the owning team and the rota roles.
REVIEWER_ROLES: tuple[str, ...] = ("owner", "duty", "leader", "senior_ic", "csirt")
# Escalation targets relative to the responder whose page went unanswered.
RELATIVE_TARGETS: tuple[str, ...] = ("secondary", "leader")

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_CLOCK_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError(
            f"{value!r} is not a valid name: use lowercase letters, digits, '-', '_' or '.'"
        )
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (e.g. 'Asia/Tokyo', 'UTC')") from None
    return value


def _https(value: str) -> str:
    """https, or plain http to this machine (a local test receiver). Not echoed:
    a webhook URL is itself a secret."""
    parts = urlsplit(value)
    local = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if not (parts.scheme == "https" and parts.hostname) and not local:
        raise ValueError("not an https:// URL (plain http only to localhost)")
    return value


def _clock(value: Any) -> Any:
    """`"09:30"` -> 09:30. Bare numbers are refused: YAML 1.1 reads an unquoted
    18:30 as the base-60 number 1110, which would otherwise pass as 00:18:30."""
    if isinstance(value, time):
        return value
    if isinstance(value, int | float):
        raise ValueError('quote times of day, e.g. "18:30" (unquoted, YAML reads a number)')
    match = _CLOCK_RE.match(str(value))
    if not match:
        raise ValueError(f'{value!r} is not a time of day like "09:30"')
    return time(int(match.group(1)), int(match.group(2)))


Name = Annotated[str, AfterValidator(_name)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
HttpsUrl = Annotated[str, AfterValidator(_https)]
ClockTime = Annotated[time, BeforeValidator(_clock)]


class Strict(BaseModel):
    """Base for every policy model: unknown keys are errors; values don't change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalText(Strict):
    """Text in English and/or Japanese; at least one."""

    en: str | None = None
    ja: str | None = None

    @model_validator(mode="after")
    def _some(self) -> LocalText:
        if not (self.en or self.ja):
            raise ValueError("give the text in at least one language (en, ja)")
        return self

    def get(self, language: Language) -> str:
        """The text in `language`, else the other one (never empty)."""
        primary, other = (self.ja, self.en) if language == "ja" else (self.en, self.ja)
        return primary or other or ""


class Organisation(Strict):
    name: str = Field(description="The legal or internal name.")
    product_name: LocalText = Field(description="What customers call the product.")
    status_page_url: HttpsUrl | None = None
    timezone: TimeZoneName = "UTC"


class Person(Strict):
    name: str
    contact: str = Field(description="Paging address (e-mail, phone, PagerDuty user).")
    timezone: TimeZoneName | None = None


class Contact(Person):
    """An escalation contact of a team, in order: the first is paged first."""

    role: str = ""


class Team(Strict):
    name: Name
    display_name: LocalText
    kind: TeamKind = "engineering"
    slack_channel: str | None = Field(None, pattern=r"^#\S+$")
    escalation_contacts: list[Contact] = Field(default_factory=list)


class Service(Strict):
    """One entry of the service catalogue."""

    name: Name
    team: str
    tier: int = Field(ge=1, le=4, description="1 = most critical.")
    kind: ServiceKind = "service"
    user_facing: bool = False
    public_name: LocalText | None = Field(
        None, description="The name customers know; status pages never show internal names."
    )
    depends_on: list[str] | None = Field(
        None, description="Callees; when absent the engine's topology is used."
    )
    aliases: list[str] = Field(default_factory=list)
    description: str = ""


# -- severity -------------------------------------------------------------------


class Retrospective(Strict):
    """What follows a resolved incident at this level: the postmortem's shape and review."""

    template: RetrospectiveTemplate = Field(
        "full", description="full: every section written out; light: a short write-up."
    )
    description: str = ""
    sections: list[PostmortemSection] = Field(
        default_factory=lambda: list(POSTMORTEM_SECTIONS), min_length=1
    )
    due_business_days: int = Field(5, ge=1, le=60, description="From resolution to review.")
    reviewers: list[str] = Field(
        default_factory=lambda: ["owner"],
        min_length=1,
        description="Who reviews: 'owner' (the owning team), a role (duty, leader,"
        " senior_ic, csirt) or a team name.",
    )
    review_meeting: bool = False

    @model_validator(mode="before")
    @classmethod
    def _described(cls, value: Any) -> Any:
        """A bare sentence is the description of a light write-up (older policy files)."""
        if isinstance(value, str):
            return {"template": "light", "description": value, "sections": LIGHT_SECTIONS}
        return value


class SeverityLevel(Strict):
    description: str = ""
    engage: list[str] = Field(default_factory=list)
    status_every_min: int = Field(ge=0, description="0 = no scheduled status updates.")
    exec_summary: bool = False
    pr_statement: bool = False
    retrospective: Retrospective = Field(default_factory=Retrospective)


class RuleConditions(Strict):
    """All given conditions must hold; an omitted condition matches anything."""

    max_tier: int | None = Field(
        None, ge=1, le=4, description="Tier of the most critical harmed service is <= this."
    )
    user_facing: bool | None = None
    min_blast_radius: int | None = Field(None, ge=0)
    security: bool | None = None
    min_confidence: float | None = Field(None, ge=0.0, le=1.0)

    def is_empty(self) -> bool:
        return all(value is None for value in self.model_dump().values())


class SeverityRule(Strict):
    name: str
    level: Severity
    description: str = ""
    when: RuleConditions = Field(default_factory=RuleConditions)


class UnknownServiceDefault(Strict):
    """What a harmed service the catalogue and topology don't know is taken to be."""

    tier: int = Field(1, ge=1, le=4)
    user_facing: bool = True


class SeverityPolicy(Strict):
    levels: dict[Severity, SeverityLevel] = Field(min_length=1)
    rules: list[SeverityRule] = Field(default_factory=list)
    default: Severity = Field(description="The level when no rule matches.")
    unknown_service: UnknownServiceDefault = Field(default_factory=UnknownServiceDefault)


# -- rotations ------------------------------------------------------------------


class Member(Person):
    """A rota member; with a term they serve only between its dates (inclusive)."""

    term_start: date | None = None
    term_end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Member:
        if self.term_start and self.term_end and self.term_end < self.term_start:
            raise ValueError(f"term_end {self.term_end} is before term_start {self.term_start}")
        return self

    def serves(self, day: date) -> bool:
        starts = self.term_start is None or self.term_start <= day
        return starts and (self.term_end is None or day <= self.term_end)


class Hours(Strict):
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if self.end <= self.start:
            raise ValueError(f"end {self.end:%H:%M} is not after start {self.start:%H:%M}")
        return self


class Rotation(Strict):
    """Members take turns in listed order, one shift each, from `start`.

    A shift runs from hand-off to hand-off in the rotation's time zone; the
    order restarts from the first listed member whenever the set of members
    serving changes (a term starts or ends).
    """

    team: str
    description: str = ""
    timezone: TimeZoneName | None = Field(None, description="Default: rotations.timezone.")
    handoff: ClockTime = time(9, 0)
    shift: Shift = "week"
    start: date = Field(description="The first shift starts at hand-off on this date.")
    leader: Person | None = None
    members: list[Member] = Field(min_length=1)


class DutyRota(Rotation):
    """The weekday duty rota: its member responds first and is the first IC.

    Outside its working days, holidays and (if set) working hours, the cover
    rota answers instead. The leader stays across terms.
    """

    shift: Shift = "day"
    leader: Person
    working_days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    working_hours: Hours | None = None


class Override(Strict):
    """`name` takes every shift of `rotation` dated `start`..`end` (inclusive)."""

    rotation: str
    start: date
    end: date
    name: str
    contact: str | None = Field(None, description="Default: the member of that name's.")
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Rotations(Strict):
    timezone: TimeZoneName | None = Field(None, description="Default: organisation.timezone.")
    holidays: list[date] = Field(default_factory=list)
    duty: DutyRota
    cover: Rotation
    senior_ic: Rotation
    csirt: Rotation
    teams: dict[str, Rotation] = Field(default_factory=dict)
    overrides: list[Override] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _team_from_key(cls, data: Any) -> Any:
        """`teams.payments` belongs to team payments unless it says otherwise."""
        if isinstance(data, dict) and isinstance(data.get("teams"), dict):
            teams = {
                key: {"team": key, **value} if isinstance(value, dict) else value
                for key, value in data["teams"].items()
            }
            data = {**data, "teams": teams}
        return data


# -- escalation -----------------------------------------------------------------


class UnacknowledgedStep(Strict):
    after_min: int = Field(ge=1)
    to: str = Field(description="'secondary', 'leader' or a rotation (e.g. 'senior_ic').")


class SecurityPath(Strict):
    engage: list[str] = Field(default_factory=list, description="Teams pulled in.")
    external_approval: list[str] = Field(
        default_factory=list, description="Teams that must approve any external message."
    )


class Escalation(Strict):
    senior_ic_at: Severity = "SEV2"
    unacknowledged: list[UnacknowledgedStep] = Field(default_factory=list)
    security: SecurityPath = Field(default_factory=SecurityPath)
    fallback_team: str | None = Field(None, description="Default: the duty rota's team.")


# -- the policy -----------------------------------------------------------------


class Policy(Strict):
    version: Literal[1] = 1
    language: Language = "en"
    organisation: Organisation
    teams: list[Team] = Field(min_length=1)
    services: list[Service] = Field(default_factory=list)
    severity: SeverityPolicy
    rotations: Rotations
    escalation: Escalation = Field(default_factory=Escalation)

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        from agent.policy.checks import check_policy

        problems = check_policy(self)
        if problems:
            raise PolicyProblems(problems)
        return self

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)

    def service(self, name: str) -> Service | None:
        """The catalogue entry named `name` or having it as an alias (any case)."""
        key = name.casefold()
        return next(
            (
                s
                for s in self.services
                if s.name.casefold() == key or key in (a.casefold() for a in s.aliases)
            ),
            None,
        )

    def rotation_refs(self) -> list[str]:
        return [*FIXED_ROTATIONS, *(TEAM_ROTATION_PREFIX + t for t in self.rotations.teams)]

    def rotation(self, ref: str) -> Rotation:
        """The rotation at `ref`: 'duty', 'cover', 'senior_ic', 'csirt' or 'teams.<team>'."""
        if ref in FIXED_ROTATIONS:
            found: Rotation = getattr(self.rotations, ref)
            return found
        team = ref.removeprefix(TEAM_ROTATION_PREFIX)
        if ref.startswith(TEAM_ROTATION_PREFIX) and team in self.rotations.teams:
            return self.rotations.teams[team]
        known = ", ".join(self.rotation_refs())
        raise PolicyError.one("rotations", f"unknown rotation {ref!r} (known: {known})")

    def timezone_of(self, ref: str) -> str:
        return self.rotation(ref).timezone or self.rotations.timezone or self.organisation.timezone

    def fallback_team(self) -> str:
        """Who owns what the catalogue doesn't know: by default, the duty rota's team."""
        return self.escalation.fallback_team or self.rotations.duty.team
