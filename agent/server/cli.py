"""`triage serve`: the server plug-in's command (entry point triage.commands)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli_options import ConfigOption, HomeOption

if TYPE_CHECKING:
    from agent.config import TriageConfig


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        *,
        host: Annotated[
            str | None, typer.Option(help="Bind address (default: server.host).")
        ] = None,
        port: Annotated[int | None, typer.Option(help="Port (default: server.port).")] = None,
        config: ConfigOption = None,
        home: HomeOption = None,
        log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
        role: Annotated[
            str,
            typer.Option(
                help="all: also triage here (default); api: accept and serve only, `triage"
                " worker` processes triage (needs TRIAGE_DATABASE_URL and TRIAGE_QUEUE_URL)."
            ),
        ] = "all",
    ) -> None:
        """Serve webhooks, the incidents API, Slack and the war room; triage in the background."""
        import os

        import uvicorn

        from agent.config import ConfigError, load_config
        from agent.server.app import build_server, create_app
        from agent.server.preflight import preflight, telemetry_warnings

        settings = load_config(config)
        bound = (host or settings.server.host, settings.server.port if port is None else port)
        findings = preflight(settings, bound[0], os.environ.get)
        if findings.errors:
            raise ConfigError("; ".join(findings.errors))
        if role not in ("all", "api"):
            raise ConfigError(f"--role: {role!r} is not all or api (workers: `triage worker`)")
        server = build_server(
            with_war_room(settings, *bound), home, role="api" if role == "api" else "all"
        )
        if server.ctx.telemetry is not None:
            probe = server.ctx.observe(server.ctx.clock())
            probe.services()
            findings.warnings += telemetry_warnings(probe.gaps.reasons)
        for warning in findings.warnings:
            typer.secho(f"warning: {warning}", err=True, fg="yellow")
        uvicorn.run(
            create_app(server),
            host=bound[0],
            port=bound[1],
            log_level=log_level,
            timeout_graceful_shutdown=10,
        )


def with_war_room(settings: TriageConfig, host: str, port: int) -> TriageConfig:
    """Pages link to this server's war room unless `war_room_url` says otherwise
    (a wildcard bind address names no reachable host, so then the link stays unset)."""
    from agent.server.preflight import WILDCARDS

    if settings.war_room_url is not None or host in WILDCARDS:
        return settings
    return settings.model_copy(update={"war_room_url": f"http://{host}:{port}"})
