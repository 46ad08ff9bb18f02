"""`triage worker`: takes accepted alerts from the queue and triages them; no HTTP.

Run as many as the alert rate needs (docs/scale.md), on any host that reaches
PostgreSQL, Redis and the telemetry. Each is one consumer of the stream's group.
SIGTERM or Ctrl-C stops taking alerts; a triage cut short is taken over by
another worker after `engines.claim_after_s` and resumes from its checkpoint.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Annotated

import typer

from agent.cli_options import ConfigOption, HomeOption


def register(app: typer.Typer) -> None:
    @app.command()
    def worker(
        config: ConfigOption = None,
        home: HomeOption = None,
        threads: Annotated[
            int | None, typer.Option(help="Triage threads (default: server.workers).")
        ] = None,
        log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
    ) -> None:
        """Triage alerts from the queue (needs TRIAGE_DATABASE_URL and TRIAGE_QUEUE_URL)."""
        from agent.config import load_config
        from agent.service.build import STEP_DELAY_ENV, build_service

        logging.basicConfig(
            level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        settings = load_config(config)
        if threads is not None:
            server = settings.server.model_copy(update={"workers": threads})
            settings = settings.model_copy(update={"server": server})
        delay = float(os.environ.get(STEP_DELAY_ENV) or 0)  # tests only (docs/serve.md)
        service = build_service(settings, home, role="worker", step_delay_s=delay)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        service.start()
        engines = service.ctx.engines.describe()
        typer.secho(
            f"worker: {settings.server.workers} thread(s) on {engines['queue']},"
            f" incidents in {engines['incidents']}",
            err=True,
        )
        while not stop.wait(1.0):
            pass
        service.stop()
        service.close()
