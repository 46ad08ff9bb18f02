"""The test receiver itself: scripted answers, recording, and requests from another process."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from urllib.error import HTTPError

import pytest

from tests.support.receiver import Receiver, Reply


def _post(url: str, body: bytes = b"{}") -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except HTTPError as err:
        return err.code, err.read().decode()


def test_scripted_replies_then_the_default() -> None:
    with Receiver(default=Reply(202, "fine")) as receiver:
        receiver.script(Reply(500, "boom"), Reply.json(400, {"message": "bad"}))
        answers = [_post(receiver.url("/x")) for _ in range(3)]
        assert answers == [(500, "boom"), (400, '{"message": "bad"}'), (202, "fine")]
        assert [r.status for r in receiver.requests] == [500, 400, 202]
        assert receiver.requests[0].json() == {}
        receiver.clear()
        assert receiver.requests == []


def test_requests_from_another_process_are_counted() -> None:
    with Receiver() as receiver:
        code = (
            "import urllib.request, sys;"
            "urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b'{\"n\": 1}'))"
        )
        subprocess.run([sys.executable, "-c", code, receiver.url("/hook")], check=True, timeout=30)
        (request,) = receiver.wait_for(1)
        assert (request.method, request.path, request.json()) == ("POST", "/hook", {"n": 1})
        with pytest.raises(TimeoutError, match="1 of 2 requests"):
            receiver.wait_for(2, timeout_s=0.1)


def test_a_stopped_receiver_has_no_port() -> None:
    receiver = Receiver().start()
    receiver.stop()
    with pytest.raises(RuntimeError, match="not started"):
        receiver.url()
