"""Helpers for the distributed tests: `python -m agent worker` on a config file, and a TCP
relay that takes an engine away mid-test."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import yaml

from agent.config import TriageConfig
from agent.service.build import STEP_DELAY_ENV
from tests.server.support import ENV


def write_config(config: TriageConfig, path: Path) -> Path:
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_defaults=True)))
    return path


@contextmanager
def process(
    args: list[str], config: Path, home: Path, log: Path, step_delay_s: float = 0.0
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m agent <args>` on `config` and `home`; killed when the block ends."""
    env = {**os.environ, **ENV, STEP_DELAY_ENV: str(step_delay_s)}
    for name in ("TRIAGE_DATABASE_URL", "TRIAGE_QUEUE_URL", "TRIAGE_CHROMA_URL"):
        env.pop(name, None)  # the config file names the test's own engines
    command = [sys.executable, "-m", "agent", *args, "--config", str(config)]
    command += ["--data-dir", str(home)]
    with log.open("ab") as output:
        started = subprocess.Popen(command, env=env, stdout=output, stderr=output, cwd=log.parent)
    try:
        yield started
    finally:
        if started.poll() is None:
            started.kill()
        started.wait(timeout=30)


def worker(
    config: Path, home: Path, log: Path, step_delay_s: float = 0.0
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """One `triage worker` with one triage thread."""
    args = ["worker", "--threads", "1", "--log-level", "warning"]
    return process(args, config, home, log, step_delay_s)


class TcpProxy:
    """A TCP relay on 127.0.0.1 in front of `upstream` (host, port): `stop()` drops every
    connection and refuses new ones, as an engine that went away does. A new relay on the
    same `port` is the engine back."""

    def __init__(self, upstream: tuple[str, int], port: int = 0) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = int(self.listener.getsockname()[1])
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.upstream)
            except OSError:
                return
            with self._lock:
                if self._stopped:  # accepted as it stopped
                    client.close()
                    server.close()
                    return
                self._open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_relay, args=(source, sink), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the waiting accept
            self.listener.close()
            for connection in self._open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()


def _relay(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


class Blackhole:
    """A host on 127.0.0.1:`port` that takes TCP connections and never says a word, as a
    network that swallows packets looks to a client: only the client's own timeout ends
    its wait. `release_port()` frees the port for a working relay and keeps the silent
    connections open, as the ones hung in a real blackhole stay hung; `close()` drops them."""

    def __init__(self, port: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self._held.append(self.listener.accept()[0])

    def release_port(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()

    def close(self) -> None:
        self.release_port()
        for connection in self._held:
            connection.close()
