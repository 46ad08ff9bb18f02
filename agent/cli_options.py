"""The options every `triage` command spells the same way, so the built-in commands and
the plug-ins (serve, worker, chat, kb, doctor, bench) agree on names, defaults and help."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="triage.yaml (default: TRIAGE_CONFIG or built-in).")
]
HomeOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="State directory (default: TRIAGE_HOME or per-user)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead.")]
