"""`triage eval --memory sequential`: recall@5 and AC@1 with/without, and the replay's plumbing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from evals.harness import run_eval
from evals.memory import SequentialMemory
from evals.models import ENGINE, MEMORY, CaseScore, Prediction, RecalledIncident
from evals.scoring import memory_score
from tests.evals.tiny_dataset import write_tiny_dataset
from tools.telemetry.replay.format import RootCause, TruthRecord

T = datetime(2026, 1, 1, tzinfo=UTC)


def truth(case_id: str, service: str, fault: str) -> TruthRecord:
    return TruthRecord(id=case_id, root_cause=RootCause(service=service, fault_type=fault))  # type: ignore[arg-type]


def predicted(case_id: str, minutes: int, recalled: list[tuple[str, str, str]]) -> Prediction:
    return Prediction(
        id=case_id,
        dataset="d",
        method=MEMORY,
        now=T + timedelta(minutes=minutes),
        recalled=[RecalledIncident(id=i, services=[s], fault_type=f) for i, s, f in recalled],
    )


def scored(case_id: str, method: str, rank: int | None) -> CaseScore:
    return CaseScore(
        id=case_id, dataset="d", method=method, true_service="x", true_fault_type="cpu", rank=rank
    )


def test_recall_counts_only_cases_an_earlier_case_shares_its_cause_with() -> None:
    truths = {
        "c1": truth("c1", "cart", "cpu"),
        "c2": truth("c2", "cart", "cpu"),
        "c3": truth("c3", "db", "disk"),
        "c4": truth("c4", "db", "disk"),
        "c5": truth("c5", "cart", "memory"),
    }
    predictions = [
        predicted("c2", 10, [("c1", "cart", "cpu")]),  # hit
        predicted("c1", 0, []),
        predicted("c3", 20, [("c1", "cart", "cpu")]),  # first db/disk: not eligible
        predicted("c4", 30, [("c1", "cart", "cpu"), ("c2", "cart", "cpu")]),  # miss
        predicted("c5", 40, [("c1", "cart", "cpu")]),  # cart/memory is new: not eligible
    ]
    cases = [scored("c1", ENGINE, 1), scored("c2", ENGINE, 2), scored("c1", MEMORY, 1)]
    cases.append(scored("c2", MEMORY, 1))
    row = memory_score(predictions, truths, cases)
    assert row is not None
    assert (row.n, row.eligible, row.recalled, row.recall_at_5) == (5, 2, 1, 0.5)
    assert (row.ac1_without, row.ac1_with) == (0.5, 1.0)


def test_only_the_first_five_recalled_incidents_count() -> None:
    truths = {"a": truth("a", "cart", "cpu"), "b": truth("b", "cart", "cpu")}
    late = [(f"o{i}", "db", "disk") for i in range(5)] + [("a", "cart", "cpu")]
    rows = memory_score([predicted("a", 0, []), predicted("b", 5, late)], truths, [])
    assert rows is not None and rows.recalled == 0


def test_a_sequential_replay_teaches_each_case_to_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    dataset = write_tiny_dataset(tmp_path / "tiny-shop")
    with SequentialMemory() as memory:
        result = run_eval([dataset], tmp_path / "out", memory=memory)
    run = result.run
    assert run.methods[:2] == [ENGINE, MEMORY]
    with_memory = [p for p in run.predictions if p.method == MEMORY]
    assert [p.error for p in with_memory] == [None, None, None]
    assert [p.now for p in with_memory] == sorted(p.now for p in with_memory if p.now)
    assert with_memory[0].recalled == []  # nothing was resolved before the first case
    earlier = {p.id for p in with_memory[:2]}
    assert {r.id for r in with_memory[2].recalled} <= earlier
    assert with_memory[2].recalled, "the third case recalls the two before it"
    assert result.scores is not None and len(result.scores.memory) == 1
    assert "## Incident memory" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    saved = json.loads((tmp_path / "out" / "scores.json").read_text(encoding="utf-8"))
    assert saved["memory"][0]["n"] == 3
