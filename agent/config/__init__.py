"""Runtime configuration: one YAML file validated by pydantic (config/triage.example.yaml),
with the engines' URLs overridable by the environment (agent/config/engines.py).

The organisation's policy (catalogue, severity, rotations) lives in its own
file, referenced from here, because SREs and managers own it, not operators.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent.config.engines import CHROMA_ENV, DATABASE_ENV, QUEUE_ENV, EnginesConfig
from agent.config.server import ServerConfig
from agent.dispatch.config import DispatchConfig
from agent.llm.config import LLMConfig, LLMConfigError
from knowledge.config import MemoryConfig
from tools.telemetry.config import TelemetryConfig
from tools.yaml_file import YamlFileError, read_yaml

Language = Literal["en", "ja"]


class ConfigError(ValueError):
    """The configuration file is missing or invalid; says which field and why."""


class ReinvestigateConfig(BaseModel):
    """When an open incident is looked at again, because the data may have changed."""

    model_config = ConfigDict(extra="forbid")

    on_alert: bool = Field(True, description="A new related alert triggers a fresh look.")
    min_gap_s: float = Field(
        60.0, ge=0, description="At most one fresh look per this many seconds from alerts."
    )
    every_min: float = Field(
        15.0, ge=0, description="`triage serve` (wall clock): a fresh look this often; 0: never."
    )
    retry_first_s: float = Field(
        30.0, gt=0, description="Telemetry that failed is tried again after this, doubling."
    )
    retry_max_s: float = Field(600.0, gt=0, description="The longest wait between retries.")


class TriageConfig(BaseModel):
    """Everything a deployment chooses; every field has a safe default."""

    model_config = ConfigDict(extra="forbid")

    policy: Path | None = Field(None, description="Policy YAML; default: the bundled example.")
    language: Language | None = Field(None, description="Drafts language; default: policy's.")
    correlation_window_min: int = Field(30, ge=1, le=24 * 60)
    reinvestigate: ReinvestigateConfig = Field(default_factory=ReinvestigateConfig)
    war_room_url: str | None = Field(None, description="Base URL of the war-room page.")
    telemetry: TelemetryConfig = Field(default_factory=TelemetryConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    dispatch: DispatchConfig = Field(default_factory=DispatchConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    engines: EnginesConfig = Field(default_factory=EnginesConfig)

    @model_validator(mode="after")
    def _queue_needs_database(self) -> TriageConfig:
        if self.engines.queue_url and not self.engines.database_url:
            raise ValueError(
                "engines.queue_url needs engines.database_url: workers on other hosts share"
                " incidents, inbox and checkpoints through PostgreSQL"
            )
        return self

    def with_environment(self, environ: Mapping[str, str]) -> TriageConfig:
        """This config with TRIAGE_DATABASE_URL, TRIAGE_QUEUE_URL and TRIAGE_CHROMA_URL
        applied over the file (set and non-empty wins; unset keeps the file's)."""
        engines = {
            field: environ[name]
            for field, name in (("database_url", DATABASE_ENV), ("queue_url", QUEUE_ENV))
            if environ.get(name)
        }
        update: dict[str, object] = {}
        if engines:
            update["engines"] = {**self.engines.model_dump(), **engines}
        if environ.get(CHROMA_ENV):
            update["memory"] = {**self.memory.model_dump(), "server_url": environ[CHROMA_ENV]}
        if not update:
            return self
        try:
            return TriageConfig.model_validate({**self.model_dump(), **update})
        except ValidationError as error:
            first = error.errors()[0]
            names = {"database_url": DATABASE_ENV, "queue_url": QUEUE_ENV, "server_url": CHROMA_ENV}
            where = names.get(str(first["loc"][-1]), "engines") if first["loc"] else "engines"
            message = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"environment: {where}: {message}") from None


def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> TriageConfig:
    """The config at `path` (or TRIAGE_CONFIG), else defaults, LLM settings from env; the
    engines' URLs from the environment win over the file."""
    env = os.environ if environ is None else environ
    return _read_config(config_path(path)).with_environment(env)


def config_path(given: Path | None) -> Path | None:
    """The triage.yaml a command reads: --config, else TRIAGE_CONFIG, else none (defaults)."""
    return given or _env_path("TRIAGE_CONFIG")


def _read_config(path: Path | None) -> TriageConfig:
    if path is None:
        try:
            return TriageConfig(llm=LLMConfig.from_env())
        except LLMConfigError as error:
            raise ConfigError(str(error)) from None
    try:
        raw = read_yaml(path)
    except YamlFileError as error:
        raise ConfigError(str(error)) from None
    try:
        return TriageConfig.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None


def data_dir(override: Path | None = None) -> Path:
    """--data-dir, else TRIAGE_HOME, else the per-user data directory."""
    chosen = override or _env_path("TRIAGE_HOME")
    path = chosen or Path(platformdirs.user_data_dir("incident-triage"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None
