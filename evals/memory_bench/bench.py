"""Score `kb search` on the benchmark's questions: where does the expected record rank?

Each question names the one record a responder should find. The corpus is ingested
into a fresh store (embedded, or a `chroma run` server), every question is searched
as `triage kb search` would, and the expected record's rank among the results of its
kind (incident or runbook) is kept. The direction is the question's language and the
record's (`language`: en, ja, or en+ja for bilingual postmortems).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from knowledge.config import EmbeddingConfig, EmbeddingProvider, MemoryConfig
from knowledge.ingest import read_paths
from knowledge.records import MemoryRecord
from knowledge.retrieve import search
from knowledge.store import MemoryStore

QUERIES = Path(__file__).with_name("queries.yaml")
SEED = Path(__file__).resolve().parents[2] / "knowledge" / "seed"
DEPTH = 10
DIRECTIONS = ("EN->EN", "JA->JA", "JA->EN", "EN->JA", "EN->EN+JA", "JA->EN+JA")
LANGUAGE = {"en": "EN", "ja": "JA"}


class BenchQuery(BaseModel):
    """One question as a responder types it, and the record it should find."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1)
    lang: Literal["en", "ja"]
    expect: str


class Ranked(BaseModel):
    """Where the expected record came: 1-based among the results of its kind, or None."""

    query: BenchQuery
    direction: str
    rank: int | None
    found: list[str]


class DirectionScore(BaseModel):
    direction: str
    n: int
    recall_at_1: float
    recall_at_3: float
    mrr: float


class BenchResult(BaseModel):
    model: str
    records: int
    scores: list[DirectionScore]
    ranked: list[Ranked]
    median_ms: float


def load_queries(path: Path = QUERIES) -> list[BenchQuery]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [BenchQuery.model_validate(item) for item in data.get("queries", [])]


def direction(query: BenchQuery, record: MemoryRecord) -> str:
    target = LANGUAGE.get(record.language, "EN+JA")
    return f"{LANGUAGE[query.lang]}->{target}"


def rank_of(query: BenchQuery, store: MemoryStore, kind: str) -> tuple[int | None, list[str]]:
    found = [r.id for r in search(store, query.q, limit=DEPTH) if r.kind == kind]
    return (found.index(query.expect) + 1 if query.expect in found else None), found


def score(ranked: Sequence[Ranked], name: str) -> DirectionScore:
    ranks = [r.rank for r in ranked]
    n = len(ranks) or 1
    return DirectionScore(
        direction=name,
        n=len(ranks),
        recall_at_1=round(sum(1 for r in ranks if r == 1) / n, 3),
        recall_at_3=round(sum(1 for r in ranks if r is not None and r <= 3) / n, 3),
        mrr=round(sum(1 / r for r in ranks if r) / n, 3),
    )


def run(
    queries: Sequence[BenchQuery],
    corpus: Iterable[Path] = (SEED,),
    server_url: str | None = None,
    embedding: EmbeddingProvider = "multilingual",
) -> BenchResult:
    """Ingest `corpus` into a fresh store, search every query, score per direction."""
    report = read_paths(corpus)
    if report.errors:
        raise ValueError("; ".join(report.errors))
    records = {r.id: r for r in report.records}
    missing = sorted({q.expect for q in queries} - set(records))
    if missing:
        raise ValueError(f"expected records not in the corpus: {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="triage-memory-bench-") as home:
        collection = f"bench-{int(time.time())}"
        config = MemoryConfig(
            collection=collection,
            server_url=server_url,
            embedding=EmbeddingConfig(provider=embedding),
        )
        store = MemoryStore(config, Path(home))
        store.add(report.records)
        ranked, seconds = [], []
        for query in queries:
            started = time.perf_counter()
            rank, found = rank_of(query, store, records[query.expect].kind)
            seconds.append(time.perf_counter() - started)
            ranked.append(
                Ranked(
                    query=query,
                    direction=direction(query, records[query.expect]),
                    rank=rank,
                    found=found[:3],
                )
            )
        model = store.model
    rows = [score([r for r in ranked if r.direction == d], d) for d in DIRECTIONS]
    rows = [row for row in rows if row.n] + [score(ranked, "all")]
    seconds.sort()
    return BenchResult(
        model=model,
        records=len(records),
        scores=rows,
        ranked=ranked,
        median_ms=round(1000 * seconds[len(seconds) // 2], 1) if seconds else 0.0,
    )


def markdown(result: BenchResult, command: str) -> str:
    """The report: the table per direction, then every miss (rank > 3) with what came first."""
    lines = [
        "# Memory retrieval benchmark",
        "",
        f"`{command}` — {len(result.ranked)} questions over {result.records} records,"
        f" {result.model}; median search {result.median_ms} ms"
        f" ({datetime.now(UTC):%Y-%m-%d}).",
        "",
        "| direction | n | recall@1 | recall@3 | MRR |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {s.direction} | {s.n} | {s.recall_at_1:.2f} | {s.recall_at_3:.2f} | {s.mrr:.2f} |"
        for s in result.scores
    ]
    misses = [r for r in result.ranked if r.rank is None or r.rank > 3]
    if misses:
        lines += ["", "## Not in the top 3", "", "| direction | question | expected | got |"]
        lines += ["| --- | --- | --- | --- |"]
        lines += [
            f"| {r.direction} | {r.query.q} | {r.query.expect} | {', '.join(r.found)} |"
            for r in misses
        ]
    return "\n".join(lines) + "\n"


def write(result: BenchResult, out: Path, command: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    report, scores = out / "report.md", out / "scores.json"
    report.write_text(markdown(result, command), encoding="utf-8")
    scores.write_text(json.dumps(result.model_dump(), ensure_ascii=False, indent=1), "utf-8")
    return [report, scores]
