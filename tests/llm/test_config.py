"""Configuration: off by default, model strings, the chat model factory, env settings."""

from __future__ import annotations

import importlib.util

import pytest
from langchain_aws import ChatBedrockConverse
from pydantic import ValidationError

from agent.llm.config import DEFAULT_MODEL, LLMConfig, LLMConfigError, chat_model, split_model
from agent.llm.scripted import ScriptedChatModel
from tests.llm.converse import MODEL_ID, stubbed_client


def test_defaults_are_offline_and_bounded() -> None:
    config = LLMConfig()
    assert not config.enabled
    assert config.model == DEFAULT_MODEL and config.temperature == 0.0
    assert (config.max_steps, config.max_tokens, config.max_seconds) == (8, 60_000, 120.0)
    with pytest.raises(ValidationError):
        LLMConfig(max_steps=0)
    with pytest.raises(ValidationError):
        LLMConfig(budget=3)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (f"bedrock:{MODEL_ID}", ("bedrock", MODEL_ID)),
        (MODEL_ID, ("bedrock", MODEL_ID)),
        (
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            ("bedrock", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
        ),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/x",
            ("bedrock", "arn:aws:bedrock:us-east-1:123456789012:inference-profile/x"),
        ),
        ("openai:gpt-4o", ("openai", "gpt-4o")),
        ("scripted", ("scripted", "scripted")),
    ],
)
def test_model_strings(model: str, expected: tuple[str, str]) -> None:
    assert split_model(model) == expected


def test_bedrock_model_is_converse_without_streaming() -> None:
    with stubbed_client() as stub:
        model = chat_model(LLMConfig(model=f"bedrock:{MODEL_ID}", region="us-east-1"), stub.client)
    assert isinstance(model, ChatBedrockConverse)
    assert model.client is stub.client
    assert (model.model_id, model.temperature, model.disable_streaming) == (MODEL_ID, 0.0, True)
    assert model.max_tokens == 2048


def test_bedrock_endpoint_and_region() -> None:
    config = LLMConfig(model=MODEL_ID, region="eu-west-1", endpoint_url="http://127.0.0.1:9")
    model = chat_model(config)
    assert isinstance(model, ChatBedrockConverse)
    assert model.client.meta.region_name == "eu-west-1"
    assert model.client.meta.endpoint_url == "http://127.0.0.1:9"


def test_scripted_model() -> None:
    assert isinstance(chat_model(LLMConfig(model="scripted")), ScriptedChatModel)


@pytest.mark.skipif(
    importlib.util.find_spec("langchain") is not None, reason="langchain is installed"
)
def test_other_providers_need_langchain() -> None:
    with pytest.raises(LLMConfigError, match="needs the `langchain` package"):
        chat_model(LLMConfig(model="openai:gpt-4o"))


def test_a_client_is_for_bedrock_only() -> None:
    with pytest.raises(LLMConfigError, match="only be injected for Bedrock"):
        chat_model(LLMConfig(model="openai:gpt-4o"), client=object())


def test_from_env() -> None:
    assert not LLMConfig.from_env({}).enabled
    config = LLMConfig.from_env(
        {
            "TRIAGE_LLM_MODEL": MODEL_ID,
            "TRIAGE_LLM_MAX_STEPS": "4",
            "TRIAGE_LLM_MAX_SECONDS": "30",
            "AWS_REGION": "eu-central-1",
        }
    )
    assert config.enabled and config.model == MODEL_ID
    assert (config.max_steps, config.max_seconds, config.region) == (4, 30.0, "eu-central-1")
    assert not LLMConfig.from_env(
        {"TRIAGE_LLM_MODEL": MODEL_ID, "TRIAGE_LLM_ENABLED": "false"}
    ).enabled
