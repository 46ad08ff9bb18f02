"""`triage serve`: the server plug-in's command (entry point triage.commands)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[
            str | None, typer.Option(help="Bind address (default: server.host).")
        ] = None,
        port: Annotated[int | None, typer.Option(help="Port (default: server.port).")] = None,
        config: Annotated[Path | None, typer.Option("--config", help="triage.yaml.")] = None,
        home: Annotated[Path | None, typer.Option("--data-dir", help="State directory.")] = None,
        log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    ) -> None:
        """Serve webhooks, the incidents API, Slack and the war room; triage in the background."""
        import uvicorn

        from agent.config import load_config
        from agent.server.app import build_server, create_app

        settings = load_config(config)
        server = build_server(settings, home)
        uvicorn.run(
            create_app(server),
            host=host or settings.server.host,
            port=settings.server.port if port is None else port,
            log_level=log_level,
            timeout_graceful_shutdown=10,
        )
