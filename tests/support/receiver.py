"""A real HTTP server on 127.0.0.1 that records requests and answers from a script.

It stands in for PagerDuty, Slack or any webhook in tests, so adapters are
checked on the wire (method, path, headers, body) rather than through mocks:

    with Receiver(default=Reply(202, '{"status": "success"}')) as pd:
        pd.script(Reply(500), Reply(429, headers={"Retry-After": "0"}))
        ...send to pd.url("/v2/enqueue")...
        assert [r.status for r in pd.requests] == [500, 429, 202]

Scripted replies are used once each, in order, then `default` answers. The
server runs in a daemon thread of the test process, so a sender in another
process (a resumed graph, say) can be counted too: `wait_for(n)`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class Reply:
    """One scripted answer; `delay_s` holds it back, e.g. to make a client time out."""

    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain; charset=utf-8"
    delay_s: float = 0.0

    @classmethod
    def json(cls, status: int, body: Any, **kwargs: Any) -> Reply:
        return cls(status, json.dumps(body), content_type="application/json", **kwargs)


@dataclass(frozen=True)
class Recorded:
    """One request as it arrived, and the status it was answered with."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class Receiver:
    """Start it (or use it as a context manager), point a client at `url()`, read `requests`."""

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or Reply()
        self._script: deque[Reply] = deque()
        self._requests: list[Recorded] = []
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Receiver:
        """Listen on a free port of 127.0.0.1."""
        if self._server is not None:
            return self
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def script(self, *replies: Reply) -> None:
        """Queue answers for the next requests, in order."""
        with self._lock:
            self._script.extend(replies)

    @property
    def requests(self) -> list[Recorded]:
        """Every request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._script.clear()

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[Recorded]:
        """The requests once at least `count` have arrived; TimeoutError if they don't."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._requests)} of {count} requests arrived")
                self._lock.wait(left)
            return list(self._requests)

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        with self._lock:
            reply = self._script.popleft() if self._script else self.default
            self._requests.append(Recorded(method, path, headers, body, reply.status))
            self._lock.notify_all()
        return reply


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = receiver._answer(self.command, self.path, headers, body)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            payload = reply.body.encode("utf-8")
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to answer

        do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read `requests`, not stderr."""

    return Handler
