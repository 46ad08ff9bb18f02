"""`triage bench scale`: the bench plug-in's commands (entry point triage.commands)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from agent.cli_options import ConfigOption


def register(app: typer.Typer) -> None:
    bench = typer.Typer(help="Measure this deployment on this machine.", no_args_is_help=True)
    app.add_typer(bench, name="bench")

    @bench.command()
    def scale(
        *,
        alerts: Annotated[int, typer.Option("--alerts", min=1, help="Alerts to post.")] = 2000,
        workers: Annotated[
            int, typer.Option("--workers", min=1, help="Worker processes (embedded: threads).")
        ] = 2,
        threads: Annotated[int, typer.Option(min=1, help="Triage threads per worker.")] = 2,
        kill_worker: Annotated[
            bool, typer.Option("--kill-worker", help="SIGKILL one worker halfway.")
        ] = False,
        claim_after_s: Annotated[
            float, typer.Option(min=1, help="Seconds before a dead worker's alerts move on.")
        ] = 10.0,
        rate: Annotated[
            float | None, typer.Option(min=0.1, help="Alerts/s (default: all at once).")
        ] = None,
        config: ConfigOption = None,
        work: Annotated[
            Path | None, typer.Option(help="Where logs go (default: a temp dir).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    ) -> None:
        """Post a burst of alerts to the deployment's engines (TRIAGE_DATABASE_URL and
        TRIAGE_QUEUE_URL; unset: embedded) and count what was lost, duplicated, how fast."""
        from agent.bench.scale import Plan, run_scale
        from agent.config import load_config

        engines = load_config(config).engines
        plan = Plan(alerts, workers, threads, kill_worker, claim_after_s, rate)
        with tempfile.TemporaryDirectory(prefix="triage-bench-") as scratch:
            result = run_scale(plan, engines, work or Path(scratch))
        if as_json:
            print(result.model_dump_json())
            return
        for name, value in result.model_dump().items():
            typer.echo(f"{name:>24}: {value}")
