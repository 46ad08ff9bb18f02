"""A real Alertmanager (Debian's prometheus-alertmanager) delivers to a live server.

The alert goes in through Alertmanager's own API, is grouped and sent by its
webhook receiver with the bearer token from its config, and comes out as a
triaged incident: the intake users configure, with nothing in between.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.server.app import Server, create_app
from tests.server.support import AM_TOKEN, LiveServer, free_port, wait_until
from tests.support.synthetic import SyntheticDataset
from tests.telemetry.support.servers import stop, wait_ready

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
pytestmark = pytest.mark.skipif(
    ALERTMANAGER is None,
    reason="needs Debian's prometheus-alertmanager (`make test` installs it)",
)


def alertmanager_config(webhook: str, *, resolved: bool) -> str:
    """One route to our webhook, sent at once (group_wait 1 s), with our bearer token;
    with `resolved`, recoveries too, flushed every 2 s."""
    interval = "2s" if resolved else "1m"
    return (
        "route:\n  receiver: triage\n  group_by: [alertname]\n"
        f"  group_wait: 1s\n  group_interval: {interval}\n  repeat_interval: 4h\n"
        "receivers:\n- name: triage\n  webhook_configs:\n"
        f"  - url: {webhook}\n    send_resolved: {str(resolved).lower()}\n"
        f"    http_config:\n      authorization:\n        credentials: {AM_TOKEN}\n"
    )


@contextmanager
def running_alertmanager(folder: Path, webhook: str, *, resolved: bool = False) -> Iterator[str]:
    """Alertmanager on a free port, routing everything to `webhook`; yields its URL."""
    assert ALERTMANAGER is not None
    config = folder / "alertmanager.yml"
    config.write_text(alertmanager_config(webhook, resolved=resolved), encoding="utf-8")
    url = f"http://127.0.0.1:{free_port()}"
    with (folder / "alertmanager.log").open("wb") as log:
        process = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={folder / 'data'}",
                f"--web.listen-address={url.removeprefix('http://')}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(f"{url}/-/ready", process)
            yield url
        finally:
            stop(process)


def post_alerts(alertmanager: str, alerts: list[dict[str, object]]) -> None:
    """What Prometheus does when a rule fires: POST the alerts to Alertmanager's API."""
    request = urllib.request.Request(
        f"{alertmanager}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def test_an_alert_sent_by_a_real_alertmanager_becomes_a_triaged_incident(
    server: Server, synthetic: SyntheticDataset, tmp_path: Path
) -> None:
    (case,) = synthetic.open().cases()
    fired = [
        {k: a[k] for k in ("labels", "annotations", "startsAt", "generatorURL") if k in a}
        for a in case.alert.payload["alerts"]
    ]
    with (
        LiveServer(create_app(server)) as live,
        running_alertmanager(tmp_path, f"{live.url}/v1/alerts/alertmanager") as manager,
    ):
        post_alerts(manager, fired)
        incident = wait_until(lambda: _triaged(live.url), timeout_s=90)
    assert [a["name"] for a in incident["alerts"]] == [f["labels"]["alertname"] for f in fired]
    assert incident["isolation"]["hypotheses"][0]["service"] == synthetic.spec.fault_service
    assert incident["drafts"] and {d["state"] for d in incident["drafts"]} == {"pending"}


def test_a_real_alertmanagers_recovery_resolves_the_alert_on_its_incident(
    server: Server, synthetic: SyntheticDataset, tmp_path: Path
) -> None:
    """Alertmanager sends the recovery of what it sent firing (send_resolved): it joins the
    incident as that alert, now resolved; no second incident is opened and nothing paged."""
    (case,) = synthetic.open().cases()
    fired = [
        {k: a[k] for k in ("labels", "annotations", "startsAt") if k in a}
        for a in case.alert.payload["alerts"]
    ]
    with (
        LiveServer(create_app(server)) as live,
        running_alertmanager(
            tmp_path, f"{live.url}/v1/alerts/alertmanager", resolved=True
        ) as manager,
    ):
        post_alerts(manager, fired)
        incident = wait_until(lambda: _triaged(live.url), timeout_s=90)
        ended = datetime.now(UTC) - timedelta(seconds=1)
        post_alerts(manager, [{**a, "endsAt": ended.isoformat()} for a in fired])
        resolved = wait_until(lambda: _all_resolved(live.url, incident["id"]), timeout_s=60)
        listed = httpx.get(f"{live.url}/v1/incidents").json()
    assert [i["id"] for i in listed] == [incident["id"]]
    assert len(resolved["alerts"]) == len(fired)
    assert {d["state"] for d in resolved["drafts"]} == {"pending"}


def _all_resolved(url: str, incident_id: str) -> dict[str, Any] | None:
    incident: dict[str, Any] = httpx.get(f"{url}/v1/incidents/{incident_id}").json()
    return incident if {a["status"] for a in incident["alerts"]} == {"resolved"} else None


def _triaged(url: str) -> dict[str, Any] | None:
    """The first incident, once its triage reached the drafts."""
    listed = httpx.get(f"{url}/v1/incidents").json()
    if not listed:
        return None
    incident: dict[str, Any] = httpx.get(f"{url}/v1/incidents/{listed[0]['id']}").json()
    return incident if incident.get("drafts") else None
