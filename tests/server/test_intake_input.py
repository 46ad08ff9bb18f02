"""Hostile or odd bodies at the webhook: a 400 naming the field, never a 500, and one
sender's bad request never fails another sender's alerts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.alert.models import Alert
from agent.config import TriageConfig
from agent.inbox.models import Accepted
from agent.inbox.sqlite import SqliteInbox
from agent.server.app import Server, build_server, create_app
from agent.server.auth import sign
from tests.server.support import BEARER, ENV, GENERIC_SECRET, wait_until


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[tuple[TestClient, Server]]:
    server = build_server(TriageConfig.model_validate({}), tmp_path / "home", env=ENV.get)
    with TestClient(create_app(server, run_jobs=False)) as client:
        yield client, server


def signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {
        "X-Triage-Timestamp": stamp,
        "X-Triage-Signature": sign(GENERIC_SECRET.encode(), stamp, body),
    }


def test_a_number_of_thousands_of_digits_is_a_400_not_a_500(
    intake: tuple[TestClient, Server],
) -> None:
    client, server = intake
    body = b'{"receiver": "r", "alerts": [], "x": 1' + b"0" * 5000 + b"}"
    reply = client.post("/v1/alerts/alertmanager", content=body, headers=BEARER)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == "invalid_alert"
    assert reply.json()["field"] == "payload"
    assert "set_int_max_str_digits" not in reply.json()["detail"]
    assert server.inbox.alerts_stored() == 0


def test_a_timestamp_beyond_any_float_names_its_field(intake: tuple[TestClient, Server]) -> None:
    client, _ = intake
    body = json.dumps({"name": "DiskFull", "starts_at": 10**400}).encode()
    reply = client.post("/v1/alerts/generic", content=body, headers=signed(body))
    assert reply.status_code == 400, reply.text
    assert reply.json()["field"] == "starts_at"


def test_half_a_surrogate_pair_is_kept_as_a_replacement_character(
    intake: tuple[TestClient, Server],
) -> None:
    client, server = intake
    body = b'{"name": "Disk\\ud800Full", "starts_at": "2024-03-01T12:00:00Z",'
    body += b' "labels": {"k\\udc00": "v\\ud800"}}'
    reply = client.post("/v1/alerts/generic", content=body, headers=signed(body))
    assert reply.status_code == 202, reply.text
    (item,) = server.inbox.items()
    assert item.alerts[0].name == "Disk\ufffdFull"
    assert item.alerts[0].labels == {"k\ufffd": "v\ufffd"}


def test_one_request_that_cannot_be_stored_fails_alone(tmp_path: Path) -> None:
    """Concurrent requests share one commit; a request whose insert fails must not take
    the other senders' alerts (committed in the same batch) down with it."""
    inbox = SqliteInbox(tmp_path / "inbox.sqlite")
    at = datetime(2024, 3, 1, 12, tzinfo=UTC)
    good = Alert(source="generic", fingerprint="good", name="Good", starts_at=at)
    # Built without validation, as nothing valid could be: text that cannot be encoded.
    bad = Alert.model_construct(**{**good.model_dump(), "fingerprint": "bad", "name": "\ud800"})
    outcomes: dict[str, Accepted | BaseException] = {}

    def put(name: str, alert: Alert) -> None:
        try:
            outcomes[name] = inbox.put("generic", [alert], at, name)
        except BaseException as error:
            outcomes[name] = error

    with inbox._lock:  # hold the commit so both requests queue into one batch
        threads = [
            threading.Thread(target=put, args=("bad", bad)),
            threading.Thread(target=put, args=("good", good)),
        ]
        for thread in threads:
            thread.start()
        wait_until(lambda: len(inbox._queue) == 2, timeout_s=10)
    for thread in threads:
        thread.join(timeout=10)
    assert isinstance(outcomes["bad"], BaseException)
    assert isinstance(outcomes["good"], Accepted), outcomes["good"]
    assert [a.name for item in inbox.items() for a in item.alerts] == ["Good"]
    inbox.close()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "alertmanager: payload: empty, not JSON"),
        (b" \r\n", "alertmanager: payload: empty, not JSON"),
        (b'"{\\"receiver\\": \\"r\\"}"', "alertmanager: payload: expected an object, got string"),
    ],
)
def test_an_empty_body_or_a_json_string_says_so(
    intake: tuple[TestClient, Server], body: bytes, problem: str
) -> None:
    """Not 'Expecting value: line 1 column 1 (char 0)', nor 'not JSON' for valid JSON."""
    client, server = intake
    reply = client.post("/v1/alerts/alertmanager", content=body, headers=BEARER)
    assert reply.status_code == 400, reply.text
    assert (reply.json()["detail"], reply.json()["field"]) == (problem, "payload")
    assert server.inbox.alerts_stored() == 0


def test_a_body_that_is_not_utf8_says_which_byte_and_where(
    intake: tuple[TestClient, Server],
) -> None:
    """Latin-1 from a misconfigured forwarder: the sender is told the byte and its offset."""
    client, server = intake
    body = '{"receiver": "r", "alerts": [], "note": "Café"}'.encode("latin-1")
    reply = client.post("/v1/alerts/alertmanager", content=body, headers=BEARER)
    assert reply.status_code == 400, reply.text
    assert reply.json()["detail"] == "alertmanager: payload: not UTF-8 text: byte 0xe9 at offset 44"
    assert server.inbox.alerts_stored() == 0
