"""The triage graph with a memory: matches become evidence, lift the suspect, reach the drafts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent.alert.models import Alert
from agent.alert.parse import parse_alert
from agent.config import TriageConfig
from agent.context import build_context
from agent.incident.models import Incident
from agent.isolation.evidence import Evidence, EvidenceQuery
from agent.isolation.models import Hypothesis, Isolation
from agent.isolation.recall import lift_scores, lift_strength, memory_evidence
from agent.runner import TriageRunner
from knowledge.memory import RecallQuery, Recollection
from knowledge.records import PastIncident
from knowledge.retrieve import ChromaMemory
from knowledge.store import MemoryStore
from tests.knowledge.conftest import fresh_config
from tests.support.synthetic import SyntheticDataset
from tools.telemetry.replay.format import CaseRecord


@pytest.fixture
def case(synthetic: SyntheticDataset) -> CaseRecord:
    return next(c for c in synthetic.open().cases() if c.id == synthetic.case_id)


@pytest.fixture
def alerts(case: CaseRecord) -> list[Alert]:
    return parse_alert(case.alert.payload, case.alert.source)


def past(record_id: str, case: CaseRecord, days_ago: float, **extra: object) -> PastIncident:
    end = case.now - timedelta(days=days_ago)
    fields: dict[str, object] = {
        "id": record_id,
        "title": "Checkout errors: payment deploy broke the payments-db pool",
        "services": ["payment", "checkout"],
        "fault_type": "bad-deploy",
        "root_cause": "a payment deploy shrank the payments-db connection pool",
        "resolution": "rolled back payment v1.4",
        "start": end - timedelta(hours=1),
        "end": end,
        **extra,
    }
    return PastIncident.model_validate(fields)


def run(
    home: Path, synthetic: SyntheticDataset, memory: object, alerts: list[Alert], case: CaseRecord
) -> Incident:
    ctx = build_context(
        TriageConfig(language="en"),
        home=home,
        telemetry=synthetic.open().at,
        memory=memory,  # type: ignore[arg-type]
    )
    return TriageRunner(ctx).run(alerts, case.now).incident


def test_a_past_incident_becomes_evidence_lifts_and_reaches_the_responder_update(
    tmp_path: Path, synthetic: SyntheticDataset, alerts: list[Alert], case: CaseRecord
) -> None:
    store = MemoryStore(fresh_config(), tmp_path / "memory-home")
    store.add([past("INC-OLD", case, 30), past("INC-FUTURE", case, -1)])
    incident = run(tmp_path / "home", synthetic, ChromaMemory(store), alerts, case)

    recalled = next(e for e in incident.timeline if "recalled" in e.data)
    assert recalled.text.startswith("Similar: INC-OLD")
    assert [r["id"] for r in recalled.data["recalled"]] == ["INC-OLD"]  # not the future one
    assert incident.isolation is not None
    memory = [e for e in incident.isolation.evidence if e.kind == "memory"]
    assert len(memory) == 1 and memory[0].service == "payment"
    assert memory[0].summary.startswith("Looks like INC-OLD (payment, bad-deploy), resolved by:")
    top = incident.isolation.top()
    assert top is not None and top.service == "payment"
    assert top.evidence_ids[0] == memory[0].id
    assert incident.isolation.notes[-1].startswith("Memory:")
    update = next(d for d in incident.drafts if d.kind == "responder_update")
    assert "Looks like INC-OLD" in update.body


def test_a_failing_memory_is_noted_and_the_triage_goes_on(
    tmp_path: Path, synthetic: SyntheticDataset, alerts: list[Alert], case: CaseRecord
) -> None:
    class Broken:
        def recall(self, query: RecallQuery) -> list[Recollection]:
            raise ConnectionError("chroma server unreachable")

    incident = run(tmp_path / "home", synthetic, Broken(), alerts, case)
    fallback = [e for e in incident.timeline if e.kind == "fallback"]
    assert fallback and "chroma server unreachable" in fallback[0].text
    assert incident.drafts, "the triage still drafted its messages"


def match(record_id: str, where: str, **signals: float) -> Recollection:
    return Recollection(
        id=record_id,
        kind="incident",
        title="t",
        services=[where],
        fault_type="cpu",
        score=0.5,
        signals=signals,
    )


def test_only_a_specific_match_lifts_and_never_by_more_than_the_memory_weight() -> None:
    assert lift_strength(match("a", "x", text=0.9, alerts=1.0, service=1.0)) == 0.0
    assert lift_strength(match("b", "x", fault=1.0)) == 0.5
    assert lift_strength(match("c", "x", fault=1.0, logs=1.0)) == 1.0
    isolation = Isolation(
        hypotheses=[
            Hypothesis(service="a", score=3.0, evidence_ids=["e1"]),
            Hypothesis(service="b", score=2.5, evidence_ids=["e2"]),
            Hypothesis(service="c", score=0.1, evidence_ids=["e3"]),
        ],
        evidence=[
            Evidence(
                id=f"e{i}", kind="metric", service=s, summary="moved", query=EvidenceQuery(tool="t")
            )
            for i, s in enumerate("abc", start=1)
        ],
        verdict="inconclusive",
    )
    added = memory_evidence(
        [match("m1", "b", fault=1.0, logs=1.0), match("m2", "c", fault=1.0, logs=1.0)],
        {"a", "b", "c"},
    )
    lifted = lift_scores(isolation, added)
    assert [h.service for h in lifted.hypotheses] == ["b", "a", "c"]
    assert [h.score for h in lifted.hypotheses] == [3.5, 3.0, 1.1]  # +1.0 at most
    assert abs(sum(h.confidence for h in lifted.hypotheses) - 1.0) < 1e-3
