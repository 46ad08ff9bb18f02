"""TRIAGE_CHROMA_URL puts every worker's memory on one `chroma run` server: what one
learns, another recalls, and the results are the embedded store's."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

from agent.config import load_config
from agent.context import build_context
from knowledge.memory import LazyMemory, RecallQuery
from knowledge.records import PastIncident, Runbook

_names = itertools.count()


def test_workers_share_a_memory_on_the_server_and_recall_what_embedded_does(
    tmp_path: Path, chroma_server: str, records: list[PastIncident | Runbook]
) -> None:
    collection = f"shared{next(_names)}"
    on_server = load_config(None, {"TRIAGE_CHROMA_URL": chroma_server})
    on_server = on_server.model_copy(
        update={"memory": on_server.memory.model_copy(update={"collection": collection})}
    )
    embedded = on_server.model_copy(
        update={"memory": on_server.memory.model_copy(update={"server_url": None})}
    )
    teacher, learner = (build_context(on_server, home=tmp_path / n) for n in ("a", "b"))
    alone = build_context(embedded, home=tmp_path / "embedded")
    incidents = [r for r in records if isinstance(r, PastIncident)]
    for ctx in (teacher, alone):
        assert isinstance(ctx.memory, LazyMemory)
        for record in incidents:
            ctx.memory.remember_resolved(record)
    query = RecallQuery(
        text="PaymentHighErrorRate payment errors after a deploy",
        services=["payment"],
        fault_types=["bad-deploy"],
        alert_names=["PaymentHighErrorRate"],
        before=datetime(2026, 7, 1, tzinfo=UTC),
        runbooks=0,
    )
    shared = learner.memory.recall(query)
    local = alone.memory.recall(query)
    assert learner.memory.opened.store.config.server_url == chroma_server  # type: ignore[attr-defined]
    assert [r.id for r in shared][:2] == ["INC-LATER", "INC-A"]
    assert [(r.id, round(r.score, 4)) for r in shared] == [(r.id, round(r.score, 4)) for r in local]
