"""Where approved messages go. Secrets are named by environment variable, never stored.

With no `pagerduty` or `slack` section every message goes to the outbox file,
which is the safe default for demos and tests: nothing reaches a real person.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def check_url(url: str) -> str:
    """`url` if it is safe to send a secret to: https, or plain http to this machine only."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return url
    raise ValueError(f"{url!r} must be an https URL (plain http only to localhost)")


def check_env_name(name: str) -> str:
    """`name` if it looks like an environment variable name, so a pasted key is caught."""
    if not _ENV_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not an environment variable name (A-Z, 0-9, _);"
            " put the secret in the environment and its name here"
        )
    return name


def default_outbox_path() -> Path:
    """TRIAGE_OUTBOX, else outbox.jsonl in the per-user data directory."""
    override = os.environ.get("TRIAGE_OUTBOX")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("incident-triage")) / "outbox.jsonl"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PagerDutyConfig(_Strict):
    """PagerDuty Events API v2. The routing key is read from the environment at send time."""

    events_url: str = Field(PAGERDUTY_EVENTS_URL, description="The Events API v2 enqueue URL.")
    routing_key_env: str | None = Field(
        "PAGERDUTY_ROUTING_KEY",
        description="Env var holding the routing key of teams not in `team_routing_key_env`.",
    )
    team_routing_key_env: dict[str, str] = Field(
        default_factory=dict,
        description="Team name -> env var holding that team's routing key (integration key).",
    )

    @field_validator("events_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("routing_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return None if value is None else check_env_name(value)

    @field_validator("team_routing_key_env")
    @classmethod
    def _team_env_names(cls, value: dict[str, str]) -> dict[str, str]:
        return {team: check_env_name(name) for team, name in value.items()}

    def key_env_for(self, team: str | None) -> str | None:
        """The env var name holding `team`'s routing key, falling back to the default."""
        if team is not None and team in self.team_routing_key_env:
            return self.team_routing_key_env[team]
        return self.routing_key_env


class SlackConfig(_Strict):
    """A Slack incoming webhook. Its URL is a secret: prefer `webhook_url_env`."""

    webhook_url: str | None = Field(None, description="The webhook URL itself (avoid in files).")
    webhook_url_env: str | None = Field(None, description="Env var holding the webhook URL.")

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("webhook_url_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return None if value is None else check_env_name(value)

    @model_validator(mode="after")
    def _one_source(self) -> SlackConfig:
        if (self.webhook_url is None) == (self.webhook_url_env is None):
            raise ValueError("set exactly one of slack.webhook_url and slack.webhook_url_env")
        return self


class DispatchConfig(_Strict):
    """How approved drafts are delivered; unconfigured channels go to the outbox."""

    pagerduty: PagerDutyConfig | None = Field(None, description="Pages go to the outbox if unset.")
    slack: SlackConfig | None = Field(None, description="Slack posts go to the outbox if unset.")
    outbox_path: Path = Field(
        default_factory=default_outbox_path,
        description="JSON-lines file of everything sent to the outbox.",
    )
    timeout_s: float = Field(10.0, gt=0, le=120, description="Per HTTP attempt.")
    max_attempts: int = Field(4, ge=1, le=10, description="HTTP attempts on 429, 5xx or no answer.")
    backoff_s: float = Field(1.0, ge=0, le=60, description="First retry delay; doubles per retry.")
    max_backoff_s: float = Field(
        30.0, ge=0, le=300, description="Cap on one retry delay, Retry-After included."
    )
