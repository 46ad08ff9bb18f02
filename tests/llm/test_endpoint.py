"""The LLM path over HTTP: ChatBedrockConverse signing real requests to a fake Converse
endpoint on 127.0.0.1, which plays the model and can read what it was sent."""

from __future__ import annotations

import json
import re
from typing import Any

from agent.llm.config import LLMConfig, chat_model
from agent.llm.investigate import llm_isolation
from tests.llm.conftest import Incident
from tests.llm.converse import (
    MODEL_ID,
    bedrock_at,
    fake_converse,
    response,
    submit,
    suspect,
    tool_use,
)


def investigator(payment_ids: list[str]) -> Any:
    """Turn 1: look at payment's logs. Turn 2: submit payment first, citing what came back."""

    def script(body: dict[str, Any]) -> dict[str, Any]:
        results = [
            block["toolResult"]
            for message in body["messages"]
            for block in message["content"]
            if "toolResult" in block
        ]
        if not results:
            return response(
                tool_use("search_logs", {"service": "payment", "levels": ["ERROR"], "limit": 5})
            )
        new_id = json.loads(results[0]["content"][0]["text"])["evidence_id"]
        return response(submit([suspect("payment", [new_id, *payment_ids[:2]], "bad-deploy", 0.9)]))

    return script


def test_happy_path_over_http(incident: Incident) -> None:
    payment = incident.evidence_of("payment")
    with fake_converse(investigator(payment)) as fake:
        config = bedrock_at(fake.url)
        outcome = llm_isolation(
            incident.backend, incident.alerts, incident.deterministic, config, chat_model(config)
        )

    assert outcome.used_llm, outcome.fallback_reason
    assert fake.paths == [f"/model/{MODEL_ID}/converse"] * 2
    top = outcome.isolation.hypotheses[0]
    assert (top.service, top.confidence) == ("payment", 0.9)
    cited = outcome.isolation.evidence_by_id()[top.evidence_ids[0]]
    assert cited.kind == "log" and cited.query.tool == "search_logs"
    assert cited.query.args == {"service": "payment", "levels": ["ERROR"], "limit": 5}
    assert outcome.isolation.engine == f"llm:bedrock:{MODEL_ID}"

    first = fake.bodies[0]
    assert first["inferenceConfig"] == {"maxTokens": 2048, "temperature": 0.0}
    assert "on-call SRE first responder" in first["system"][0]["text"]
    # The real log lines went to the model, and the new ERROR template is among them.
    result_text = fake.bodies[1]["messages"][-1]["content"][0]["toolResult"]["content"][0]["text"]
    assert "Timeout acquiring connection from pool payments-db" in result_text


def test_no_endpoint_listening_falls_back(incident: Incident) -> None:
    with fake_converse(lambda body: {}) as fake:
        url = fake.url
    config = LLMConfig(
        enabled=True, model=MODEL_ID, region="us-east-1", endpoint_url=url, max_retries=0
    )
    outcome = llm_isolation(incident.backend, incident.alerts, incident.deterministic, config)
    assert not outcome.used_llm
    assert re.match(r"error: \w+", outcome.fallback_reason or ""), outcome.fallback_reason
    assert outcome.isolation.hypotheses == incident.deterministic.hypotheses


def flood(calls_per_turn: int) -> Any:
    """A model that never submits: every turn asks for `calls_per_turn` log searches."""

    def script(body: dict[str, Any]) -> dict[str, Any]:
        turn = len(body["messages"])
        return response(
            *(
                tool_use("search_logs", {"start": f"-{i + 1}m", "limit": 50}, f"t{turn}-{i}")
                for i in range(calls_per_turn)
            )
        )

    return script


def test_tool_calls_beyond_the_budget_are_refused_not_run(incident: Incident) -> None:
    with fake_converse(flood(30)) as fake:
        config = bedrock_at(fake.url, max_tool_calls=12, max_steps=3)
        outcome = llm_isolation(
            incident.backend, incident.alerts, incident.deterministic, config, chat_model(config)
        )
    assert not outcome.used_llm and outcome.fallback_reason == "budget: 3 steps exceeded"
    assert len(outcome.tool_calls) == 12  # not 90
    results = [
        block["toolResult"] for block in fake.bodies[1]["messages"][-1]["content"]
    ]  # turn 2 carries all 30 answers: 12 outputs, then 18 refusals
    assert [r["status"] for r in results] == ["success"] * 12 + ["error"] * 18
    assert "tool call budget" in results[-1]["content"][0]["text"]


def test_a_turn_that_would_exceed_the_token_budget_is_not_sent(incident: Incident) -> None:
    # The endpoint reports small usage, so only our own estimate of the prompt can stop
    # the second turn, which carries 30 log searches (~100k characters) back.
    with fake_converse(flood(30)) as fake:
        config = bedrock_at(fake.url, max_tokens=20_000, max_tool_output_chars=4_000)
        outcome = llm_isolation(
            incident.backend, incident.alerts, incident.deterministic, config, chat_model(config)
        )
    assert not outcome.used_llm
    assert (outcome.fallback_reason or "").startswith("budget: token limit 20000"), (
        outcome.fallback_reason
    )
    assert len(fake.bodies) == 1
    assert max(len(json.dumps(b)) for b in fake.bodies) < 20_000 * 4
