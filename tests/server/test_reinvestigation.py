"""`triage serve` looks again at open incidents: telemetry that failed is retried with backoff
and the incident re-investigated when it answers; on a live clock, when time has passed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from agent.server.app import Server, build_server, create_app
from tests.server.support import BEARER, ENV, case_body, server_config, wait_until
from tests.support.synthetic import SyntheticDataset
from tools.telemetry.backend import TelemetryBackend, TelemetryError, TelemetryKind
from tools.telemetry.config import KINDS
from tools.telemetry.models import Topology

DOWN = "store at 127.0.0.1:9 unreachable: connection refused"


class Down(TelemetryBackend):
    """A store that answers nothing."""

    def kinds(self) -> set[TelemetryKind]:
        raise TelemetryError(DOWN)

    def services(self) -> list[str]:
        raise TelemetryError(DOWN)

    def topology(self) -> Topology:
        raise TelemetryError(DOWN)


class Flaky:
    """The synthetic dataset's telemetry, down until `up` is set."""

    def __init__(self, opener: Callable[[datetime], TelemetryBackend]) -> None:
        self.opener = opener
        self.up = False

    def __call__(self, now: datetime) -> TelemetryBackend:
        return self.opener(now) if self.up else Down(now)


def _incident(server: Server, body: bytes) -> str:
    with TestClient(create_app(server, run_jobs=False)) as client:
        server.worker.start()
        try:
            row = client.post("/v1/alerts/alertmanager", content=body, headers=BEARER).json()
            item = wait_until(
                lambda: (
                    (i := client.get(f"/v1/inbox/{row['inbox_id']}").json())["state"] == "done"
                    and i
                )
            )
        finally:
            server.worker.stop()
    return str(item["incident_id"])


def test_failed_telemetry_is_retried_with_backoff_and_the_incident_looked_at_again(
    tmp_path: Path, synthetic: SyntheticDataset
) -> None:
    server = build_server(server_config(synthetic.root), tmp_path / "home", env=ENV.get)
    flaky = Flaky(synthetic.open().at)
    server.ctx.telemetry = flaky
    incident_id = _incident(server, case_body(synthetic))
    blind = server.ctx.store.get(incident_id)
    assert set(blind.telemetry_gaps) == set(KINDS) and DOWN in blind.telemetry_gaps["metrics"]
    assert blind.isolation is not None and blind.isolation.verdict == "inconclusive"

    looks = server.looks
    assert looks.check(now=0.0) == [] and looks.retries[incident_id].next_at == 30.0
    assert any(DOWN in r for r in server.degraded())
    assert looks.check(now=31.0) == []  # tried: still down, next in 60 s
    assert looks.retries[incident_id].next_at == 91.0
    assert looks.check(now=60.0) == []  # not yet
    assert looks.check(now=92.0) == [] and looks.retries[incident_id].next_at == 212.0

    flaky.up = True
    assert looks.check(now=213.0) == [incident_id]
    seen = server.ctx.store.get(incident_id)
    assert seen.telemetry_gaps == {} and seen.isolation is not None
    assert seen.isolation.verdict == "conclusive" and seen.isolation.top().service == "payment"  # type: ignore[union-attr]
    assert seen.routing is not None and seen.routing.page_team == "payments"
    entry = seen.timeline[-1]
    assert entry.kind == "reinvestigation" and "answered again" in entry.text
    assert "readable again" in entry.text and "verdict inconclusive → conclusive" in entry.text
    assert server.degraded() == [] and looks.retries == {}


def test_on_a_live_clock_an_open_incident_is_looked_at_again_as_time_passes(
    tmp_path: Path, synthetic: SyntheticDataset
) -> None:
    case = synthetic.open().cases()[0]
    now = [case.now]
    config = server_config(synthetic.root, clock="wall")
    server = build_server(config, tmp_path / "home", env=ENV.get, clock=lambda: now[0])
    incident_id = _incident(server, case_body(synthetic))
    assert server.looks.check(now=0.0) == [], "not yet due"
    now[0] = case.now + timedelta(minutes=16)
    assert server.looks.check(now=1.0) == [incident_id]
    seen = server.ctx.store.get(incident_id)
    assert seen.isolation is not None and seen.isolation.now == now[0]
    assert seen.timeline[-1].text.startswith(
        "Re-investigated (16 minutes since the last investigation)"
    )
    assert server.looks.check(now=2.0) == [], "just looked"
