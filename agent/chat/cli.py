"""`triage chat INCIDENT`: the chat plug-in's command (entry point triage.commands)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from agent.chat.repl import ChatClient, ChatError, HttpChat, repl, show
from agent.chat.service import ChatService
from agent.cli_options import ConfigOption, HomeOption
from agent.service.desk import Desk


def local_client(config: Path | None, home: Path | None) -> ChatClient:
    """Chat on the local data directory, as the server would (same desk, same tools)."""
    from agent.config import load_config
    from agent.context import build_context

    return ChatService(Desk(build_context(load_config(config), home=home)))


def register(app: typer.Typer) -> None:
    @app.command()
    def chat(
        incident: Annotated[str, typer.Argument(help="Incident id.")],
        *,
        question: Annotated[
            str | None, typer.Option("-q", "--question", help="Ask once and exit.")
        ] = None,
        server: Annotated[
            str | None, typer.Option("--server", help="A `triage serve` URL; default: local.")
        ] = None,
        token_env: Annotated[
            str, typer.Option("--token-env", help="Env var holding the server's API token.")
        ] = "TRIAGE_API_TOKEN",
        author: Annotated[
            str | None, typer.Option("--as", help="Your name in the timeline (default: login).")
        ] = None,
        config: ConfigOption = None,
        home: HomeOption = None,
    ) -> None:
        """Ask about an incident, or tell it what you did, decided or need (/action, /need)."""
        console = Console()
        client = (
            HttpChat(server, os.environ.get(token_env)) if server else local_client(config, home)
        )
        who = author or getpass.getuser()
        if question is None:
            repl(client, incident, who, console)
            return
        try:
            show(console, client.ask(incident, question, who))
        except ChatError as error:
            Console(stderr=True).print(f"error: {error}", markup=False)
            raise typer.Exit(2) from None
