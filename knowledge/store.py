"""The memory's storage: chromadb collections of past incidents and of runbooks.

Embedded (PersistentClient under `<data dir>/memory`) by default; a `chroma run`
server when `memory.server_url` is set, so several triage processes share one
memory. Each record is stored with its embedded text, the filterable facts
(services, fault type, alert names, log-template keys, `available_at`)
and, as its chromadb document, the whole record as JSON, so what comes back is
the record that went in. Each record's search terms (knowledge.lexical) are
kept in its metadata too, so the BM25 index every process holds in memory is
rebuilt from the collection alone: embedded or on a server, the same.
Collections are named after the embedding model: vectors of two models never
mix, and switching models starts fresh collections instead of failing.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings
from pydantic import Field, TypeAdapter

from knowledge.config import MemoryConfig
from knowledge.embeddings import (
    MemoryEmbedding,
    describe,
    embedding_from_config,
    embedding_tag,
)
from knowledge.lexical import LexicalIndex, terms
from knowledge.records import MemoryRecord, RecordKind

BATCH = 1000
PAGE = 1000
OVERFETCH = 4
NEIGHBOURHOOD = 20
WIDE = 200
RECOUNT_S = 30.0  # how often a process looks whether another one changed the collection
KINDS: tuple[RecordKind, ...] = ("incident", "runbook")
RECORD = TypeAdapter[MemoryRecord](Annotated[MemoryRecord, Field(discriminator="kind")])
Where = dict[str, Any]


def template_key(template: str) -> str:
    """A short stable key for a log template: case and spacing do not matter."""
    normal = re.sub(r"\s+", " ", template.strip().lower())
    return hashlib.sha1(normal.encode()).hexdigest()[:16]


def cause_key(service: str, fault_type: str) -> str:
    """Root-cause service and fault type in one key: one selective equality filter."""
    return f"{service}/{fault_type}"


def epoch(at: datetime) -> float:
    return at.timestamp()


def available_before(before: datetime) -> Where:
    """The honesty filter: only what was resolved (or written) before `before`."""
    return {"available_at": {"$lt": epoch(before)}}


def all_of(*conditions: Where) -> Where:
    """chromadb's $and, which refuses fewer than two operands."""
    kept = [c for c in conditions if c]
    if len(kept) == 1:
        return kept[0]
    return {"$and": kept} if kept else {}


def any_of(conditions: Sequence[Where]) -> Where:
    """chromadb's $or, which refuses fewer than two operands."""
    kept = [c for c in conditions if c]
    if len(kept) == 1:
        return kept[0]
    return {"$or": kept} if kept else {}


def contains_any(key: str, values: Sequence[str]) -> Where:
    return any_of([{key: {"$contains": v}} for v in dict.fromkeys(values)])


def admits(where: Where, meta: Mapping[str, Any]) -> bool:
    """chromadb's `where` semantics for the operators this package uses, in Python."""
    if "$and" in where:
        return all(admits(w, meta) for w in where["$and"])
    if "$or" in where:
        return any(admits(w, meta) for w in where["$or"])
    return all(_holds(meta.get(key), test) for key, test in where.items())


def _holds(value: Any, test: Any) -> bool:
    if not isinstance(test, dict):
        return bool(value == test)
    (operator, operand), *_ = test.items()
    if operator == "$contains":
        return isinstance(value, list) and operand in value
    if operator == "$in":
        return value in operand
    if operator == "$lt":
        return value is not None and value < operand
    raise ValueError(f"unsupported filter operator {operator}")


def metadata(record: MemoryRecord) -> dict[str, Any]:
    """The filterable facts of a record (chromadb refuses empty lists: they are left out)."""
    facts: dict[str, Any] = {
        "available_at": epoch(record.available_at),
        "services": record.services,
        "root_service": record.services[0],
        "alert_names": record.alert_names,
        "source": record.source,
        "terms": " ".join(terms(record.words())),
    }
    if record.kind == "incident":
        facts["fault_type"] = record.fault_type
        facts["cause"] = cause_key(record.services[0], record.fault_type)
        facts["templates"] = [template_key(t) for t in record.log_templates]
    else:
        facts["fault_types"] = list(record.fault_types)
    return {k: v for k, v in facts.items() if v != []}


@dataclass(slots=True)
class Hit:
    """A stored record's filterable facts and how close its text is to the query (cosine
    similarity). The whole record is loaded (MemoryStore.load) only for the hits kept."""

    id: str
    kind: RecordKind
    meta: Mapping[str, Any]
    similarity: float
    lexical: float = 0.0

    def facts(self, key: str) -> list[str]:
        value = self.meta.get(key)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@dataclass(slots=True)
class _Words:
    """A BM25 index of one collection, its size when built, and when that was last checked."""

    count: int
    checked: float
    index: LexicalIndex


class MemoryStore:
    """Two collections, incidents and runbooks, opened lazily: a triage that never recalls
    never loads anything.

    chromadb's filtered vector search passes over every record the filter admits
    (and its metadata reads scan), which is slow at 100k records. So kinds live in
    separate collections (no kind filter), and a search first takes the nearest
    records unfiltered and filters them here: in live use the honesty filter
    admits nearly all of them, and a service filter enough of 200. Only when too
    few pass does chromadb's own filtered search run.
    """

    def __init__(
        self, config: MemoryConfig, home: Path, embedding: MemoryEmbedding | None = None
    ) -> None:
        self.config = config
        self.embedding = embedding or embedding_from_config(config.embedding)
        self.collection_name = f"{config.collection}-{embedding_tag(self.embedding)}"
        self.path = config.store_path(home)
        self._collections: dict[RecordKind, Collection] = {}
        self._lexical: dict[RecordKind, _Words] = {}

    @property
    def location(self) -> str:
        return self.config.server_url or str(self.path)

    @property
    def model(self) -> str:
        return describe(self.embedding)

    def exists(self) -> bool:
        """False only when an embedded store was never written: then it is empty."""
        return bool(self.config.server_url) or self.path.exists()

    @cached_property
    def client(self) -> ClientAPI:
        settings = Settings(anonymized_telemetry=False)
        if self.config.server_url:
            url = urlparse(self.config.server_url)
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=settings,
            )
        self.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self.path), settings=settings)

    def name(self, kind: RecordKind) -> str:
        return f"{self.collection_name}-{kind}s"

    def collection(self, kind: RecordKind) -> Collection:
        if kind not in self._collections:
            self._collections[kind] = self.client.get_or_create_collection(
                self.name(kind),
                embedding_function=self.embedding,  # type: ignore[arg-type]
                configuration={"hnsw": {"space": "cosine"}},
            )
        return self._collections[kind]

    # -- writing ---------------------------------------------------------------------
    def add(self, records: Sequence[MemoryRecord], vectors: Sequence[Any] | None = None) -> None:
        """Insert or replace records by id; `vectors` skips embedding (the benchmark's load).

        The embedded text is the record's `document()`; what chromadb keeps as the
        document is the record as JSON, read back whole for the hits that are kept.
        """
        for kind in KINDS:
            chosen = [i for i, r in enumerate(records) if r.kind == kind]
            for start in range(0, len(chosen), BATCH):
                rows = chosen[start : start + BATCH]
                batch = [records[i] for i in rows]
                given = (
                    [vectors[i] for i in rows]
                    if vectors is not None
                    else self.embedding([r.document() for r in batch])
                )
                self.collection(kind).upsert(
                    ids=[r.id for r in batch],
                    embeddings=given,
                    documents=[r.model_dump_json() for r in batch],
                    metadatas=[metadata(r) for r in batch],
                )
            if chosen:
                self._lexical.pop(kind, None)

    # -- reading ---------------------------------------------------------------------
    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embedding([text])[0]]

    def search(
        self,
        kind: RecordKind,
        vector: Sequence[float],
        n: int,
        before: datetime,
        where: Where | None = None,
    ) -> list[Hit]:
        """The `n` records of `kind` nearest to `vector` among those available before
        `before` (always) and admitted by `where`.

        First the nearest 4×n (at least 20) records, then 200, filtered here; if
        fewer than `n` pass and more exist, chromadb's own filtered search (a scan
        of every record the filter admits, slow at scale).
        """
        if not self.exists() or n <= 0:
            return []
        honest = all_of(where or {}, available_before(before))
        first = max(n * OVERFETCH, NEIGHBOURHOOD)
        kept: list[Hit] = []
        for reach in sorted({first, max(first, WIDE)}):
            kept, complete = self.nearest(kind, vector, reach, honest)
            if len(kept) >= n or complete:
                return kept[:n]
        return self.filtered(kind, vector, n, before, where or {})

    def nearest(
        self, kind: RecordKind, vector: Sequence[float], reach: int, where: Where
    ) -> tuple[list[Hit], bool]:
        """The `reach` nearest records, those `where` admits (filtered here), and whether
        the collection held no more than that (then the answer is exhaustive)."""
        found = self._query(kind, vector, {}, reach)
        return [hit for hit in found if admits(where, hit.meta)], len(found) < reach

    def filtered(
        self, kind: RecordKind, vector: Sequence[float], n: int, before: datetime, where: Where
    ) -> list[Hit]:
        """The exact search, by chromadb's filtered search over all it admits."""
        return self._query(kind, vector, all_of(where, available_before(before)), n)

    def _query(self, kind: RecordKind, vector: Sequence[float], where: Where, n: int) -> list[Hit]:
        queries: list[Sequence[float] | Sequence[int]] = [list(vector)]
        found = self.collection(kind).query(
            query_embeddings=queries,
            n_results=n,
            where=where or None,
            include=["metadatas", "distances"],
        )
        ids = found["ids"][0]
        metas = (found.get("metadatas") or [[]])[0]
        distances = (found.get("distances") or [[]])[0]
        return [
            Hit(id=i, kind=kind, meta=meta, similarity=1.0 - float(d))
            for i, meta, d in zip(ids, metas, distances, strict=True)
        ]

    def lexical(self, kind: RecordKind) -> LexicalIndex:
        """The BM25 index of `kind`, rebuilt from the stored terms when this process wrote
        to the collection, or when it changed size (looked at every 30 s: counting 100k
        records costs more than a search). Another process's record replaced in place,
        same id, keeps its old terms here until the count changes."""
        cached, now = self._lexical.get(kind), time.monotonic()
        if cached is not None and now - cached.checked < RECOUNT_S:
            return cached.index
        count = self.collection(kind).count() if self.exists() else 0
        if cached is None or cached.count != count:
            cached = _Words(count, now, self._index(kind, count))
            self._lexical[kind] = cached
        cached.checked = now
        return cached.index

    def _index(self, kind: RecordKind, count: int) -> LexicalIndex:
        ids, words, available = [], [], []
        for offset in range(0, count, PAGE):
            page = self.collection(kind).get(limit=PAGE, offset=offset, include=["metadatas"])
            for record_id, meta in zip(page["ids"], page.get("metadatas") or [], strict=True):
                ids.append(record_id)
                words.append(str(meta.get("terms") or "").split())
                available.append(float(meta.get("available_at") or 0.0))  # type: ignore[arg-type]
        return LexicalIndex(ids, words, available)

    def hits(self, kind: RecordKind, ids: Sequence[str], vector: Sequence[float]) -> list[Hit]:
        """The stored facts of `ids` and their cosine similarity to `vector` (for records
        the words found and the meaning did not)."""
        if not ids:
            return []
        got = self.collection(kind).get(ids=list(ids), include=["metadatas", "embeddings"])
        query = np.asarray(vector, dtype=np.float32)
        query /= max(float(np.linalg.norm(query)), 1e-12)
        found = []
        metas = got.get("metadatas") or []
        vectors = got.get("embeddings")
        for i, record_id in enumerate(got["ids"]):
            stored = np.asarray(vectors[i] if vectors is not None else [], dtype=np.float32)
            norm = max(float(np.linalg.norm(stored)), 1e-12)
            similarity = float(stored @ query) / norm if stored.size == query.size else 0.0
            found.append(Hit(id=record_id, kind=kind, meta=metas[i], similarity=similarity))
        order = {record_id: i for i, record_id in enumerate(ids)}
        return sorted(found, key=lambda h: order[h.id])

    def load(self, hits: Sequence[Hit]) -> list[MemoryRecord]:
        """The whole records of `hits`, in their order."""
        found: dict[str, MemoryRecord] = {}
        for kind in KINDS:
            ids = [h.id for h in hits if h.kind == kind]
            if ids:
                got = self.collection(kind).get(ids=ids, include=["documents"])
                found |= dict(zip(got["ids"], map(_record, got["documents"] or []), strict=True))
        return [found[h.id] for h in hits]

    def get(self, record_id: str) -> MemoryRecord | None:
        if not self.exists():
            return None
        for kind in KINDS:
            docs = self.collection(kind).get(ids=[record_id], include=["documents"])["documents"]
            if docs:
                return _record(docs[0])
        return None

    def count(self) -> int:
        return sum(self.collection(k).count() for k in KINDS) if self.exists() else 0

    def records(self) -> Iterator[MemoryRecord]:
        """Every stored record (paged), for stats and exports."""
        if not self.exists():
            return
        for kind in KINDS:
            offset = 0
            while True:
                page = self.collection(kind).get(limit=PAGE, offset=offset, include=["documents"])
                docs = page.get("documents") or []
                yield from (_record(d) for d in docs)
                if len(docs) < PAGE:
                    break
                offset += PAGE


def _record(document: str) -> MemoryRecord:
    return RECORD.validate_json(document)
