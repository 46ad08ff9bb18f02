"""The scripted fake model: the whole LLM path, deterministic and offline, for CI and evals."""

from __future__ import annotations

from agent.llm.config import LLMConfig
from agent.llm.investigate import llm_engine, llm_isolation
from agent.llm.scripted import ScriptedChatModel
from tests.llm.conftest import Incident

SCRIPTED = LLMConfig(enabled=True, model="scripted")


def test_scripted_model_calls_a_tool_then_submits_the_deterministic_ranking(
    incident: Incident,
) -> None:
    outcome = llm_isolation(
        incident.backend, incident.alerts, incident.deterministic, SCRIPTED, ScriptedChatModel()
    )
    assert outcome.used_llm, outcome.fallback_reason
    assert outcome.steps == 2 and outcome.tokens > 0
    assert [c.text() for c in outcome.tool_calls] == ['summarize_metric({"service": "payment"})']
    result = outcome.isolation
    assert result.engine == "llm:scripted"
    backed = [h for h in incident.deterministic.hypotheses if h.evidence_ids]
    assert [h.service for h in result.hypotheses] == [
        h.service for h in incident.deterministic.hypotheses
    ]
    for mine, theirs in zip(result.hypotheses, backed, strict=False):
        assert (mine.fault_type, mine.confidence) == (theirs.fault_type, theirs.confidence)
    new = result.evidence[-1]
    assert new.query.tool == "summarize_metric" and new.id in result.hypotheses[0].evidence_ids


def test_scripted_runs_are_identical(incident: Incident) -> None:
    runs = [
        llm_isolation(
            incident.backend, incident.alerts, incident.deterministic, SCRIPTED, ScriptedChatModel()
        )
        for _ in range(2)
    ]
    assert runs[0].isolation == runs[1].isolation
    assert runs[0].tokens == runs[1].tokens


def test_llm_engine_with_the_scripted_model_from_config(incident: Incident) -> None:
    """What `triage eval --llm scripted` runs: `chat_model` maps 'scripted' to the fake."""
    engine = llm_engine(SCRIPTED)
    result = engine(incident.backend, incident.alerts)
    assert result.engine == "llm:scripted"
    assert result.top() is not None and result.top().service == "payment"  # type: ignore[union-attr]


def test_llm_engine_disabled_is_the_deterministic_engine(incident: Incident) -> None:
    result = llm_engine(LLMConfig())(incident.backend, incident.alerts)
    assert result == incident.deterministic


def test_a_tight_token_budget_stops_even_the_scripted_model(incident: Incident) -> None:
    outcome = llm_isolation(
        incident.backend,
        incident.alerts,
        incident.deterministic,
        SCRIPTED.model_copy(update={"max_tokens": 500}),
        ScriptedChatModel(),
    )
    assert not outcome.used_llm
    assert (outcome.fallback_reason or "").startswith("budget: token limit 500 exceeded")
