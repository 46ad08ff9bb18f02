"""How the optional LLM investigator is configured, and the chat model it talks to.

Off by default: the deterministic engine needs no credentials and no network.
Budgets live here so every run is bounded the same way whatever the provider.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

BEDROCK_PROVIDERS = frozenset({"bedrock", "bedrock_converse", "aws"})
SCRIPTED = "scripted"
DEFAULT_MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
ENV_PREFIX = "TRIAGE_LLM_"
# "openai:gpt-4o" has a provider prefix; "anthropic.claude-...-v1:0" and ARNs do not.
_PROVIDER = re.compile(r"(?P<provider>[a-z][a-z0-9_-]*):(?P<name>.+)")


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


class LLMConfigError(ValueError):
    """The LLM cannot be set up as configured; the message says what to change."""


class LLMConfig(BaseModel):
    """Which model, where, and the budgets one investigation may spend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(False, description="Off unless asked for: the default is offline.")
    model: str = Field(
        DEFAULT_MODEL,
        description="'provider:model' ('bedrock:anthropic.claude-...', 'openai:gpt-4o');"
        " a bare Bedrock model id or ARN means Bedrock; 'scripted' is the offline fake.",
    )
    region: str | None = Field(None, description="AWS region for Bedrock; None: AWS defaults.")
    endpoint_url: str | None = Field(None, description="Override the Bedrock runtime endpoint.")
    temperature: float = Field(0.0, ge=0.0, le=1.0)
    max_steps: int = Field(8, ge=1, le=50, description="Model turns (tool-call rounds) at most.")
    max_tokens: int = Field(
        60_000, ge=1, description="Input plus output tokens over all turns, from usage metadata."
    )
    max_seconds: float = Field(120.0, gt=0, description="Wall clock for the whole investigation.")
    max_tool_calls: int = Field(
        20, ge=1, le=200, description="Tool calls over all turns; later ones are refused, not run."
    )
    max_tool_output_chars: int = Field(
        6_000, ge=200, description="Each tool result is cut to this many characters."
    )
    max_response_tokens: int = Field(2_048, ge=64, description="Output cap of one model turn.")
    max_candidates: int = Field(
        10, ge=1, le=50, description="Evidence-backed suspects shown to (and rankable by) the LLM."
    )
    max_retries: int = Field(2, ge=0, le=10, description="SDK retries of one model call.")

    @property
    def provider(self) -> str:
        return split_model(self.model)[0]

    @property
    def model_name(self) -> str:
        return split_model(self.model)[1]

    @property
    def engine_name(self) -> str:
        """What `Isolation.engine` says when this model's ranking is used."""
        return f"llm:{self.model}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LLMConfig:
        """Settings from TRIAGE_LLM_* variables; setting TRIAGE_LLM_MODEL turns the LLM on."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(f"{ENV_PREFIX}{name.upper()}")
            if raw is not None and raw != "":
                values[name] = raw
        if "enabled" not in values and "model" in values:
            values["enabled"] = True
        if "region" not in values and (region := env.get("AWS_REGION")):
            values["region"] = region
        try:
            return cls.model_validate(values)
        except ValidationError as error:  # name the variable to fix, in one line
            first = error.errors()[0]
            name = f"{ENV_PREFIX}{first['loc'][0]}".upper() if first["loc"] else "TRIAGE_LLM_*"
            raise LLMConfigError(f"environment: {name}: {first['msg']}") from None


def split_model(model: str) -> tuple[str, str]:
    """(provider, model name) of a model string; bare ids and ARNs are Bedrock's."""
    if model == SCRIPTED:
        return SCRIPTED, SCRIPTED
    if model.startswith("arn:"):
        return "bedrock", model
    match = _PROVIDER.fullmatch(model)
    if match:
        return match["provider"], match["name"]
    return "bedrock", model


def chat_model(config: LLMConfig, client: Any = None) -> BaseChatModel:
    """The chat model `config` names; `client` injects a (stubbed) bedrock-runtime client.

    Bedrock goes through ChatBedrockConverse with streaming off, so one turn is one
    Converse call (and a botocore Stubber can script it). Any other provider goes
    through langchain's `init_chat_model`, which needs the `langchain` package.
    """
    provider, name = config.provider, config.model_name
    if provider == SCRIPTED:
        from agent.llm.scripted import ScriptedChatModel

        return ScriptedChatModel()
    if provider in BEDROCK_PROVIDERS:
        from langchain_aws import ChatBedrockConverse

        return ChatBedrockConverse(
            model_id=name,
            client=client,
            region_name=config.region,
            endpoint_url=config.endpoint_url,
            temperature=config.temperature,
            max_tokens=config.max_response_tokens,
            disable_streaming=True,
            timeout=max(1, math.ceil(config.max_seconds)),
            max_retries=config.max_retries,
        )
    if client is not None:
        raise LLMConfigError(f"a client can only be injected for Bedrock, not '{provider}'")
    try:
        from langchain.chat_models import init_chat_model
    except ImportError:
        raise LLMConfigError(
            f"model '{config.model}' needs the `langchain` package and the provider's"
            f" integration (e.g. langchain-{provider}); only Bedrock works without them"
        ) from None
    model: BaseChatModel = init_chat_model(
        name,
        model_provider=provider,
        temperature=config.temperature,
        max_tokens=config.max_response_tokens,
        timeout=config.max_seconds,
        max_retries=config.max_retries,
    )
    return model
