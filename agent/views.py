"""How an incident is shown: a rich terminal view and one JSON object.

The JSON carries at least the replay/1 prediction fields (ranking, fault_type,
severity, page_team, elapsed_s), so scripts and the eval harness read the
same shape a person sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agent.dispatch.service import outcome_text
from agent.draft.models import Draft
from agent.draft.text import percent
from agent.incident.models import Incident
from agent.incident.scorecard import Durations, Scorecard

TOP_SUSPECTS = 5
EVIDENCE_SHOWN = 3


def incident_json(incident: Incident, elapsed_s: float | None = None) -> dict[str, Any]:
    """The incident as the CLI's --json object."""
    isolation, severity, routing = incident.isolation, incident.severity, incident.routing
    top = isolation.top() if isolation else None
    return {
        "incident_id": incident.id,
        "status": incident.status,
        "ranking": [
            {"service": h.service, "score": h.score, "confidence": h.confidence}
            for h in (isolation.hypotheses if isolation else [])
        ],
        "fault_type": top.fault_type if top else "unknown",
        "verdict": isolation.verdict if isolation else None,
        "severity": severity.level if severity else None,
        "severity_reasons": severity.reasons if severity else [],
        "page_team": routing.page_team if routing else None,
        "ic": routing.incident_commander.name if routing else None,
        "paged": [{"name": r.name, "team": r.team, "role": r.role} for r in routing.paged]
        if routing
        else [],
        "drafts": [_draft_json(incident, d) for d in incident.drafts],
        "telemetry_gaps": incident.telemetry_gaps,
        "engine": isolation.engine if isolation else None,
        "notes": isolation.notes if isolation else [],
        "elapsed_s": elapsed_s,
    }


def _draft_json(incident: Incident, d: Draft) -> dict[str, Any]:
    return {
        "id": d.id,
        "kind": d.kind,
        "audience": d.audience,
        "channel": d.channel,
        "language": d.language,
        "state": d.state,
        "delivery": draft_state(incident, d),
        "title": d.title,
        "body": d.body,
        "evidence_ids": d.evidence_ids,
    }


def incident_view(incident: Incident, with_bodies: bool = True) -> RenderableType:
    """Hypotheses with evidence, severity and why, who is paged and IC, the drafts."""
    parts: list[RenderableType] = [
        Text(f"{incident.id}  {incident.title}  [{incident.status}]", style="bold")
    ]
    parts.extend(_suspects(incident))
    parts.extend(_severity_and_routing(incident))
    parts.extend(drafts_view(incident, with_bodies))
    return Group(*parts)


def _suspects(incident: Incident) -> list[RenderableType]:
    isolation = incident.isolation
    if isolation is None:
        return [Text("Not investigated.", style="dim")]
    evidence = isolation.evidence_by_id()
    title = escape(f"Suspects ({isolation.verdict}: {isolation.verdict_reason})")
    table = Table(title=title, expand=True)
    table.add_column("#", justify="right")
    table.add_column("service")
    table.add_column("fault type")
    table.add_column("confidence", justify="right")
    table.add_column("evidence")
    for rank, h in enumerate(isolation.hypotheses[:TOP_SUSPECTS], start=1):
        lines = [
            f"[{i}] {evidence[i].summary}" for i in h.evidence_ids[:EVIDENCE_SHOWN] if i in evidence
        ]
        table.add_row(
            str(rank),
            Text(h.service),
            h.fault_type,
            percent(h.confidence),
            Text("\n".join(lines) or "—"),
        )
    notes: list[RenderableType] = [Text(f"note: {n}", style="yellow") for n in isolation.notes]
    return [table, *notes]


def _severity_and_routing(incident: Incident) -> list[RenderableType]:
    lines: list[str] = []
    if incident.severity:
        s = incident.severity
        lines.append(f"{s.level}: {'; '.join(s.reasons)}")
        lines.append(f"status every {s.status_every_min} min; retrospective: {s.retrospective}")
    if incident.routing:
        r = incident.routing
        paged = ", ".join(f"{p.name} ({p.role}, {p.team})" for p in r.paged)
        lines.append(f"page {r.page_team}: {paged}")
        lines.append(f"incident commander: {r.incident_commander.name}")
    return [Panel(Text("\n".join(lines)), title="Severity and routing")] if lines else []


def draft_state(incident: Incident, draft: Draft) -> str:
    """The draft's state, and for a sent one where it went ('sent: queued to the outbox ...')."""
    last = next((r for r in reversed(incident.dispatches) if r.draft_id == draft.id), None)
    if last is None:
        return draft.state
    return f"{draft.state}: {outcome_text(last)}"


def drafts_view(incident: Incident, with_bodies: bool = True) -> list[RenderableType]:
    out: list[RenderableType] = []
    for d in incident.drafts:
        state = draft_state(incident, d)
        header = f"{d.id}  [{state}]  {d.kind} → {d.audience} for {d.channel} ({d.language})"
        content: list[RenderableType] = [Text(d.title, style="bold")]
        if with_bodies:
            content.extend([Text(""), Text(d.body)])
        out.append(Panel(Group(*content), title=escape(header), expand=True))
    return out


def scorecard_lines(card: Scorecard) -> list[str]:
    """`triage stats` in words: counts, durations, the engine's record."""
    engine = card.engine
    since = f" since {card.since:%Y-%m-%d %H:%M} UTC" if card.since else ""
    lines = [
        f"{counted(card.incidents, 'incident')}{since}",
        f"  by severity: {_counts(card.by_severity)}",
        f"  by team:     {_counts(card.by_team)}",
        f"  by stage:    {_counts(card.by_stage)}",
        f"time to acknowledge: {_timing(card.time_to_acknowledge)}",
        f"time to mitigate:    {_timing(card.time_to_mitigate)}",
        f"time to resolve:     {_timing(card.time_to_resolve)}",
        f"engine on {counted(engine.confirmed, 'confirmed cause')}:"
        f" top-1 {share_text(engine.top1)}, top-3 {share_text(engine.top3)},"
        f" fault type {share_text(engine.fault_type_top1)},"
        f" Brier {_number(engine.brier)}, calibration error {_number(engine.calibration_error)}",
    ]
    lines += [
        f"  confidence {b.low:.1f}-{b.high:.1f}: {counted(b.count, 'incident')}, said"
        f" {b.mean_confidence:.0%}, right {b.accuracy:.0%}"
        for b in engine.calibration
    ]
    return lines


def counted(count: int, noun: str) -> str:
    """`1 incident`, `2 incidents`: the number and its noun."""
    return f"{count} {plural(noun, count)}"


def plural(noun: str, count: int) -> str:
    """The noun as it agrees with `count` (English's regular plural; the nouns counted
    here take no other): the war room sets the number apart and the noun beside it."""
    return noun if count == 1 else f"{noun}s"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"


def _timing(durations: Durations) -> str:
    if not durations.count:
        return "-"
    return (
        f"median {duration_text(durations.median_s)}, p90 {duration_text(durations.p90_s)}"
        f" ({counted(durations.count, 'incident')})"
    )


# (unit, seconds in it, shown below this many seconds)
DURATION_UNITS = (("s", 1, 120), ("min", 60, 7200), ("h", 3600, 172800), ("d", 86400, float("inf")))


def duration_text(seconds: float | None, units: Mapping[str, str] | None = None) -> str:
    """A duration in the unit a reader takes in at a glance (a replayed incident
    resolved today is months, not a million minutes); `units` words the unit in
    another language, set close ('12.0分')."""
    if seconds is None:
        return "-"
    unit, size = next(u for u in DURATION_UNITS if seconds < u[2])[:2]
    number = f"{seconds / size:.{0 if size == 1 else 1}f}"
    return f"{number}{units[unit]}" if units else f"{number} {unit}"


def share_text(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
