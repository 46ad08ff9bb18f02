"""The embedded and the PostgreSQL implementations keep the same interfaces: incidents,
inbox, outbox; and PostgreSQL's own guarantees (numbering and dedup under concurrency,
versioned migrations)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.alert.models import Alert
from agent.config import TriageConfig
from agent.config.engines import EnginesConfig
from agent.engines import Engines
from agent.engines.postgres.db import Database, migrations
from agent.inbox.sqlite import SCHEMA, SqliteInbox
from agent.incident.service import open_incident
from agent.incident.store import IncidentNotFound

AT = datetime(2026, 5, 11, 9, 0, tzinfo=UTC)


def alert(k: int, service: str = "payment") -> Alert:
    return Alert(
        source="generic", name=f"Err{k}", fingerprint=f"fp-{k}", starts_at=AT, service=service
    )


@pytest.fixture(params=["sqlite", "postgres"])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engines]:
    settings = EnginesConfig()
    if request.param == "postgres":
        settings = request.getfixturevalue("engines").model_copy(update={"queue_url": None})
    config = TriageConfig(engines=settings)
    engines = Engines(config, tmp_path, tmp_path / "outbox.jsonl")
    yield engines
    engines.close()


def test_incidents_are_saved_found_and_listed(opened: Engines) -> None:
    store = opened.store
    first = open_incident(store.new_id(AT), [alert(1)], AT)
    second = open_incident(store.new_id(AT), [alert(2, "cart")], AT + timedelta(minutes=1))
    store.save(first)
    store.save(second)
    assert (first.id, second.id) == ("INC-20260511-0001", "INC-20260511-0002")
    assert store.get(first.id) == first
    assert [i.id for i in store.recent()] == [second.id, first.id]
    found = store.open_with_keys({"svc:payment", "svc:nothing"}, AT - timedelta(minutes=30))
    assert [i.id for i in found] == [first.id]
    store.save(first.model_copy(update={"status": "resolved"}))
    assert store.open_with_keys({"svc:payment"}, AT - timedelta(minutes=30)) == []
    assert [i.id for i in store.recent("resolved")] == [first.id]
    assert [i.id for i in store.ended_with_keys({"fp:fp-1"}, AT)] == [first.id]
    assert store.ended_with_keys({"fp:fp-1"}, AT + timedelta(seconds=1)) == []
    assert store.ended_with_keys({"fp:fp-2"}, AT) == [], "the open one is not ended"
    with pytest.raises(IncidentNotFound, match="INC-20260511-0002"):
        store.get("INC-nope")


def test_the_inbox_keeps_each_alert_once_and_records_its_triage(opened: Engines) -> None:
    inbox = opened.inbox
    accepted = inbox.put("generic", [alert(1), alert(2)], AT, "sha")
    again = inbox.put("generic", [alert(2)], AT, "sha")
    partly = inbox.put("generic", [alert(2), alert(3)], AT, "sha")
    assert (accepted.duplicate, accepted.alerts) == (False, 2)
    assert (again.duplicate, again.inbox_id) == (True, accepted.inbox_id)
    assert (partly.duplicate, partly.alerts) == (False, 1)
    assert [a.fingerprint for a in inbox.get(partly.inbox_id).alerts] == ["fp-3"]
    started = inbox.start(accepted.inbox_id, AT)
    assert started is not None and started.state == "running" and started.attempts == 1
    inbox.finish(accepted.inbox_id, "INC-1", "new", AT)
    assert inbox.start(accepted.inbox_id, AT) is None, "a finished row is not started again"
    inbox.fail(partly.inbox_id, "boom", AT)
    assert inbox.counts() == {"done": 1, "failed": 1}
    assert inbox.retry(partly.inbox_id, AT).state == "queued"
    assert inbox.alerts_stored() == 3


def test_a_row_done_without_an_incident_keeps_its_outcome(opened: Engines) -> None:
    inbox = opened.inbox
    row = inbox.put("generic", [alert(1)], AT, "sha").inbox_id
    inbox.start(row, AT)
    inbox.finish(row, None, None, AT, outcome="recovery with no open incident: nothing to do")
    done = inbox.get(row)
    assert (done.state, done.incident_id, done.outcome) == (
        "done",
        None,
        "recovery with no open incident: nothing to do",
    )


def test_an_embedded_inbox_from_before_outcomes_opens_and_records_them(tmp_path: Path) -> None:
    path = tmp_path / "inbox.sqlite"
    old = sqlite3.connect(path)
    before = SCHEMA.replace("    outcome TEXT,\n", "")
    assert "outcome" not in before
    old.executescript(before)
    old.close()
    inbox = SqliteInbox(path)
    row = inbox.put("generic", [alert(1)], AT, "sha").inbox_id
    inbox.finish(row, None, None, AT, outcome="nothing to do")
    assert inbox.get(row).outcome == "nothing to do"
    inbox.close()


def test_a_late_failure_of_a_repeat_delivery_does_not_undo_a_recorded_triage(
    opened: Engines,
) -> None:
    """Two deliveries of one row (a claim while PostgreSQL was away): the one that finished
    stands, the one that failed after it does not turn the row `failed`."""
    inbox = opened.inbox
    row = inbox.put("generic", [alert(1)], AT, "sha").inbox_id
    assert inbox.start(row, AT) is not None and inbox.start(row, AT) is not None
    inbox.finish(row, "INC-1", "new", AT)
    inbox.fail(row, "OperationalError: server closed the connection unexpectedly", AT)
    done = inbox.get(row)
    assert (done.state, done.incident_id, done.error) == ("done", "INC-1", None)


def test_concurrent_ids_and_deliveries_never_collide(
    engines: EnginesConfig, tmp_path: Path
) -> None:
    """Many writers at once (as from many workers): every id once, every alert stored once."""
    pg = Engines(
        TriageConfig(engines=engines.model_copy(update={"queue_url": None})),
        tmp_path,
        tmp_path / "o",
    )
    try:
        with ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(lambda _: pg.store.new_id(AT), range(200)))
            rows = list(
                pool.map(lambda k: pg.inbox.put("generic", [alert(k % 50)], AT, "s"), range(200))
            )
        assert len(set(ids)) == 200
        fresh = [r for r in rows if not r.duplicate]
        assert len(fresh) == 50 and pg.inbox.alerts_stored() == 50
        assert {r.inbox_id for r in rows if r.duplicate} <= {r.inbox_id for r in fresh}
    finally:
        pg.close()


def test_migrations_are_versioned_and_applied_once(engines: EnginesConfig) -> None:
    assert engines.database_url is not None
    small = engines.model_copy(update={"pool_size": 2})
    first, second = Database(engines.database_url, small), Database(engines.database_url, small)
    try:
        applied = first.migrate()
        assert applied == [name for _, name, _ in migrations()]
        assert second.migrate() == []
        with first.pool.connection() as connection:
            rows = connection.execute("SELECT version FROM triage_migrations ORDER BY version")
            assert [r["version"] for r in rows] == [v for v, _, _ in migrations()]
    finally:
        first.close()
        second.close()


def test_the_outbox_ledger_hands_back_a_settled_send(opened: Engines) -> None:
    outbox = opened.outbox
    assert outbox.reserve("INC-1/page/r1") is None
    assert outbox.reserve("INC-1/page/r1") is None, "reserved, not settled: send again"
    outbox.settle("INC-1/page/r1", {"status": "sent", "detail": "dedup_key INC-1"})
    assert outbox.reserve("INC-1/page/r1") == {"status": "sent", "detail": "dedup_key INC-1"}
