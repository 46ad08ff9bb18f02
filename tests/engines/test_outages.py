"""An engine that goes away for a moment while the system runs: accepted alerts are still
triaged without a person retrying them, and what is said about it is one line."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
import redis

from agent.alert.models import Alert
from agent.config.engines import EnginesConfig
from agent.engines.postgres.db import Database, DatabaseUnavailable
from agent.inbox.queue import InboxPolling
from agent.inbox.sqlite import SqliteInbox
from agent.incident.service import open_incident
from agent.runner import RunOutcome
from agent.server.app import Server, build_server, create_app
from agent.service import worker as worker_module
from agent.service.build import build_service
from agent.service.worker import InboxWorker
from tests.engines.conftest import POSTGRES_URL, configured
from tests.engines.support import Blackhole, TcpProxy
from tests.server.support import BEARER, ENV, LiveServer, wait_until

AT = datetime(2026, 5, 11, 9, 0, tzinfo=UTC)
FIRING = Path(__file__).parents[1] / "fixtures" / "alerts" / "alertmanager_firing.json"
FAST_S = 15.0  # generous beside the default 5 s wait for a connection; the pool's own is 30 s
ALERT = Alert(source="generic", name="Err", fingerprint="fp-1", starts_at=AT, service="payment")


class FlakyDesk:
    """A desk whose first `fails` triages meet a PostgreSQL that dropped the connection."""

    def __init__(self, fails: int) -> None:
        self.fails = fails
        self.calls = 0
        self.ctx = SimpleNamespace(clock=lambda: AT)

    def triage(self, item: object, received_at: datetime, on_step: object) -> RunOutcome:
        self.calls += 1
        if self.calls <= self.fails:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return RunOutcome(open_incident("INC-20260511-0001", [ALERT], AT), "new")


def test_a_triage_cut_short_by_postgresql_going_away_resumes_instead_of_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(worker_module, "ENGINE_RETRY_S", (0.01, 0.01, 0.01), raising=False)
    inbox = SqliteInbox(tmp_path / "inbox.sqlite")
    desk = FlakyDesk(fails=2)
    worker = InboxWorker(
        inbox, InboxPolling(inbox, lambda: AT), desk, workers=1, clock_for=lambda _: AT
    )  # type: ignore[arg-type]
    row = inbox.put("generic", [ALERT], AT, "sha").inbox_id
    with caplog.at_level(logging.WARNING):
        worker.start()
        try:
            done = wait_until(lambda: inbox.get(row).state in ("done", "failed"), timeout_s=10)
        finally:
            worker.stop()
    item = inbox.get(row)
    assert done and (item.state, item.incident_id) == ("done", "INC-20260511-0001"), item.error
    assert desk.calls == 3
    said = [r.getMessage() for r in caplog.records]
    assert any("PostgreSQL unreachable" in m for m in said), said
    assert all("\n" not in r.getMessage() and r.exc_info is None for r in caplog.records)


def test_a_triage_still_cut_short_after_the_waits_is_failed_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "ENGINE_RETRY_S", (0.01,), raising=False)
    inbox = SqliteInbox(tmp_path / "inbox.sqlite")
    worker = InboxWorker(
        inbox,
        InboxPolling(inbox, lambda: AT),
        FlakyDesk(fails=5),
        workers=1,
        clock_for=lambda _: AT,
    )  # type: ignore[arg-type]
    row = inbox.put("generic", [ALERT], AT, "sha").inbox_id
    worker.start()
    try:
        wait_until(lambda: inbox.get(row).state == "failed", timeout_s=10)
    finally:
        worker.stop()
    assert "OperationalError: server closed the connection" in (inbox.get(row).error or "")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("what", ["refused", "no such database"])
def test_a_database_that_cannot_be_reached_at_start_is_one_line_saying_why(what: str) -> None:
    if what == "refused":
        url, why = f"postgresql://postgres@127.0.0.1:{_closed_port()}/triage", "refused"
    else:
        url, why = POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_db_triage", "does not exist"
    with pytest.raises(DatabaseUnavailable) as raised:
        Database(url, EnginesConfig(pool_size=2))
    message = str(raised.value)
    assert message.startswith("cannot connect to PostgreSQL at 127.0.0.1:"), message
    assert why in message and "\n" not in message, message


def test_the_worker_command_takes_the_step_delay_the_kill_tests_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TRIAGE_TEST_TRIAGE_DELAY_S slows `triage worker` as it slows `triage serve`, so the
    tests that SIGKILL a worker mid-triage (tests/engines/support.py) really do."""
    import typer
    from typer.testing import CliRunner

    from agent import worker_cli
    from agent.service import build

    app = typer.Typer()
    app.callback()(lambda: None)
    worker_cli.register(app)

    seen: dict[str, object] = {}

    def capture(*args: object, **kwargs: object) -> None:
        seen.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(build, "build_service", capture)
    monkeypatch.setenv(build.STEP_DELAY_ENV, "2.5")
    config = tmp_path / "triage.yaml"
    config.write_text(
        "engines: {database_url: 'postgresql://x@db/t', queue_url: 'redis://q:6379/0'}\n"
    )
    CliRunner().invoke(app, ["worker", "--config", str(config), "--data-dir", str(tmp_path)])
    assert seen.get("role") == "worker" and seen.get("step_delay_s") == 2.5, seen


def test_a_request_meeting_a_database_gone_away_is_503_naming_it_in_one_log_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from fastapi.testclient import TestClient

    from tests.server.support import server_config

    server = build_server(server_config(None), tmp_path / "home", env=ENV.get)

    def gone() -> dict[str, int]:
        raise psycopg.OperationalError("consuming input failed: server closed the connection\n\tx")

    monkeypatch.setattr(server.inbox, "counts", gone)
    app = create_app(server, run_jobs=False)
    with caplog.at_level(logging.DEBUG, logger="agent"), TestClient(app) as client:
        reply = client.get("/v1/health")
    assert reply.status_code == 503, reply.text
    assert reply.json()["error"] == "engine_unavailable"
    assert reply.json()["detail"].startswith("PostgreSQL is unreachable (OperationalError: ")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "request failed: OperationalError: consuming input failed: server closed the connection x"
    ]
    assert all(r.exc_info is None for r in errors)


def test_health_names_a_redis_that_stopped_answering(
    tmp_path: Path, engines: EnginesConfig
) -> None:
    """Alerts are still accepted while Redis is away (they wait in the inbox), but the
    health check must say so, not 'ok'."""
    port = _closed_port()
    redis_server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        wait_until(lambda: _answers(url))
        settings = engines.model_copy(update={"queue_url": url})
        service = build_service(configured(None, settings), tmp_path / "home", role="api")
        try:
            assert not any("Redis" in r for r in service.degraded())
            redis_server.terminate()
            redis_server.wait(10)
            (reason,) = [r for r in service.degraded() if "Redis" in r]
            assert f"127.0.0.1:{port}" in reason and "is not answering" in reason, reason
            assert "\n" not in reason
        finally:
            service.close()
    finally:
        redis_server.kill()
        redis_server.wait(10)


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def test_health_names_a_postgresql_that_went_away_within_seconds(
    tmp_path: Path, engines: EnginesConfig
) -> None:
    """Not after the pool's 30 s wait for a connection: a load balancer asking would have
    given up, and no reason would be shown."""
    from fastapi.testclient import TestClient

    proxy = TcpProxy(_upstream(engines))
    server = _server_through(proxy, engines, tmp_path)
    try:
        with TestClient(create_app(server, run_jobs=False)) as client:
            assert client.get("/v1/health").json()["status"] == "ok"
            proxy.stop()
            for empty_pool in (False, True):
                if empty_pool:
                    _drop_pooled(server)
                started = time.monotonic()
                reply = client.get("/v1/health")
                assert time.monotonic() - started < 5, "health waited for the pool"
                assert reply.status_code == 200, reply.text
                health = reply.json()
                assert health["status"] == "degraded", health
                (reason,) = health["reasons"]
                assert reason.startswith(f"PostgreSQL at 127.0.0.1:{proxy.port}/"), reason
                assert "is not answering" in reason and "\n" not in reason, reason
    finally:
        proxy.stop()
        server.service.close()


def _upstream(engines: EnginesConfig) -> tuple[str, int]:
    parts = urlsplit(engines.database_url or "")
    return parts.hostname or "127.0.0.1", parts.port or 5432


def _server_through(proxy: TcpProxy, engines: EnginesConfig, tmp_path: Path) -> Server:
    """A server (no queue) reaching the test's PostgreSQL through `proxy`."""
    parts = urlsplit(engines.database_url or "")
    through = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    settings = engines.model_copy(update={"database_url": through, "queue_url": None})
    return build_server(configured(None, settings), tmp_path / "home", env=ENV.get)


def _drop_pooled(server: Server) -> None:
    """The pool discards the connections the engine dropped (as their next use would), so
    what follows must make new ones."""
    database = server.ctx.engines.database
    assert database is not None
    database.pool.check()


def _unavailable(reply: httpx.Response) -> None:
    assert reply.status_code == 503, reply.text
    problem = reply.json()
    assert problem["error"] == "engine_unavailable", problem
    assert problem["detail"].startswith("PostgreSQL is unreachable ("), problem
    assert "\n" not in problem["detail"], problem


def test_requests_meeting_a_database_that_refuses_fail_within_seconds_as_503_naming_it(
    tmp_path: Path, engines: EnginesConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """Pages, the API and an alert each answer 503 naming PostgreSQL within seconds, not
    after the pool's default 30 s wait; the refused alert, sent again as Alertmanager does,
    is accepted once PostgreSQL answers: refused or stored, never dropped."""
    proxy = TcpProxy(_upstream(engines))
    server = _server_through(proxy, engines, tmp_path)
    seeded = server.ctx.store.save(open_incident(server.ctx.store.new_id(AT), [ALERT], AT))
    alert = FIRING.read_bytes()
    requests = [
        ("GET", "/v1/incidents"),
        ("GET", "/"),
        ("GET", "/overview"),
        ("GET", f"/incidents/{seeded.id}"),
        ("POST", "/v1/alerts/alertmanager"),
    ]
    headers = {**BEARER, "Accept": "text/html"}
    try:
        with (
            caplog.at_level(logging.WARNING),
            LiveServer(create_app(server, run_jobs=False)) as live,
            httpx.Client(base_url=live.url, headers=headers, timeout=120) as client,
        ):
            proxy.stop()
            _drop_pooled(server)
            for method, path in requests:
                started = time.monotonic()
                reply = client.request(method, path, content=alert if method == "POST" else None)
                assert time.monotonic() - started < FAST_S, f"{method} {path} waited for the pool"
                _unavailable(reply)
            proxy = TcpProxy(_upstream(engines), proxy.port)
            post = "/v1/alerts/alertmanager"
            wait_until(lambda: client.post(post, content=alert).status_code == 202, timeout_s=60)
            (row,) = client.get("/v1/inbox").json()
            assert [a["fingerprint"] for a in row["alerts"]] == [
                a["fingerprint"] for a in json.loads(alert)["alerts"]
            ], row
    finally:
        proxy.stop()
        server.service.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and all(r.exc_info is None and "\n" not in r.getMessage() for r in errors)


def test_a_database_behind_a_blackhole_fails_requests_within_seconds_and_serves_once_back(
    tmp_path: Path, engines: EnginesConfig
) -> None:
    """Connections taken and never answered (a blackholed network): a request fails within
    seconds, and the pool's own connection attempts give up after the connect timeout (not
    psycopg's 130 s), so the server answers again soon after PostgreSQL is reachable."""
    proxy = TcpProxy(_upstream(engines))
    server = _server_through(proxy, engines, tmp_path)
    hole: Blackhole | None = None
    try:
        with (
            LiveServer(create_app(server, run_jobs=False)) as live,
            httpx.Client(base_url=live.url, timeout=200) as client,
        ):
            assert client.get("/v1/incidents").status_code == 200
            proxy.stop()
            hole = Blackhole(proxy.port)
            _drop_pooled(server)
            started = time.monotonic()
            _unavailable(client.get("/v1/incidents"))
            assert time.monotonic() - started < FAST_S, "the request waited for the pool"
            hole.release_port()
            proxy = TcpProxy(_upstream(engines), proxy.port)
            wait_until(lambda: client.get("/v1/incidents").status_code == 200, timeout_s=40)
    finally:
        proxy.stop()
        if hole is not None:
            hole.close()
        server.service.close()


def test_a_live_event_stream_meeting_a_database_gone_away_ends_cleanly(
    tmp_path: Path, engines: EnginesConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """The war room's event stream ends its body (the browser reconnects after its retry)
    with one warning line, instead of the connection being cut with a traceback."""
    proxy = TcpProxy(_upstream(engines))
    server = _server_through(proxy, engines, tmp_path)
    try:
        with (
            caplog.at_level(logging.WARNING, logger="agent"),
            LiveServer(create_app(server, run_jobs=False)) as live,
            httpx.Client(base_url=live.url, timeout=60) as client,
            client.stream("GET", "/v1/events") as reply,
        ):
            lines = reply.iter_lines()
            assert next(lines) == "retry: 2000" and next(lines) == ""
            assert next(lines).startswith("event: changed")
            proxy.stop()
            rest = list(lines)  # an incomplete body raises here
    finally:
        proxy.stop()
        server.service.close()
    assert not any(line.startswith("event:") for line in rest), rest
    said = [r.getMessage() for r in caplog.records if "event stream" in r.getMessage()]
    assert len(said) == 1 and "PostgreSQL" in said[0] and "\n" not in said[0], said
