"""`triage kb`: load, search and inspect the incident memory from the command line.

A plug-in of the `triage` CLI (entry point group `triage.commands`), like `triage eval`.
It lives with the application because it reads triage.yaml (the `memory:` section
and the data directory); the memory itself is knowledge/.
Bad input is reported per file, naming the field, and never as a traceback;
the files that were fine are stored all the same.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from agent.cli_options import ConfigOption, HomeOption
from agent.config import ConfigError, data_dir, load_config
from knowledge.embeddings import EmbeddingError
from knowledge.ingest import read_paths
from knowledge.memory import Recollection
from knowledge.retrieve import search
from knowledge.store import MemoryStore

kb = typer.Typer(
    name="kb",
    help="The incident memory: past incidents and runbooks the triage recalls.",
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(2)


def open_store(config: Path | None, home: Path | None) -> MemoryStore:
    try:
        settings = load_config(config)
    except ConfigError as error:
        fail(str(error))
    return MemoryStore(settings.memory, data_dir(home))


@kb.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Postmortem/runbook markdown, JSON or JSONL; folders too.")
    ],
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Load postmortems and runbooks; a bad file is reported and skipped, the rest stored."""
    store = open_store(config, home)
    report = read_paths(paths)
    try:
        store.add(report.records)
    except EmbeddingError as error:
        fail(str(error))
    kinds = Counter(r.kind for r in report.records)
    summary = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(kinds.items()))
    console.print(
        f"ingested {summary or 'nothing'} from {report.files} file(s) into {store.location}",
        markup=False,
    )
    for problem in report.errors:
        errors.print(f"[red]error:[/] {problem}", highlight=False, markup=True)
    if report.errors:
        raise typer.Exit(1)


@kb.command("search")
def search_command(
    text: Annotated[str, typer.Argument(help="What to look for, in words.")],
    *,
    service: Annotated[str | None, typer.Option("--service", help="Only this service.")] = None,
    fault_type: Annotated[
        str | None, typer.Option("--fault-type", help="Only this fault type.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=50, help="At most N.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead.")] = False,
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """Past incidents and runbooks most like TEXT (resolved before now), with why."""
    store = open_store(config, home)
    try:
        found = search(store, text, service=service, fault_type=fault_type, limit=limit)
    except EmbeddingError as error:
        fail(str(error))
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in found], ensure_ascii=False))
        return
    if not found:
        console.print("no match", markup=False)
    for rank, match in enumerate(found, start=1):
        console.print(_describe(rank, match), markup=False)


def _describe(rank: int, match: Recollection) -> str:
    where = ", ".join(match.services[:3])
    head = f"{rank}. {match.id} [{match.kind}] {match.score:.2f}  {where}"
    lines = [f"{head} ({match.fault_type or '-'}): {match.title}", f"   why: {match.reason}"]
    if match.kind == "incident" and match.resolution:
        lines.append(f"   resolved by: {match.resolution}")
    return "\n".join(lines)


@kb.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead.")] = False,
    config: ConfigOption = None,
    home: HomeOption = None,
) -> None:
    """How much the memory holds, by kind and service; its model and location."""
    store = open_store(config, home)
    records = list(store.records())
    by_kind = dict(Counter(r.kind for r in records))
    by_service = dict(Counter(r.services[0] for r in records).most_common())
    if as_json:
        facts = {
            "location": store.location,
            "collection": store.collection_name,
            "embedding": store.model,
            "records": len(records),
            "by_kind": by_kind,
            "by_service": by_service,
        }
        print(json.dumps(facts, ensure_ascii=False))
        return
    console.print(f"store:      {store.location} ({store.collection_name})", markup=False)
    console.print(f"embedding:  {store.model}", markup=False)
    kinds = ", ".join(f"{k}: {n}" for k, n in sorted(by_kind.items())) or "empty"
    console.print(f"records:    {len(records)} ({kinds})", markup=False)
    for service, n in by_service.items():
        console.print(f"  {service:24} {n}", markup=False)


def register(app: typer.Typer) -> None:
    """Entry point of the `triage.commands` group: adds `triage kb`."""
    app.add_typer(kb, name="kb")
