"""`triage simulate`: the simulator as a plug-in command of the `triage` CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from evals.simulator.faults import KINDS
from evals.simulator.generate import Options, OutputRefused, generate

# The window runs about 50 minutes past the onset; a lag leaves room for the
# alert's rule to hold and for the triage minutes after it.
MAX_LAG_MIN = 30.0


def simulate_command(  # noqa: PLR0917
    out: Annotated[
        Path, typer.Option("--out", help="Dataset folder to write (a dataset there is replaced).")
    ],
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 1,
    cases: Annotated[int, typer.Option("--cases", min=1, help="How many incidents.")] = 20,
    faults: Annotated[
        str | None,
        typer.Option(
            "--faults", help=f"Comma-separated fault kinds (default all): {', '.join(KINDS)}."
        ),
    ] = None,
    storm: Annotated[
        int, typer.Option("--storm", min=0, help="Alert deliveries in alerts/<case>.jsonl.")
    ] = 0,
    storm_cases: Annotated[
        int, typer.Option("--storm-cases", min=1, help="How many cases (the first ones) storm.")
    ] = 1,
    prefix: Annotated[str, typer.Option("--prefix", help="Case id prefix.")] = "sim",
    name: Annotated[str | None, typer.Option("--name", help="Dataset name.")] = None,
    alert_lag: Annotated[
        str | None,
        typer.Option(
            "--alert-lag",
            help="Late alerts: each case's alert fires MIN-MAX minutes (or N) after the fault"
            f" began, drawn per case (at most {MAX_LAG_MIN:g}).",
        ),
    ] = None,
    fault_over: Annotated[
        float,
        typer.Option(
            "--fault-over",
            min=0.0,
            max=1.0,
            help="With --alert-lag: share of cases whose fault is over before the triage"
            " runs (kinds that can end).",
        ),
    ] = 0.0,
) -> None:
    """Write a replay/1 dataset of simulated incidents in the Sakura Mart estate."""
    chosen = tuple(f.strip() for f in faults.split(",") if f.strip()) if faults else ()
    unknown = [f for f in chosen if f not in KINDS]
    if unknown:
        raise typer.BadParameter(
            f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(KINDS)}"
        )
    lag = minutes_range(alert_lag) if alert_lag else None
    if fault_over and lag is None:
        raise typer.BadParameter("--fault-over needs --alert-lag (the fault ends after its alert)")
    console = Console()
    try:
        summary = generate(
            Options(
                out=out,
                seed=seed,
                cases=cases,
                faults=chosen,
                storm=storm,
                storm_cases=storm_cases,
                prefix=prefix,
                name=name,
                alert_lag_min=lag,
                fault_over=fault_over,
            )
        )
    except OutputRefused as error:
        Console(stderr=True, soft_wrap=True).print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    console.print(
        f"wrote {summary.cases} cases to {out} in {summary.seconds:.1f} s"
        f" ({summary.bytes / 1e6:.1f} MB): "
        + ", ".join(f"{k} {v}" for k, v in sorted(summary.fault_counts.items()))
    )


def minutes_range(spec: str) -> tuple[float, float]:
    """`MIN-MAX` or `N` minutes, 0 <= MIN <= MAX <= MAX_LAG_MIN."""
    low, _, high = spec.partition("-")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        raise typer.BadParameter(f"--alert-lag {spec!r}: expected MIN-MAX or N minutes") from None
    if not 0 <= bounds[0] <= bounds[1] <= MAX_LAG_MIN:
        raise typer.BadParameter(
            f"--alert-lag {spec!r}: need 0 <= MIN <= MAX <= {MAX_LAG_MIN:g} minutes"
        )
    return bounds


def _command_group() -> None:
    """A no-op group callback (see evals.cli.register)."""


def register(app: typer.Typer) -> None:
    """Entry point of the `triage.commands` group: adds `triage simulate`."""
    app.command("simulate")(simulate_command)
    if app.registered_callback is None:
        app.callback()(_command_group)
