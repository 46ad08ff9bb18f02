"""`triage doctor`, plugged into the agent's CLI (entry point group `triage.commands`).

Reads only the `telemetry:` section of the config, so the tools never import
the agent.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tools.telemetry.config import TelemetryConfig, TelemetryConfigError, load_telemetry_config
from tools.telemetry.doctor import diagnose

_MARK = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}


def register(app: typer.Typer) -> None:
    app.command(name="doctor")(doctor)


def doctor(
    config: Annotated[
        Path | None,
        typer.Option("--config", help="triage.yaml (default: TRIAGE_CONFIG or built-in)."),
    ] = None,
    at: Annotated[
        datetime | None,
        typer.Option("--at", help="Probe as of this time (UTC); default: now."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead.")] = False,
) -> None:
    """Check that every configured telemetry store answers and lets us read it."""
    chosen = config or (
        Path(os.environ["TRIAGE_CONFIG"]) if os.environ.get("TRIAGE_CONFIG") else None
    )
    try:
        settings = load_telemetry_config(chosen) if chosen else TelemetryConfig()
    except TelemetryConfigError as error:
        Console(stderr=True, soft_wrap=True).print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    when = at if at is None or at.tzinfo else at.replace(tzinfo=UTC)
    checks = diagnose(settings, when)
    if as_json:
        for check in checks:
            print(json.dumps({"store": check.store, "check": check.name, "status": check.status,
                              "detail": check.detail}))  # fmt: skip
    else:
        table = Table("store", "check", "", "detail", show_lines=False)
        for check in checks:
            table.add_row(check.store, check.name, _MARK[check.status], check.detail)
        Console().print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
