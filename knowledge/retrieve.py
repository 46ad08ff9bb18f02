"""Recall: hybrid search under metadata filters, re-ranked by the signals two incidents share.

Candidates come from two searches among the records available before the
query's `before` (an incident resolved before now: the honesty filter, never
optional; see MemoryStore.search): the 200 nearest in meaning (the multilingual
embedding, so a Japanese question finds an English postmortem) and the 30 best
by words (BM25 over English and Japanese terms, knowledge.lexical: error codes,
alert names, product words). Their two rankings are fused (reciprocal rank
fusion, the words at half weight: the meaning carries across languages, the
words sharpen within one) into the text signal. Runbooks come from those tied
to a suspected service or a firing alert. Each candidate is then scored on what
it shares with the current incident:

    score = 0.30 text + 0.30 service + 0.15 fault type + 0.15 log templates + 0.10 alerts

and carries a one-line reason built from the same parts, so a responder sees
why it came up. Runbooks are recalled beside incidents (`RecallQuery.runbooks`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from knowledge.config import MemoryConfig
from knowledge.lexical import fuse, terms
from knowledge.memory import RecallQuery, Recollection
from knowledge.records import MemoryRecord, PastIncident, RecordKind
from knowledge.store import (
    Hit,
    MemoryStore,
    Where,
    admits,
    all_of,
    any_of,
    available_before,
    contains_any,
    epoch,
    template_key,
)

CANDIDATES = 30
NEIGHBOURHOOD = 200
SEARCH_REACH = 20
WORDS_REACH = 30  # the best by words added to the nearest by meaning
WEIGHTS = {"text": 0.30, "service": 0.30, "fault": 0.15, "logs": 0.15, "alerts": 0.10}
SHARED_TEMPLATES_FULL = 2
OTHER_SERVICE = 0.5
FAULT_ELSEWHERE = 0.5


def rank_weight(position: int) -> float:
    """How much a suspect's place counts: 1, 0.67, 0.5, 0.4, ..."""
    return 1.0 / (1.0 + 0.5 * position)


@dataclass(slots=True)
class _Query:
    """The query with its lookups precomputed."""

    raw: RecallQuery
    places: dict[str, int]
    pairs: set[tuple[str, str]]
    templates: set[str]
    alerts: set[str]

    @classmethod
    def of(cls, query: RecallQuery) -> _Query:
        places: dict[str, int] = {}
        for i, service in enumerate(query.services):
            places.setdefault(service, i)
        return cls(
            raw=query,
            places=places,
            pairs=set(zip(query.services, query.fault_types, strict=False)),
            templates={template_key(t) for t in query.log_templates},
            alerts=set(query.alert_names),
        )

    def service_signal(self, hit: Hit) -> tuple[float, str]:
        """The best-placed suspect the record names: full weight for the root-cause service."""
        best, why = 0.0, ""
        for i, service in enumerate(hit.facts("services")):
            if service not in self.places:
                continue
            place = self.places[service]
            own = hit.kind == "runbook" or i == 0
            value = rank_weight(place) * (1.0 if own else OTHER_SERVICE)
            if value > best:
                role = "root-cause service" if hit.kind == "incident" and own else "service"
                best, why = value, f"same {role} {service} (suspect #{place + 1})"
        return best, why

    def fault_signal(self, hit: Hit) -> float:
        if hit.kind == "runbook":
            return 1.0 if set(hit.facts("fault_types")) & set(self.raw.fault_types) else 0.0
        fault = next(iter(hit.facts("fault_type")), "unknown")
        if fault == "unknown":
            return 0.0
        if (next(iter(hit.facts("root_service")), ""), fault) in self.pairs:
            return 1.0
        return FAULT_ELSEWHERE if fault in self.raw.fault_types else 0.0


@dataclass(slots=True)
class _Scored:
    hit: Hit
    score: float
    reason: str
    signals: dict[str, float]


def hybrid(
    store: MemoryStore,
    kind: RecordKind,
    nearest: list[Hit],
    *,
    text: str,
    vector: list[float],
    before: datetime,
    where: Where | None = None,
) -> list[Hit]:
    """`nearest` (by meaning) and the 30 best by words, each with its BM25 score."""
    index = store.lexical(kind)
    scores = index.scores(terms(text))
    known = {h.id for h in nearest}
    worded = [i for i, _ in index.top(scores, WORDS_REACH, epoch(before)) if i not in known]
    extra = [h for h in store.hits(kind, worded, vector) if admits(where or {}, h.meta)]
    found = [*nearest, *extra]
    for hit in found:
        hit.lexical = index.score_of(scores, hit.id)
    return found


def score_hit(hit: Hit, query: _Query, text: float) -> _Scored:
    """The hit's score, the score's parts and a one-line reason, from its stored facts."""
    service, service_why = query.service_signal(hit)
    shared = len(set(hit.facts("templates")) & query.templates)
    names = hit.facts("alert_names")
    alerts = set(names) & query.alerts
    signals = {
        "text": max(0.0, min(1.0, text)),
        "service": service,
        "fault": query.fault_signal(hit),
        "logs": min(1.0, shared / SHARED_TEMPLATES_FULL),
        "alerts": len(alerts) / len(names) if names else 0.0,
    }
    score = sum(WEIGHTS[k] * v for k, v in signals.items())
    why = [service_why] if service_why else []
    if signals["fault"] >= 1.0:
        faults = hit.facts("fault_type") or hit.facts("fault_types")
        why.append(f"same fault type {', '.join(faults)}")
    if shared:
        why.append(f"{shared} shared log template{'s' if shared > 1 else ''}")
    if alerts:
        why.append(f"same alert {', '.join(sorted(alerts)[:2])}")
    why.append(f"text match {signals['text']:.2f}")
    return _Scored(hit, round(score, 4), "; ".join(why), signals)


def _recollection(
    record: MemoryRecord, score: float, reason: str, signals: dict[str, float]
) -> Recollection:
    incident = record if isinstance(record, PastIncident) else None
    return Recollection(
        id=record.id,
        kind=record.kind,
        title=record.title,
        services=record.services,
        fault_type=incident.fault_type if incident else _first_fault(record),
        root_cause=incident.root_cause if incident else "",
        resolution=incident.resolution if incident else record.summary,
        resolved_at=incident.end if incident else None,
        score=score,
        reason=reason,
        links=record.links,
        summary=record.summary,
        action_items=incident.action_items if incident else [],
        signals={k: round(v, 4) for k, v in signals.items()},
    )


def _first_fault(record: MemoryRecord) -> str | None:
    return record.fault_types[0] if record.kind == "runbook" and record.fault_types else None


def _best(store: MemoryStore, hits: list[Hit], query: _Query, limit: int) -> list[Recollection]:
    """The `limit` best-scoring hits as recollections (only these are loaded in full)."""
    unique = list({h.id: h for h in hits}.values())
    text = fuse({h.id: h.similarity for h in unique}, {h.id: h.lexical for h in unique})
    scored = [score_hit(h, query, text[h.id]) for h in unique]
    scored.sort(key=lambda s: (-s.score, s.hit.id))
    kept = scored[:limit]
    records = store.load([s.hit for s in kept])
    return [
        _recollection(r, s.score, s.reason, s.signals) for r, s in zip(records, kept, strict=True)
    ]


def recall(store: MemoryStore, query: RecallQuery) -> list[Recollection]:
    """Past incidents (then runbooks) most like the query, among those available before it."""
    if not store.exists():
        return []
    prepared = _Query.of(query)
    vector = store.embed_query(query.text)
    nearest, _ = store.nearest("incident", vector, NEIGHBOURHOOD, available_before(query.before))
    hits = hybrid(store, "incident", nearest, text=query.text, vector=vector, before=query.before)
    found = _best(store, hits, prepared, query.limit)
    if query.runbooks:
        tied = any_of(
            [
                contains_any("services", query.services),
                contains_any("alert_names", query.alert_names),
            ]
        )
        near = store.search("runbook", vector, CANDIDATES, query.before, tied)
        runbooks = hybrid(
            store, "runbook", near, text=query.text, vector=vector, before=query.before, where=tied
        )
        found += _best(store, runbooks, prepared, query.runbooks)
    return found


def search(
    store: MemoryStore,
    text: str,
    *,
    service: str | None = None,
    fault_type: str | None = None,
    limit: int = 5,
    before: datetime | None = None,
) -> list[Recollection]:
    """What a person searches for: incidents and runbooks, filtered hard by service and fault."""
    if not store.exists():
        return []
    now = before or datetime.now(UTC)
    services: Where = {"services": {"$contains": service}} if service else {}
    wheres: dict[RecordKind, Where] = {
        "incident": all_of(services, {"fault_type": fault_type} if fault_type else {}),
        "runbook": all_of(
            services, {"fault_types": {"$contains": fault_type}} if fault_type else {}
        ),
    }
    query = RecallQuery(
        text=text,
        services=[service] if service else [],
        fault_types=[fault_type] if fault_type else [],
        before=now,
        limit=min(limit, 50),
    )
    vector = store.embed_query(text)
    reach = max(limit, SEARCH_REACH)
    hits = []
    for kind, where in wheres.items():
        nearest = store.search(kind, vector, reach, now, where)
        hits += hybrid(store, kind, nearest, text=text, vector=vector, before=now, where=where)
    return _best(store, hits, _Query.of(query), limit)


class ChromaMemory:
    """The incident memory the agent recalls from and responders teach (IncidentMemory)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def recall(self, query: RecallQuery) -> list[Recollection]:
        return recall(self.store, query)

    def search(
        self,
        text: str,
        *,
        service: str | None = None,
        fault_type: str | None = None,
        limit: int = 5,
    ) -> list[Recollection]:
        return search(self.store, text, service=service, fault_type=fault_type, limit=limit)

    def remember_resolved(self, record: PastIncident) -> PastIncident:
        """Store a resolved incident so later triage can recall it (replaces one with its id).
        The agent builds the record from its incident (agent.incident.memory)."""
        self.store.add([record])
        return record


def open_memory(config: MemoryConfig, home: Path) -> ChromaMemory:
    """The memory `config` describes, opened now (the CLI and `triage serve` use this)."""
    return ChromaMemory(MemoryStore(config, home))
