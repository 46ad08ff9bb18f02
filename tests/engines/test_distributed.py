"""The distributed mode for real: `triage serve --role api` in this process, `triage
worker`s as processes, PostgreSQL and Redis on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.alert.models import Alert
from agent.bench.pager import FakePagerDuty
from agent.config.engines import EnginesConfig
from agent.server.app import build_server, create_app
from agent.service.build import build_service
from tests.engines.conftest import configured
from tests.engines.support import process, worker, write_config
from tests.server.support import BEARER, ENV, PD_KEY_ENV, case_body, server_config, wait_until
from tests.support.receiver import Receiver
from tests.support.synthetic import SyntheticDataset


def _row(client: TestClient, row: int, state: str = "done") -> dict[str, Any] | None:
    item: dict[str, Any] = client.get(f"/v1/inbox/{row}").json()
    assert item["state"] != "failed", item["error"]
    return item if item["state"] == state else None


def test_a_worker_triages_and_an_approval_in_the_api_resumes_its_run(
    tmp_path: Path,
    synthetic: SyntheticDataset,
    engines: EnginesConfig,
    pagerduty: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PD_KEY_ENV, ENV[PD_KEY_ENV])
    base = server_config(synthetic.root, pagerduty.url("/v2/enqueue"))
    config = base.model_copy(update={"engines": engines})
    path = write_config(config, tmp_path / "triage.yaml")
    server = build_server(config, tmp_path / "api", role="api", env=ENV.get)
    with (
        TestClient(create_app(server)) as client,
        worker(path, tmp_path / "worker", tmp_path / "worker.log"),
    ):
        reply = client.post("/v1/alerts/alertmanager", content=case_body(synthetic), headers=BEARER)
        assert reply.status_code == 202, reply.text
        done = wait_until(lambda: _row(client, reply.json()["inbox_id"]), timeout_s=120)
        incident_id = done["incident_id"]
        page = f"{incident_id}-page"
        approved = client.post(
            f"/v1/incidents/{incident_id}/drafts/{page}/approve", json={"by": "aki"}
        )
    assert approved.status_code == 200, approved.text
    assert approved.json()["draft"]["state"] == "sent"
    assert len(pagerduty.requests) == 1
    assert pagerduty.requests[0].json()["dedup_key"] == incident_id
    assert not server.service.worker._threads[0].is_alive(), "the API triages nothing"


def test_alerts_of_one_incident_at_the_same_moment_open_one_incident(
    tmp_path: Path, engines: EnginesConfig
) -> None:
    """Two workers (each its own pool, as two processes) take eight alerts of one service
    at once: one opens the incident, seven join it, no attachment is lost."""
    config = configured(None, engines)
    services = [build_service(config, tmp_path / n, role="worker") for n in ("a", "b")]
    now = datetime.now(UTC)
    alerts = [
        Alert(source="generic", name=f"E{k}", fingerprint=f"fp-{k}", starts_at=now, service="cart")
        for k in range(8)
    ]
    rows = [services[0].inbox.put("generic", [a], now, "s").inbox_id for a in alerts]
    items = [services[0].inbox.get(r) for r in rows]
    try:
        with ThreadPoolExecutor(8) as pool:
            outcomes = list(
                pool.map(
                    lambda k: services[k % 2].desk.triage(items[k], now, lambda _: None),
                    range(len(items)),
                )
            )
        assert [o.correlated for o in outcomes].count("new") == 1
        (incident_id,) = {o.incident.id for o in outcomes}
        stored = services[1].ctx.store.get(incident_id)
        assert sorted(a.fingerprint for a in stored.alerts) == sorted(a.fingerprint for a in alerts)
        assert len(services[0].ctx.store.recent()) == 1
    finally:
        for service in services:
            service.close()


def test_a_dead_workers_alert_is_taken_over_and_its_run_resumed_not_redone(
    tmp_path: Path, synthetic: SyntheticDataset, engines: EnginesConfig
) -> None:
    config = configured(synthetic.root, engines)
    path = write_config(config, tmp_path / "triage.yaml")
    server = build_server(config, tmp_path / "api", role="api", env=ENV.get)
    with TestClient(create_app(server)) as client:
        with worker(path, tmp_path / "w1", tmp_path / "w1.log", step_delay_s=1.0) as first:
            reply = client.post(
                "/v1/alerts/alertmanager", content=case_body(synthetic), headers=BEARER
            )
            row = reply.json()["inbox_id"]
            mid = wait_until(lambda: _investigated(server, row), timeout_s=120)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        assert mid["state"] == "running"
        with worker(path, tmp_path / "w2", tmp_path / "w2.log"):
            done = wait_until(lambda: _row(client, row), timeout_s=120)
        timeline = client.get(f"/v1/incidents/{done['incident_id']}/timeline").json()
    kinds = [e["kind"] for e in timeline]
    assert done["attempts"] == 2
    counts = (kinds.count("opened"), kinds.count("investigation"), kinds.count("draft"))
    assert counts == (1, 1, 1), kinds
    assert server.service.queue.pending() == 0  # type: ignore[attr-defined]


def _investigated(server: Any, row: int) -> dict[str, Any] | None:
    item = server.inbox.get(row)
    if item.state != "running" or not server.ctx.store.recent():
        return None
    incident = server.ctx.store.recent()[0]
    return item.model_dump() if any(e.kind == "investigation" for e in incident.timeline) else None


def test_a_page_is_sent_once_even_if_the_sender_dies_before_recording_it(
    tmp_path: Path,
    synthetic: SyntheticDataset,
    engines: EnginesConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The approving process dies while PagerDuty holds its trigger: the send is carried
    through later under the same dedup_key (PagerDuty folds it into one page), and the
    incident records one page sent."""
    monkeypatch.setenv(PD_KEY_ENV, ENV[PD_KEY_ENV])
    approver: list[subprocess.Popen[bytes]] = []
    pager = FakePagerDuty(on_trigger=lambda _: approver and _kill(approver.pop()))
    with pager:
        config = configured(synthetic.root, engines)
        pd = {"events_url": pager.url, "routing_key_env": PD_KEY_ENV}
        config = config.model_copy(
            update={
                "dispatch": config.dispatch.model_validate({"max_attempts": 1, "pagerduty": pd})
            }
        )
        path = write_config(config, tmp_path / "triage.yaml")
        server = build_server(config, tmp_path / "api", role="api", env=ENV.get)
        with (
            TestClient(create_app(server)) as client,
            worker(path, tmp_path / "w", tmp_path / "w.log"),
        ):
            reply = client.post(
                "/v1/alerts/alertmanager", content=case_body(synthetic), headers=BEARER
            )
            done = wait_until(lambda: _row(client, reply.json()["inbox_id"]), timeout_s=120)
        incident_id = done["incident_id"]
        command = ["approve", incident_id, f"{incident_id}-page", "--by", "aki"]
        with process(command, path, tmp_path / "cli", tmp_path / "cli.log") as cli:
            approver.append(cli)
            assert cli.wait(timeout=120) == -signal.SIGKILL
        cut = server.ctx.store.get(incident_id)
        assert cut.draft(f"{incident_id}-page").state == "approved", "sent but not recorded"  # type: ignore[union-attr]
        server.desk.escalate()  # the job that carries cut sends through
        after = server.ctx.store.get(incident_id)
    sent = [d for d in after.dispatches if d.status == "sent"]
    assert dict(pager.triggers) == {incident_id: 2}, "one dedup_key: one PagerDuty alert"
    assert len(sent) == 1 and after.draft(f"{incident_id}-page").state == "sent"  # type: ignore[union-attr]


def _kill(victim: subprocess.Popen[bytes]) -> None:
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()


def test_a_dead_holders_lock_is_let_go_at_once(tmp_path: Path, engines: EnginesConfig) -> None:
    """Advisory locks live with the connection: a SIGKILLed worker holds nothing."""
    code = (
        "import sys, time, psycopg\n"
        "from agent.engines.locks import lock_number\n"
        "c = psycopg.connect(sys.argv[1], autocommit=True)\n"
        "c.execute('SELECT pg_advisory_lock(%s)', (lock_number('incident:INC-1'),))\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(engines.database_url)], stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        service = build_service(configured(None, engines), tmp_path, role="worker")
        holder.kill()
        holder.wait()
        with ThreadPoolExecutor(1) as pool:
            taken = pool.submit(lambda: service.desk.holding("INC-1").release())
            taken.result(timeout=10)
        service.close()
    finally:
        if holder.poll() is None:
            holder.kill()


def test_an_accepted_row_the_stream_never_got_is_published_by_the_sweep(
    tmp_path: Path, engines: EnginesConfig
) -> None:
    """The API died between its commit and its XADD: the row is not lost."""
    service = build_service(configured(None, engines), tmp_path, role="worker")
    past = datetime(2026, 5, 11, 9, 0, tzinfo=UTC)
    try:
        alert = Alert(source="generic", name="E", fingerprint="fp-x", starts_at=past)
        row = service.inbox.put("generic", [alert], past, "s").inbox_id  # no publish
        taken = wait_until(lambda: service.queue.receive(1, 0.2), timeout_s=30)
        assert [d.inbox_id for d in taken] == [row]
    finally:
        service.close()


def test_one_server_on_postgres_without_a_queue_triages_itself(
    tmp_path: Path, synthetic: SyntheticDataset, engines: EnginesConfig
) -> None:
    """TRIAGE_DATABASE_URL alone: `triage serve` keeps its state in PostgreSQL and drains
    the inbox itself, as the embedded one does."""
    config = configured(synthetic.root, engines.model_copy(update={"queue_url": None}))
    server = build_server(config, tmp_path / "home", env=ENV.get)
    with TestClient(create_app(server)) as client:
        reply = client.post("/v1/alerts/alertmanager", content=case_body(synthetic), headers=BEARER)
        done = wait_until(lambda: _row(client, reply.json()["inbox_id"]), timeout_s=120)
        incident = client.get(f"/v1/incidents/{done['incident_id']}").json()
    assert [d["state"] for d in incident["drafts"]].count("pending") >= 1
    assert server.ctx.engines.describe()["queue"] == "inbox table"


def test_a_recovery_no_open_incident_holds_opens_nothing_on_a_worker(
    tmp_path: Path, engines: EnginesConfig
) -> None:
    """On PostgreSQL and Redis as embedded: the row is kept, done, with its outcome."""
    config = configured(None, engines)
    path = write_config(config, tmp_path / "triage.yaml")
    server = build_server(config, tmp_path / "api", role="api", env=ENV.get)
    body = Path(__file__).parents[1] / "fixtures" / "alerts" / "alertmanager_resolved.json"
    with (
        TestClient(create_app(server)) as client,
        worker(path, tmp_path / "worker", tmp_path / "worker.log"),
    ):
        reply = client.post("/v1/alerts/alertmanager", content=body.read_bytes(), headers=BEARER)
        assert reply.status_code == 202, reply.text
        done = wait_until(lambda: _row(client, reply.json()["inbox_id"]), timeout_s=120)
        listed = client.get("/v1/incidents").json()
    assert (done["incident_id"], done["outcome"]) == (
        None,
        "recovery with no open incident: nothing to do",
    )
    assert listed == []
    assert "nothing to do" in (tmp_path / "worker.log").read_text()
