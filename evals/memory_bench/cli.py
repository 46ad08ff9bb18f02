"""`triage eval-memory`: the memory retrieval benchmark as a plug-in command."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table


class Embedding(StrEnum):
    multilingual = "multilingual"
    minilm = "minilm"
    titan = "titan"


def eval_memory_command(
    *,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for report.md and scores.json.")
    ] = Path("memory-report"),
    queries: Annotated[
        Path | None, typer.Option("--queries", help="Questions (default: the bundled benchmark).")
    ] = None,
    corpus: Annotated[
        list[Path] | None,
        typer.Option("--corpus", help="Records to search (default: knowledge/seed; repeatable)."),
    ] = None,
    server: Annotated[
        str | None, typer.Option("--server", help="A `chroma run` URL instead of embedded.")
    ] = None,
    embedding: Annotated[
        Embedding, typer.Option("--embedding", help="The embedding to compare (titan: Bedrock).")
    ] = Embedding.multilingual,
) -> None:
    """Search the seed corpus with responders' questions (EN/JA): recall@1, @3, MRR by direction."""
    from evals.memory_bench import bench

    asked = bench.load_queries(queries or bench.QUERIES)
    try:
        result = bench.run(asked, corpus or [bench.SEED], server, embedding.value)
    except ValueError as error:
        Console(stderr=True).print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    table = Table("direction", "n", "recall@1", "recall@3", "MRR", title=result.model)
    for row in result.scores:
        table.add_row(
            row.direction, str(row.n), f"{row.recall_at_1:.2f}", f"{row.recall_at_3:.2f}",
            f"{row.mrr:.2f}",
        )  # fmt: skip
    console = Console()
    console.print(table)
    command = " ".join(["triage", "eval-memory", *sys.argv[2:]])
    console.print("wrote " + ", ".join(str(p) for p in bench.write(result, out, command)))


def register(app: typer.Typer) -> None:
    """Entry point of the `triage.commands` group: adds `triage eval-memory`."""
    app.command("eval-memory")(eval_memory_command)
