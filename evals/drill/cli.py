"""`triage drill new` and `triage drill score`, as a plug-in command group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from evals.drill.answers import AnswersError, load_answers
from evals.drill.report import write
from evals.drill.scenario import new_drill
from evals.drill.score import score
from evals.simulator.generate import OutputRefused
from tools.telemetry.replay.format import DatasetFormatError

drill_app = typer.Typer(
    help="Incident drills: hidden scenarios and scorecards.", no_args_is_help=True
)


@drill_app.command("new")
def new_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for the drill (replaced).")],
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same scenario.")] = 1,
    fault: Annotated[str | None, typer.Option("--fault", help="Force a fault kind.")] = None,
    security: Annotated[
        bool, typer.Option("--security", help="A security drill (planted attack logs).")
    ] = False,
) -> None:
    """Build a hidden scenario: a dataset without truth, the truth sealed aside."""
    try:
        drill = new_drill(seed, out, fault=fault, security=security)
    except OutputRefused as error:
        Console(stderr=True, soft_wrap=True).print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    Console().print(
        f"drill {drill.case_id} written to {out}: give responders BRIEFING.md and dataset/;"
        " keep sealed/ for the facilitator"
    )


@drill_app.command("score")
def score_command(
    drill_dir: Annotated[
        Path,
        typer.Argument(help="A folder made by `triage drill new`.", exists=True, file_okay=False),
    ],
    answers: Annotated[
        Path,
        typer.Option(
            "--answers", help="The team's answers (YAML/JSON).", exists=True, dir_okay=False
        ),
    ],
    out: Annotated[Path | None, typer.Option("--out", help="Report folder (default: DIR).")] = None,
) -> None:
    """Score a team's answers against the sealed truth, next to the agent's own run."""
    try:
        card = score(drill_dir, load_answers(answers))
    except (AnswersError, DatasetFormatError) as error:
        Console(stderr=True, soft_wrap=True).print(f"error: {error}", markup=False)
        raise typer.Exit(code=2) from None
    written = write(card, out or drill_dir)
    Console().print(
        f"{card.team}: {card.total('team'):.0f}/100, agent: {card.total('agent'):.0f}/100;"
        f" wrote {', '.join(str(p) for p in written)}"
    )


def register(app: typer.Typer) -> None:
    """Entry point of the `triage.commands` group: adds `triage drill`."""
    app.add_typer(drill_app, name="drill")
