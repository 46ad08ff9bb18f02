"""`triage doctor`'s telemetry half: load the `telemetry:` section, probe every store,
print the checks.

The command itself belongs to the agent's CLI (agent/doctor_cli.py), which checks the
whole config first (only the agent knows its shape) and hands its checks in here, so
the tools never import the agent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from tools.telemetry.config import TelemetryConfig, TelemetryConfigError, load_telemetry_config
from tools.telemetry.doctor import Check, diagnose

_MARK = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}


def run_doctor(
    config: Path | None, at: datetime | None, as_json: bool, first: Sequence[Check] = ()
) -> None:
    """Print `first` (the caller's own checks) and every telemetry check; exit 1 when any
    failed, 2 when the telemetry section itself cannot be read (nothing can be probed)."""
    try:
        settings = load_telemetry_config(config) if config else TelemetryConfig()
    except TelemetryConfigError as error:
        Console(stderr=True, soft_wrap=True).print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    when = at if at is None or at.tzinfo else at.replace(tzinfo=UTC)
    checks = [*first, *diagnose(settings, when)]
    _print(checks, as_json)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def _print(checks: Sequence[Check], as_json: bool) -> None:
    if as_json:
        for check in checks:
            print(json.dumps({"store": check.store, "check": check.name, "status": check.status,
                              "detail": check.detail}))  # fmt: skip
        return
    table = Table("store", "check", "", "detail", show_lines=False)
    for check in checks:
        table.add_row(check.store, check.name, _MARK[check.status], check.detail)
    Console().print(table)
