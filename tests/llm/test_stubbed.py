"""The LLM path against a real bedrock-runtime client whose Converse calls are stubbed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent.llm.config import LLMConfig, chat_model
from agent.llm.investigate import LLMOutcome, llm_isolation
from tests.llm.conftest import Incident
from tests.llm.converse import (
    MODEL_ID,
    Stubbed,
    response,
    stubbed_client,
    submit,
    suspect,
    text,
    tool_use,
)

CONFIG = LLMConfig(enabled=True, model=f"bedrock:{MODEL_ID}", region="us-east-1", max_retries=0)


def run(incident: Incident, stub: Stubbed, config: LLMConfig = CONFIG, **kw: Any) -> LLMOutcome:
    model = chat_model(config, client=stub.client)
    return llm_isolation(
        incident.backend, incident.alerts, incident.deterministic, config, model, **kw
    )


def assert_fallback(outcome: LLMOutcome, incident: Incident, reason: str) -> None:
    """The deterministic answer, unchanged, with a note saying why the LLM's was dropped."""
    assert not outcome.used_llm
    assert outcome.fallback_reason is not None
    assert outcome.fallback_reason.startswith(reason), outcome.fallback_reason
    kept = outcome.isolation
    assert kept.engine == "deterministic"
    assert kept.hypotheses == incident.deterministic.hypotheses
    assert kept.evidence == incident.deterministic.evidence
    assert kept.notes[-1] == f"LLM failed: {outcome.fallback_reason}; deterministic result kept"


def test_two_turn_tool_use_then_a_reranking_is_used(incident: Incident) -> None:
    assert incident.suspects[:2] == ["payment", "checkout"] and "frontend" in incident.suspects
    frontend, payment = incident.evidence_of("frontend"), incident.evidence_of("payment")
    with stubbed_client() as stub:
        stub.reply(
            response(
                text("Let me check payment's metrics."),
                tool_use("summarize_metric", {"service": "payment", "last": "10m"}),
                tokens=(1500, 60),
            ),
            response(
                submit(
                    [
                        suspect("payment", payment[:3], "code-exception", 0.55),
                        suspect("frontend", frontend[:2], "bad-deploy", 0.4),
                    ]
                ),
                tokens=(2600, 180),
            ),
        )
        outcome = run(incident, stub)
        stub.stubber.assert_no_pending_responses()

    assert outcome.used_llm and outcome.fallback_reason is None
    result = outcome.isolation
    assert result.engine == f"llm:bedrock:{MODEL_ID}"
    assert [h.service for h in result.hypotheses[:2]] == ["payment", "frontend"]
    top = result.hypotheses[0]
    assert (top.fault_type, top.confidence, top.evidence_ids) == (
        "code-exception",
        0.55,
        payment[:3],
    )
    # The engine's own verdict rules judge the new ranking: 40% behind 55% is too close.
    assert result.verdict == "inconclusive"
    assert result.verdict_reason.startswith("After LLM re-ranking: Too close to call")
    assert {h.service for h in result.hypotheses} == {
        h.service for h in incident.deterministic.hypotheses
    }
    assert set(top.evidence_ids) <= set(result.evidence_by_id())
    assert "re-ranked by LLM" in result.notes[-2] and result.notes[-1].startswith("LLM summary:")
    assert (outcome.steps, outcome.input_tokens, outcome.output_tokens) == (2, 4100, 240)

    # The tool really ran on the replay backend, was recorded, and became citable evidence.
    (call,) = outcome.tool_calls
    assert (call.tool, call.args, call.ok) == (
        "summarize_metric",
        {"service": "payment", "last": "10m"},
        True,
    )
    new = [e for e in result.evidence if e.signal == "llm:summarize_metric"]
    assert len(new) == 1 and new[0].service == "payment" and new[0].query.tool == "summarize_metric"
    assert (
        result.evidence[: len(incident.deterministic.evidence)] == incident.deterministic.evidence
    )

    # Turn 2 carried the tool result back under the model's toolUseId, with the new id in it.
    first, second = stub.sent
    tool_names = [t["toolSpec"]["name"] for t in first["toolConfig"]["tools"]]
    assert "summarize_metric" in tool_names and tool_names[-1] == "submit_assessment"
    result_block = second["messages"][-1]["content"][0]["toolResult"]
    assert result_block["toolUseId"] == "tooluse_1" and result_block["status"] == "success"
    assert json.loads(result_block["content"][0]["text"])["evidence_id"] == new[0].id
    assert second["messages"][1]["content"][1]["toolUse"]["name"] == "summarize_metric"


def test_the_same_query_yields_the_same_evidence_id(incident: Incident) -> None:
    with stubbed_client() as stub:
        stub.reply(
            response(tool_use("recent_changes", {"service": "payment"})),
            response(tool_use("recent_changes", {"service": "payment"}, "tooluse_2")),
            response(text("Done.")),
        )
        outcome = run(incident, stub, CONFIG.model_copy(update={"max_steps": 3}))
        results = [m["messages"][-1]["content"][0]["toolResult"] for m in stub.sent[1:]]
    assert outcome.fallback_reason == "budget: 3 steps exceeded"
    assert len(outcome.tool_calls) == 2
    ids = [json.loads(r["content"][0]["text"])["evidence_id"] for r in results]
    assert ids[0].startswith("ev-change-") and ids[0] == ids[1]


def test_data_tool_with_malformed_input_gets_the_error_and_can_recover(incident: Incident) -> None:
    payment = incident.evidence_of("payment")
    with stubbed_client() as stub:
        stub.reply(
            response(
                tool_use(
                    "summarize_metric", {"service": "payment", "last": "yesterday", "colour": 1}
                )
            ),
            response(submit([suspect("payment", payment[:2])])),
        )
        outcome = run(incident, stub)
        error = stub.sent[1]["messages"][-1]["content"][0]["toolResult"]
    assert outcome.used_llm
    assert error["status"] == "error"
    assert "invalid arguments" in error["content"][0]["text"]
    assert "colour" in error["content"][0]["text"]
    assert outcome.tool_calls[0].ok is False


def test_unknown_tool_is_refused_to_the_model(incident: Incident) -> None:
    payment = incident.evidence_of("payment")
    with stubbed_client() as stub:
        stub.reply(
            response(tool_use("delete_database", {"name": "payments"})),
            response(submit([suspect("payment", payment[:1])])),
        )
        outcome = run(incident, stub)
        refused = stub.sent[1]["messages"][-1]["content"][0]["toolResult"]
    assert outcome.used_llm
    assert (
        refused["status"] == "error"
        and "unknown tool 'delete_database'" in refused["content"][0]["text"]
    )


# -- fallbacks --------------------------------------------------------------------------


def test_invented_service_falls_back(incident: Incident) -> None:
    with stubbed_client() as stub:
        stub.reply(response(submit([suspect("billing", incident.evidence_of("payment")[:1])])))
        outcome = run(incident, stub)
    assert_fallback(outcome, incident, "validation: service 'billing' has no evidence")


def test_service_without_evidence_falls_back(incident: Incident) -> None:
    """redis is in the estate and in the engine's list, but nothing points at it."""
    assert incident.evidence_of("redis") == []
    with stubbed_client() as stub:
        stub.reply(response(submit([suspect("redis", incident.evidence_of("payment")[:1])])))
        outcome = run(incident, stub)
    assert_fallback(outcome, incident, "validation: service 'redis' has no evidence")


def test_unknown_evidence_id_falls_back(incident: Incident) -> None:
    with stubbed_client() as stub:
        stub.reply(response(submit([suspect("payment", ["ev-metric-0000000000"])])))
        outcome = run(incident, stub)
    assert_fallback(
        outcome, incident, "validation: evidence id 'ev-metric-0000000000' does not exist"
    )


def test_evidence_about_another_service_only_falls_back(incident: Incident) -> None:
    top, other = incident.suspects[:2]
    foreign = next(
        e.id
        for e in incident.deterministic.evidence
        if e.service == top and other not in (e.service, e.peer)
    )
    with stubbed_client() as stub:
        stub.reply(response(submit([suspect(other, [foreign])])))
        outcome = run(incident, stub)
    assert_fallback(outcome, incident, f"validation: no evidence cited for '{other}' concerns it")


def test_step_budget_falls_back(incident: Incident) -> None:
    with stubbed_client() as stub:
        stub.reply(*(response(tool_use("list_metrics", {}, f"tooluse_{i}")) for i in range(3)))
        outcome = run(incident, stub, CONFIG.model_copy(update={"max_steps": 3}))
        last = stub.sent[-1]["messages"][-1]["content"]
    assert_fallback(outcome, incident, "budget: 3 steps exceeded")
    assert outcome.steps == 3 and len(outcome.tool_calls) == 3
    assert "last turn" in last[-1]["text"]


def test_plain_text_answers_are_not_read(incident: Incident) -> None:
    with stubbed_client() as stub:
        stub.reply(response(text("payment is the root cause.")), response(text("Really, payment.")))
        outcome = run(incident, stub, CONFIG.model_copy(update={"max_steps": 2}))
        reminder = stub.sent[1]["messages"][-1]["content"]
    assert_fallback(outcome, incident, "budget: 2 steps exceeded")
    assert any("No submit_assessment call received" in b.get("text", "") for b in reminder)


def test_token_budget_falls_back(incident: Incident) -> None:
    with stubbed_client() as stub:
        stub.reply(response(tool_use("list_metrics", {}), tokens=(4000, 200)))
        outcome = run(incident, stub, CONFIG.model_copy(update={"max_tokens": 3000}))
    assert_fallback(outcome, incident, "budget: token limit 3000 exceeded (4200 used)")
    assert outcome.tool_calls == []  # stopped before running the tool the turn asked for


def test_time_budget_falls_back(incident: Incident) -> None:
    clock = [1000.0]
    with stubbed_client() as stub:
        stub.on_call.append(lambda: clock.__setitem__(0, clock[0] + 40.0))  # each turn takes 40 s
        stub.reply(
            response(tool_use("list_metrics", {})),
            response(submit([suspect("payment", incident.evidence_of("payment")[:1])])),
        )
        outcome = run(
            incident, stub, CONFIG.model_copy(update={"max_seconds": 60.0}), clock=lambda: clock[0]
        )
    assert_fallback(outcome, incident, "budget: 60s time limit exceeded (80.0s)")
    assert outcome.elapsed_s == 80.0


def test_throttling_falls_back(incident: Incident) -> None:
    with stubbed_client() as stub:
        stub.fail("ThrottlingException", "Rate exceeded", 429)
        outcome = run(incident, stub)
    assert_fallback(outcome, incident, "error: ThrottlingException: Rate exceeded")


def test_throttling_after_a_tool_turn_falls_back(incident: Incident) -> None:
    with stubbed_client() as stub:
        stub.reply(response(tool_use("list_metrics", {})))
        stub.fail("ServiceUnavailableException", "Bedrock is unavailable", 503)
        outcome = run(incident, stub)
    assert_fallback(outcome, incident, "error: ServiceUnavailableException")
    assert len(outcome.tool_calls) == 1


@pytest.mark.parametrize(
    ("ranking", "reason"),
    [
        (
            [suspect("payment", ["x"], confidence=1.7)],
            "'ranking.0.confidence': Input should be less than or equal to 1",
        ),
        (
            [suspect("payment", ["x"], fault_type="gremlins")],
            "'ranking.0.fault_type': Input should be",
        ),
        ([], "'ranking': List should have at least 1 item"),
        ([{"service": "payment"}], "'ranking.0.fault_type': Field required"),
        ([suspect("payment", ["x"]) | {"priority": "P0"}], "'ranking.0.priority': Extra inputs"),
    ],
)
def test_malformed_submission_falls_back(
    incident: Incident, ranking: list[dict[str, Any]], reason: str
) -> None:
    with stubbed_client() as stub:
        stub.reply(response(submit(ranking)))
        outcome = run(incident, stub)
    assert_fallback(outcome, incident, f"validation: submit_assessment: {reason}")


def test_a_service_ranked_twice_falls_back(incident: Incident) -> None:
    ids = incident.evidence_of("payment")[:1]
    with stubbed_client() as stub:
        stub.reply(response(submit([suspect("payment", ids), suspect("payment", ids)])))
        outcome = run(incident, stub)
    assert_fallback(outcome, incident, "validation: service 'payment' ranked twice")


def test_a_partial_ranking_keeps_the_other_suspects_after_it(incident: Incident) -> None:
    last = incident.suspects[-1]
    payment = suspect("payment", incident.evidence_of("payment")[:1], "config", 0.45)
    with stubbed_client() as stub:
        stub.reply(response(submit([payment, suspect(last, incident.evidence_of(last)[:1])])))
        outcome = run(incident, stub)
    assert outcome.used_llm
    result = outcome.isolation
    assert [h.service for h in result.hypotheses[:2]] == ["payment", last]
    assert [h.service for h in result.hypotheses[2:]] == [
        h.service for h in incident.deterministic.hypotheses if h.service not in ("payment", last)
    ]
    assert result.verdict == "inconclusive"  # 45% is not sure enough, whoever says it


def test_a_leader_the_evidence_contradicts_falls_back(incident: Incident) -> None:
    """Checkout has evidence, but payment's logs are the strongest and checkout has no log
    of note: putting it first would page the wrong team on the model's word alone."""
    checkout = incident.evidence_of("checkout")
    with stubbed_client() as stub:
        stub.reply(response(submit([suspect("checkout", checkout[:2], "bad-deploy", 0.99)])))
        outcome = run(incident, stub)
    assert_fallback(
        outcome,
        incident,
        "validation: 'checkout' cannot lead: the strongest log evidence points at payment",
    )


def test_a_security_fault_cannot_be_talked_down(incident: Incident) -> None:
    """Where the engine's evidence makes a suspect a security fault, the model cannot
    relabel it (which would drop CSIRT and the legal and PR sign-offs)."""
    payment = incident.deterministic.hypotheses[0]
    incident.deterministic.hypotheses[0] = payment.model_copy(update={"fault_type": "security"})
    with stubbed_client() as stub:
        stub.reply(response(submit([suspect("payment", payment.evidence_ids[:2], "bad-deploy")])))
        outcome = run(incident, stub)
    assert_fallback(outcome, incident, "validation: 'payment' is a security fault")
