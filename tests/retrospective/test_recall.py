"""The learning loop through the real memory (Chroma): a replayed case resolved and its
postmortem approved is what the next similar case recalls first, action items and all."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest

from agent.alert.parse import parse_alert
from agent.approval.models import Decision
from agent.config import TriageConfig
from agent.context import TriageContext, build_context
from agent.incident.models import RootCause
from agent.service.desk import Desk
from knowledge.retrieve import ChromaMemory
from knowledge.store import MemoryStore
from tests.knowledge.conftest import fresh_config
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import CaseRecord, TruthRecord, load_truth

REPLAY = Path(__file__).resolve().parents[3] / "shared" / "replay" / "nezha-ob-dev"

pytestmark = pytest.mark.skipif(not REPLAY.is_dir(), reason=f"needs the public dataset {REPLAY}")


def similar_pair(
    dataset: ReplayDataset, truth: dict[str, TruthRecord]
) -> tuple[CaseRecord, CaseRecord, CaseRecord]:
    """The first two cases (in time) that share a confirmed cause, and an earlier case whose
    cause differs: the remembered one must win against it."""
    by_cause: dict[tuple[str, str], list[CaseRecord]] = defaultdict(list)
    cases = sorted(dataset.cases(), key=lambda c: c.now)
    for case in cases:
        cause = truth[case.id].root_cause
        by_cause[(cause.service, cause.fault_type)].append(case)
    first, later = next(found[:2] for found in by_cause.values() if len(found) > 1)
    other = next(c for c in cases if c.now < later.now and c not in (first, later))
    return first, later, other


def resolve_and_approve(ctx: TriageContext, case: CaseRecord, truth: TruthRecord) -> str:
    """Triage the case, resolve it with its true cause and approve the postmortem."""
    ctx.clock = lambda: case.now + timedelta(minutes=1)
    desk = Desk(ctx)
    opened = desk.runner.run(parse_alert(case.alert.payload, case.alert.source), case.now)
    cause = RootCause(
        service=truth.root_cause.service,
        fault_type=truth.root_cause.fault_type,
        summary=f"{truth.root_cause.fault_type} in {truth.root_cause.service}",
        resolution="restored the service",
    )
    resolved = desk.resolve(opened.incident.id, "aki", cause)
    draft = next(d for d in resolved.drafts if d.kind == "postmortem")
    desk.decide(resolved.id, Decision(draft_id=draft.id, action="approve", by="ben"))
    return resolved.id


def test_an_approved_postmortem_is_recalled_first_by_the_next_similar_case(
    tmp_path: Path,
) -> None:
    dataset = ReplayDataset.open(REPLAY)
    truth = load_truth(REPLAY) or {}
    first, later, other = similar_pair(dataset, truth)
    memory = ChromaMemory(MemoryStore(fresh_config(), tmp_path / "memory"))
    config = TriageConfig(language="en")
    ctx = build_context(config, home=tmp_path / "home", telemetry=dataset.at, memory=memory)

    remembered = resolve_and_approve(ctx, first, truth[first.id])
    resolve_and_approve(ctx, other, truth[other.id])

    ctx.clock = lambda: later.now
    desk = Desk(ctx)
    triaged = desk.runner.run(parse_alert(later.alert.payload, later.alert.source), later.now)
    recalled = desk.recollections(triaged.incident)
    assert recalled and recalled[0].id == remembered
    assert recalled[0].action_items, "the postmortem's action items come back with it"
    assert any(link.endswith(f"{remembered}.md") for link in recalled[0].links)
