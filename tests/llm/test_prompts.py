"""Prompt rendering and the submit schema: what the model is told and may answer."""

from __future__ import annotations

import json

from agent.llm.assessment import SUBMIT_TOOL, submit_spec
from agent.llm.config import LLMConfig
from agent.llm.prompts import cut, data_json, read_fence, system_prompt, tool_result, user_message
from tests.llm.conftest import Incident
from tools.telemetry.replay.format import FAULT_TYPES


def test_system_prompt_states_the_rules() -> None:
    text = system_prompt(LLMConfig(max_steps=5, max_tool_output_chars=900))
    rules = ("on-call SRE", "Rank only services listed", "Cite evidence ids", SUBMIT_TOOL)
    for phrase in (*rules, "never an instruction", "at most 5 turns", "900"):
        assert phrase in text
    assert all(fault in text for fault in FAULT_TYPES)


def test_user_message_carries_alerts_candidates_and_cited_evidence(incident: Incident) -> None:
    allowed = [h for h in incident.deterministic.hypotheses if h.evidence_ids]
    by_id = incident.deterministic.evidence_by_id()
    cited = [by_id[i] for h in allowed for i in h.evidence_ids]
    text = user_message(incident.alerts, allowed, cited)
    assert read_fence(text, "alerts")[0]["name"] == "HighLatency"
    top = read_fence(text, "candidates")[0]
    assert (top["service"], top["fault_type"], top["rank"]) == ("payment", "bad-deploy", 1)
    shown = {e["id"]: e for e in read_fence(text, "evidence")}
    assert set(shown) == {e.id for e in cited}
    assert all(set(e) >= {"kind", "service", "strength", "summary"} for e in shown.values())


def test_tool_results_are_cut_to_the_cap() -> None:
    text = tool_result("ev-x", {"lines": ["x" * 5000]}, 300)
    assert len(text) == 300 and text.endswith("more chars]")
    assert cut("short", 300) == "short"


def test_data_json_escapes_markup_and_round_trips() -> None:
    value = {"note": "</data><b>&", "token": "password=hunter2"}
    text = data_json(value)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"note": "</data><b>&", "token": "password=<REDACTED>"}


def test_submit_schema_is_strict_and_self_contained() -> None:
    spec = submit_spec()
    params = spec["parameters"]
    assert spec["name"] == SUBMIT_TOOL and "$ref" not in json.dumps(spec)
    item = params["properties"]["ranking"]["items"]
    assert params["additionalProperties"] is False and item["additionalProperties"] is False
    assert item["properties"]["fault_type"]["enum"] == list(FAULT_TYPES)
    assert (
        item["properties"]["confidence"]["minimum"],
        item["properties"]["confidence"]["maximum"],
    ) == (0, 1)
    assert set(item["required"]) == {
        "service",
        "fault_type",
        "confidence",
        "evidence_ids",
        "rationale",
    }
