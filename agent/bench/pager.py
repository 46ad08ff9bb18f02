"""A stand-in for PagerDuty's Events API on 127.0.0.1 that counts what would page people.

PagerDuty folds triggers with one dedup_key into one alert; the bench counts both
the triggers and the distinct keys, so a resend and a second page are told apart.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

EVENTS_PATH = "/v2/enqueue"


class FakePagerDuty:
    """`on_trigger(dedup_key)` runs before the answer (tests cut a sender short there)."""

    def __init__(self, on_trigger: Callable[[str], None] | None = None) -> None:
        self.triggers: Counter[str] = Counter()
        self.on_trigger = on_trigger
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{EVENTS_PATH}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        pager = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                event: Any = json.loads(self.rfile.read(length) or b"{}")
                key = str(event.get("dedup_key"))
                with pager._lock:
                    pager.triggers[key] += 1
                if pager.on_trigger is not None:
                    pager.on_trigger(key)
                body = json.dumps({"status": "success", "dedup_key": event.get("dedup_key")})
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                """Quiet."""

        return Handler

    def __enter__(self) -> FakePagerDuty:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
