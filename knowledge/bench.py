"""Search latency at scale: `python -m knowledge.bench --n 100000`.

Fills a temporary embedded store (or a `chroma run` server with --server) with
N synthetic past incidents spread over the demo estate's services and fault
types, then times top-5 searches under the metadata filters recall and `kb search`
use: resolved before now, alone and with a service or a root cause (service
and fault type) filter; resolved before a random past moment (a replay); and
recall() end to end. Not a test: a measurement.

Embedding 100k documents with the CPU model would take several minutes and
measure the model, not the store, so the bulk load stores random unit vectors
(the model's dimension, and the distribution on the sphere an encoder's output
lives on); each record's search terms are the real ones. Only the queries are
embedded with the real model, and that time is reported apart, as is building the
in-memory BM25 index from the collection (once per process, and again after the
collection changed).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from knowledge.config import MemoryConfig
from knowledge.embeddings import dimensions
from knowledge.memory import RecallQuery
from knowledge.records import PastIncident
from knowledge.retrieve import hybrid, recall
from knowledge.store import MemoryStore, cause_key
from tools.telemetry.replay.format import FAULT_TYPES

SERVICES = (
    "web-frontend", "api-gateway", "auth", "cart", "checkout", "payment", "psp", "inventory",
    "search", "recommendations", "notifications", "orders-db", "cache", "queue",
    "object-storage", "settlement-batch",
)  # fmt: skip
ALERTS = ("HighErrorRate", "LatencyP99High", "KubePodOOMKilled", "CPUThrottlingHigh")
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_DAYS = 900


def synthetic(n: int, seed: int = 7) -> list[PastIncident]:
    """N incidents with plausible metadata: 1-3 services, a fault type, alerts, templates."""
    rng = np.random.default_rng(seed)
    faults = [f for f in FAULT_TYPES if f != "unknown"]
    records = []
    for i in range(n):
        picked = rng.choice(len(SERVICES), size=int(rng.integers(1, 4)), replace=False)
        services = [SERVICES[k] for k in picked]
        fault = faults[int(rng.integers(len(faults)))]
        end = START + timedelta(minutes=int(rng.integers(SPAN_DAYS * 24 * 60)))
        alert = f"{services[0].title().replace('-', '')}{ALERTS[int(rng.integers(len(ALERTS)))]}"
        records.append(
            PastIncident(
                id=f"SYN-{i:07d}",
                title=f"{services[0]} {fault} incident #{i}",
                services=services,
                fault_type=fault,
                root_cause=f"synthetic {fault} fault in {services[0]}",
                resolution="synthetic resolution",
                start=end - timedelta(minutes=int(rng.integers(10, 240))),
                end=end,
                alert_names=[alert],
                log_templates=[f"error {int(rng.integers(500))} in {services[0]} <*>"],
                source="bench",
            )
        )
    return records


def unit_vectors(n: int, size: int, seed: int = 11) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, size)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@dataclass(slots=True)
class Timing:
    name: str
    seconds: list[float]

    def line(self) -> str:
        ms = np.array(self.seconds) * 1000
        p50, p95, p99 = np.percentile(ms, [50, 95, 99])
        return (
            f"{self.name:44} n={len(ms):4d}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
            f"  p99 {p99:6.1f} ms  max {ms.max():6.1f} ms"
        )


def timed(name: str, asked: Sequence[RecallQuery], call: Callable[[RecallQuery], object]) -> Timing:
    seconds = []
    for query in asked:
        started = time.perf_counter()
        call(query)
        seconds.append(time.perf_counter() - started)
    return Timing(name, seconds)


def queries(count: int, seed: int = 3) -> list[RecallQuery]:
    """Queries like the recall step's, at random moments, with 3 suspects each."""
    rng = np.random.default_rng(seed)
    made = []
    for i in range(count):
        suspects = [SERVICES[k] for k in rng.choice(len(SERVICES), size=3, replace=False)]
        faults = [FAULT_TYPES[int(k)] for k in rng.integers(len(FAULT_TYPES) - 1, size=3)]
        before = START + timedelta(days=float(rng.uniform(60, SPAN_DAYS)))
        made.append(
            RecallQuery(
                text=f"{suspects[0]} errors and latency after change #{i}: {faults[0]} suspected",
                services=suspects,
                fault_types=faults,
                alert_names=[f"{suspects[0].title().replace('-', '')}HighErrorRate"],
                before=before,
            )
        )
    return made


def run(n: int, count: int, server: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="triage-kb-bench-") as home:
        store = MemoryStore(MemoryConfig(collection="bench", server_url=server), Path(home))
        print(f"store: {store.location} ({store.collection_name})")
        started = time.perf_counter()
        store.add(synthetic(n), vectors=list(unit_vectors(n, dimensions(store.embedding))))
        load_s = time.perf_counter() - started
        print(f"loaded {store.count():,} records in {load_s:.1f} s ({n / load_s:,.0f}/s)")
        started = time.perf_counter()
        store.lexical("incident")
        print(f"built the BM25 index from the collection in {time.perf_counter() - started:.1f} s")

        asked = queries(count)
        store.embed_query("warm up")  # loads the model: a process does it once
        embed = timed("embed the query (CPU)", asked, lambda q: store.embed_query(q.text))
        vectors = {id(q): store.embed_query(q.text) for q in asked}
        now = START + timedelta(days=SPAN_DAYS + 1)

        def honest(q: RecallQuery, at: datetime) -> object:
            return store.search("incident", vectors[id(q)], 5, at)

        def by_service(q: RecallQuery) -> object:
            where = {"services": {"$contains": q.services[0]}}
            return store.search("incident", vectors[id(q)], 5, now, where)

        def by_words(q: RecallQuery) -> object:
            nearest = store.search("incident", vectors[id(q)], 5, now)
            return hybrid(
                store, "incident", nearest, text=q.text, vector=vectors[id(q)], before=now
            )

        def by_cause(q: RecallQuery) -> object:
            where = {"cause": cause_key(q.services[0], q.fault_types[0])}
            return store.search("incident", vectors[id(q)], 5, now, where)

        timed("warm-up", asked[:10], lambda q: honest(q, now))
        results = [
            embed,
            timed("top-5, resolved before now", asked, lambda q: honest(q, now)),
            timed("top-5, + service", asked, by_service),
            timed("top-5 + best 30 by words (hybrid)", asked, by_words),
            timed("top-5, + root-cause service and fault type", asked, by_cause),
            timed(
                "top-5, resolved before a random past time", asked, lambda q: honest(q, q.before)
            ),
            timed(
                "recall() at now (embed, search, re-rank)",
                asked,
                lambda q: recall(store, q.model_copy(update={"before": now})),
            ),
        ]
        print(f"{count} queries over {n:,} records:")
        for timing in results:
            print("  " + timing.line())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100_000, help="records to load")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--server", default=None, help="a `chroma run` URL instead of embedded")
    args = parser.parse_args(argv)
    run(args.n, args.queries, args.server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
