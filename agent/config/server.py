"""The `server:` section of triage.yaml: where `triage serve` listens, who may post.

Secrets are never in the file: each source names the environment variable
that holds its token or signing secret, checked like dispatch's (agent.dispatch.config).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.dispatch.config import check_env_name

AuthKind = Literal["bearer", "hmac", "sns", "none"]
Clock = Literal["wall", "replay"]
SOURCE_NAMES = ("alertmanager", "cloudwatch", "datadog", "generic")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceAuth(_Strict):
    """How one alert source proves a request is its own.

    - bearer: `Authorization: Bearer <token>`, the token in env `token_env`;
    - hmac: `X-Triage-Signature: sha256=<hex>` over `{timestamp}.{body}` with the
      secret in env `secret_env`, `X-Triage-Timestamp` within `max_skew_s`;
    - sns: the SNS message signature (SignatureVersion 1 or 2), topic in `topic_arns`;
    - none: anyone who can reach the port (only behind something that authenticates).
    """

    enabled: bool = True
    auth: AuthKind
    token_env: str | None = None
    secret_env: str | None = None
    topic_arns: list[str] = Field(
        default_factory=list,
        description="sns: the TopicArns accepted; empty refuses every SNS message.",
    )
    max_skew_s: int = Field(300, ge=10, le=3600, description="hmac: timestamp window.")

    @field_validator("token_env", "secret_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return None if value is None else check_env_name(value)

    @model_validator(mode="after")
    def _complete(self) -> SourceAuth:
        if self.auth == "bearer" and not self.token_env:
            raise ValueError("bearer auth needs token_env (the env var holding the token)")
        if self.auth == "hmac" and not self.secret_env:
            raise ValueError("hmac auth needs secret_env (the env var holding the secret)")
        return self


def default_sources() -> dict[str, SourceAuth]:
    """What each sender can do out of the box: Alertmanager and Datadog send a
    header, SNS signs its messages, scripts can sign with a shared secret."""
    return {
        "alertmanager": SourceAuth(auth="bearer", token_env="TRIAGE_ALERTMANAGER_TOKEN"),
        "cloudwatch": SourceAuth(auth="sns"),
        "datadog": SourceAuth(auth="bearer", token_env="TRIAGE_DATADOG_TOKEN"),
        "generic": SourceAuth(auth="hmac", secret_env="TRIAGE_GENERIC_SECRET"),
    }


class Limits(_Strict):
    """Bounds on what one request may make the server hold or parse."""

    max_body_bytes: int = Field(1_048_576, ge=1024, le=64 * 1_048_576)
    max_json_depth: int = Field(32, ge=4, le=256)
    max_alerts: int = Field(500, ge=1, le=10_000, description="Alerts in one request.")
    max_chat_chars: int = Field(4_000, ge=100, le=100_000)


class SlackAppConfig(_Strict):
    """Slash commands and interactive buttons from a Slack app."""

    enabled: bool = True
    signing_secret_env: str = Field("SLACK_SIGNING_SECRET", description="Env var of the secret.")
    max_skew_s: int = Field(300, ge=10, le=3600, description="Replay window for timestamps.")

    @field_validator("signing_secret_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        return check_env_name(value)


class ApiAuth(_Strict):
    """Who may read incidents and decide on drafts through the API and war room.

    With `token_env` set, requests need `Authorization: Bearer <token>` or the
    `triage_token` cookie. `user_header` names the header an SSO proxy sets
    (e.g. X-Forwarded-User): when present it is the person recorded as approver.
    """

    token_env: str | None = None
    user_header: str | None = None

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return None if value is None else check_env_name(value)


class ServerConfig(_Strict):
    """`triage serve`: bind address, auth per source, limits, background jobs."""

    host: str = Field("127.0.0.1", description="Bind address; 0.0.0.0 only behind a proxy.")
    port: int = Field(8080, ge=0, le=65535)
    sources: dict[str, SourceAuth] = Field(default_factory=default_sources)
    limits: Limits = Field(default_factory=Limits)
    slack: SlackAppConfig = Field(default_factory=SlackAppConfig)
    api: ApiAuth = Field(default_factory=ApiAuth)
    workers: int = Field(2, ge=1, le=16, description="Threads draining the alert inbox.")
    escalation_every_s: float = Field(
        60.0, ge=0, description="How often unacknowledged pages are checked; 0 turns it off."
    )
    clock: Clock = Field(
        "wall",
        description="'wall': triage as of now; 'replay': as of 5 min after the alert"
        " (replayed datasets, demos).",
    )
    inbox_sync: Literal["full", "normal"] = Field(
        "full", description="SQLite synchronous mode of the inbox: 'full' survives power loss."
    )
    docs: bool = Field(
        False, description="Serve /docs (Swagger UI, loaded from a CDN); /openapi.json always."
    )

    @field_validator("sources", mode="before")
    @classmethod
    def _merge_defaults(cls, value: object) -> object:
        """Sources given in the file replace the defaults one by one; others keep theirs."""
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(SOURCE_NAMES))
        if unknown:
            raise ValueError(f"unknown source {unknown[0]!r}; known: {', '.join(SOURCE_NAMES)}")
        return {**default_sources(), **value}
