"""`triage eval`: the harness as a plug-in command of the `triage` CLI.

Registered through the `triage.commands` entry point, so the agent package
never imports the harness that drives it.
"""

from __future__ import annotations

from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from agent.config import TriageConfig, load_config
from agent.llm.config import LLMConfig

# Wide enough for the summary table when the output is a file or a CI log.
TABLE_WIDTH = 140


class MemoryMode(StrEnum):
    none = "none"
    sequential = "sequential"


class ProgressObserver:
    """One progress bar per dataset, advancing per (case, method)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def dataset_started(self, name: str, cases: int, methods: int) -> None:
        self.tasks[name] = self.progress.add_task(name, total=cases * methods)

    def case_done(self, dataset: str, method: str, case_id: str) -> None:
        self.progress.update(
            self.tasks[dataset], advance=1, description=f"{dataset} [dim]{case_id} {method}[/]"
        )


def eval_command(
    datasets: Annotated[
        list[Path],
        typer.Argument(
            help="replay/1 dataset folders to replay.", exists=True, file_okay=False, dir_okay=True
        ),
    ],
    *,
    out: Annotated[Path, typer.Option("--out", help="Folder for predictions, scores, reports.")],
    baselines: Annotated[
        bool, typer.Option("--baselines", help="Also run BARO, NSigma, random and most-errors.")
    ] = False,
    case: Annotated[
        list[str] | None, typer.Option("--case", help="Only this case id (repeatable).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="At most N cases per dataset.")
    ] = None,
    llm: Annotated[
        str | None,
        typer.Option("--llm", help="Investigate with this model too ('scripted' = offline fake)."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="triage.yaml (policy, language, LLM).")
    ] = None,
    memory: Annotated[
        MemoryMode,
        typer.Option(
            "--memory",
            help="'sequential': also replay in time order with a memory of earlier cases"
            " (each stored with its true root cause); report recall@5 and AC@1 with/without.",
        ),
    ] = MemoryMode.none,
    alert_lag: Annotated[
        list[str] | None,
        typer.Option(
            "--alert-lag",
            metavar="SPEC",
            help="Replay each case as if its alert fired SECONDS (or MIN-MAX, drawn per case)"
            " later, its clock moved with it; repeatable, each lag reported side by side.",
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the per-case draw of a MIN-MAX alert lag.")
    ] = 0,
    in_sample: Annotated[
        bool,
        typer.Option(
            "--in-sample/--no-in-sample",
            help="Also score datasets of the ranking model's fit with the shipped model"
            " (in-sample, beside the held-out headline).",
        ),
    ] = True,
) -> None:
    """Replay every case blind through the engine, score it against truth, write a report."""
    # Imported here so that registering the command (every `triage` start) stays cheap.
    from evals.alert_intake import ON_TIME, AlertLag
    from evals.harness import IN_SAMPLE_FILE, PREDICTIONS_FILE, SCORES_FILE, run_eval
    from evals.memory import SequentialMemory
    from evals.models import IN_SAMPLE
    from evals.report import lag_terminal_table, memory_terminal_table, terminal_table
    from evals.triage import graph_triage

    try:
        lags = [AlertLag.parse(spec) for spec in alert_lag] if alert_lag else [ON_TIME]
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--alert-lag") from None
    if memory == MemoryMode.sequential and len(lags) > 1:
        raise typer.BadParameter("--memory sequential takes one --alert-lag at a time")

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, TABLE_WIDTH)
    with (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=False,
        ) as progress,
        ExitStack() as stack,
    ):
        settings = _settings(config, llm)
        remembered = (
            stack.enter_context(SequentialMemory(settings.memory))
            if memory == MemoryMode.sequential
            else None
        )
        result = run_eval(
            datasets,
            out,
            with_baselines=baselines,
            case_ids=case or (),
            limit=limit,
            triage=graph_triage(settings),
            observer=ProgressObserver(progress),
            memory=remembered,
            memory_triage=graph_triage(settings, remembered.memory) if remembered else None,
            lags=lags,
            seed=seed,
            in_sample=in_sample,
        )
    run, scores = result.run, result.scores
    console.print(terminal_table(result.report))
    by_lag = lag_terminal_table(result.report)
    if by_lag is not None:
        console.print(by_lag)
    if result.report.memory:
        console.print(memory_terminal_table(result.report))
    for note in run.notes:
        console.print(f"[yellow]note:[/] {note}")
    errors = sum(1 for p in run.predictions if p.error)
    if errors:
        console.print(f"[red]{errors} case run(s) raised[/]; see {out / 'errors.log'}")
    written = [out / PREDICTIONS_FILE, out / "report.md", out / "report.html"]
    if IN_SAMPLE in run.methods:
        written.insert(1, out / IN_SAMPLE_FILE)
    if scores is not None:
        written.append(out / SCORES_FILE)
    console.print("wrote " + ", ".join(str(p) for p in written))
    if run.datasets and all(d.error for d in run.datasets):
        raise typer.Exit(code=1)


def _command_group() -> None:
    """A no-op group callback (see register)."""


def _settings(config: Path | None, llm: str | None) -> TriageConfig:
    settings = load_config(config)
    if llm is None:
        return settings
    return settings.model_copy(update={"llm": LLMConfig(enabled=True, model=llm)})


def register(app: typer.Typer) -> None:
    """Entry point of the `triage.commands` group: adds `triage eval`.

    Typer runs an app's only command as the program itself (`triage DATASET...`),
    so while `eval` may be the only command, a no-op callback keeps `triage eval`
    a subcommand. An app that has its own callback keeps it.
    """
    app.command("eval")(eval_command)
    if app.registered_callback is None:
        app.callback()(_command_group)
