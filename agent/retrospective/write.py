"""Writing the postmortem of a resolved incident from its record alone.

Every factual line cites what it rests on: an evidence id from the isolation,
or a timeline entry (TL-<n>). Text that came from telemetry, alerts or chat is
masked and quoted as data (agent.draft.text.untrusted). People are named by
their part in the response, never by name: the write-up is blameless. The
severity's retrospective policy decides the sections, the deadline in business
days and the reviewers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from agent.draft.from_incident import responder_note
from agent.draft.models import Language
from agent.draft.phrases import phrases
from agent.draft.text import MAX_NAME, format_time, untrusted
from agent.incident.lifecycle import Lifecycle, entry_id, lifecycle
from agent.incident.models import ConfirmedCause, Incident, TimelineEntry
from agent.isolation.evidence import Evidence
from agent.policy.models import Policy, PostmortemSection, Retrospective
from agent.retrospective.due import business_days_after
from agent.retrospective.models import Line, Postmortem, Section
from agent.retrospective.phrases import WORDS, Words

MACHINE = frozenset({"agent", "system"})
CITED_EVIDENCE = 3
LATE_ALERT = timedelta(minutes=5)
TIMELINE_LINES = 40


class NotResolved(ValueError):
    """Only a resolved incident, with its confirmed cause, has a postmortem."""


@dataclass(frozen=True)
class Setting:
    """What the writer reads besides the incident: language, clock, policy facts."""

    incident: Incident
    cause: ConfirmedCause
    language: Language
    policy: Policy
    words: Words
    tz: ZoneInfo
    life: Lifecycle

    def when(self, at: datetime) -> str:
        return format_time(at, self.language, self.tz)

    def fault(self, fault_type: str) -> str:
        return phrases(self.language).fault[fault_type]

    def team(self, name: str) -> str:
        team = self.policy.team(name)
        return team.display_name.get(self.language) if team else untrusted(name, MAX_NAME)

    def owner(self) -> str:
        """The team owning the confirmed service, else the team that was paged."""
        service = self.policy.service(self.cause.service)
        routing = self.incident.routing
        name = service.team if service else routing.page_team if routing else None
        return self.team(name) if name else self.words.roles["duty"]

    def names(self, items: list[str]) -> str:
        return self.words.list_sep.join(untrusted(i, MAX_NAME) for i in items)

    def entries(self, *kinds: str) -> list[tuple[str, TimelineEntry]]:
        timeline = self.incident.timeline
        return [(entry_id(i), e) for i, e in enumerate(timeline) if e.kind in kinds]

    def first(self, *kinds: str) -> list[str]:
        """The id of the first timeline entry of these kinds, as a cite list."""
        found = self.entries(*kinds)
        return [found[0][0]] if found else []

    def evidence(self, service: str) -> list[Evidence]:
        isolation = self.incident.isolation
        own = [e for e in isolation.evidence if e.service == service] if isolation else []
        return sorted(own, key=lambda e: -e.strength)[:CITED_EVIDENCE]


def write_postmortem(
    incident: Incident, policy: Policy, language: Language, at: datetime
) -> Postmortem:
    """The postmortem of `incident` in `language`, due by the severity's retrospective policy."""
    cause = incident.root_cause
    if cause is None or incident.severity is None:
        raise NotResolved(f"{incident.id} has no confirmed cause yet; resolve it first")
    level = incident.severity.level
    retro = policy.severity.levels[level].retrospective if level in policy.severity.levels else None
    retro = retro or Retrospective()
    tz = ZoneInfo(policy.organisation.timezone)
    words = WORDS[language]
    s = Setting(incident, cause, language, policy, words, tz, lifecycle(incident))
    due = _due(policy, retro, at.astimezone(tz).date())
    title = words.title.format(
        level=level, id=incident.id, fault=s.fault(cause.fault_type), service=cause.service
    )
    return Postmortem(
        incident_id=incident.id,
        language=language,
        severity=level,
        template=retro.template,
        title=untrusted(title),
        due=due,
        reviewers=[_reviewer(s, r) for r in retro.reviewers],
        review_meeting=retro.review_meeting,
        sections=[
            Section(key=k, title=words.headings[k], lines=WRITERS[k](s, words.day.format(d=due)))
            for k in dict.fromkeys(retro.sections)
        ],
    )


def _due(policy: Policy, retro: Retrospective, resolved_on: date) -> date:
    """The review deadline: working days of the duty rota, skipping the policy's holidays."""
    rotations = policy.rotations
    days = retro.due_business_days
    return business_days_after(resolved_on, days, rotations.duty.working_days, rotations.holidays)


def header(postmortem: Postmortem) -> str:
    """The line under the title: severity, template, due date, reviewers, meeting."""
    w = WORDS[postmortem.language]
    meta = w.meta.format(
        level=postmortem.severity,
        template=w.templates[postmortem.template],
        due=w.day.format(d=postmortem.due),
        reviewers=w.list_sep.join(postmortem.reviewers),
    )
    return meta + (w.meeting if postmortem.review_meeting else "")


def _reviewer(s: Setting, who: str) -> str:
    if who == "owner":
        return s.owner()
    return s.words.roles.get(who) or s.team(who)


def _duration(s: Setting, seconds: float) -> str:
    total = max(0, round(seconds))
    hours, minutes = divmod(total // 60, 60)
    if hours:
        return s.words.hours_minutes.format(h=hours, m=minutes)
    if minutes:
        return s.words.minutes.format(m=minutes)
    return s.words.seconds.format(s=total)


def _summary(s: Setting, _due: str) -> list[Line]:
    w, incident, cause = s.words, s.incident, s.cause
    services = list(dict.fromkeys([cause.service, *incident.services]))
    change = w.change.format(change=untrusted(cause.change_id, MAX_NAME)) if cause.change_id else ""
    opened, resolved = s.first("opened"), s.first("resolved")
    return [
        Line(
            text=w.summary.format(
                level=incident.severity.level if incident.severity else "-",
                id=incident.id,
                services=s.names(services),
                start=s.when(incident.opened_at),
                end=s.when(cause.at),
                duration=_duration(s, s.life.time_to_resolve_s or 0.0),
            ),
            cites=opened + resolved,
        ),
        Line(
            text=w.summary_cause.format(
                fault=s.fault(cause.fault_type), service=untrusted(cause.service, MAX_NAME),
                change=change,
            ),
            cites=resolved,
        ),
        *_resolution(s, resolved),
    ]  # fmt: skip


def _resolution(s: Setting, resolved: list[str]) -> list[Line]:
    """What fixed it, as the resolver said (`--resolution`): the readers' first question."""
    if not s.cause.resolution:
        return []
    text = s.words.summary_resolution.format(text=_quote(s, s.cause.resolution))
    return [Line(text=text, cites=resolved)]


def _impact(s: Setting, _due: str) -> list[Line]:
    w, incident = s.words, s.incident
    isolation = incident.isolation
    start = isolation.onset if isolation and isolation.onset else incident.opened_at
    stage = "mitigated" if s.entries("mitigated") else "resolved"
    ended = s.entries(stage)
    end = ended[0][1].at if ended else s.cause.at
    lines = [
        Line(
            text=w.impact_duration.format(
                duration=_duration(s, (end - start).total_seconds()),
                start=s.when(start),
                until=w.until[stage],
                end=s.when(end),
            ),
            cites=s.first("investigation") + s.first(stage),
        )
    ]
    harmed = (isolation.harmed or []) if isolation else []
    if not harmed:
        text = w.impact_unmeasured.format(services=s.names(incident.services))
        return [*lines, Line(text=text, cites=s.first("opened"))]
    cites = [e.id for name in harmed for e in s.evidence(name)[:1]]
    lines.append(Line(text=w.impact_harmed.format(services=s.names(harmed)), cites=cites))
    for item in s.evidence(s.cause.service):
        lines.append(Line(text=_quote(s, item.wording(s.language)), cites=[item.id]))
    return lines


def _detection(s: Setting, _due: str) -> list[Line]:
    w, incident = s.words, s.incident
    if not incident.alerts:
        return [Line(text=w.detection_no_onset)]
    alert = min(incident.alerts, key=lambda a: a.starts_at)
    lines = [
        Line(
            text=w.detection_alert.format(
                alert=untrusted(alert.name or "-", MAX_NAME),
                source=untrusted(alert.source, MAX_NAME),
                at=s.when(alert.starts_at),
            ),
            cites=s.first("opened"),
        )
    ]
    lag = _alert_lag(incident)
    if lag is None or incident.isolation is None or incident.isolation.onset is None:
        return [*lines, Line(text=w.detection_no_onset)]
    template = w.detection_late if lag > timedelta(0) else w.detection_early
    shown = _duration(s, abs(lag.total_seconds()))
    onset = s.when(incident.isolation.onset)
    cites = s.first("investigation")
    return [*lines, Line(text=template.format(onset=onset, lag=shown), cites=cites)]


def _alert_lag(incident: Incident) -> timedelta | None:
    """How long after the measured onset the first alert fired."""
    onset = incident.isolation.onset if incident.isolation else None
    if onset is None or not incident.alerts:
        return None
    return min(a.starts_at for a in incident.alerts) - onset


def _timeline(s: Setting, _due: str) -> list[Line]:
    lines = []
    for index, entry in enumerate(s.incident.timeline):
        text = _event(s, entry)
        if text is not None:
            lines.append(Line(text=f"{s.when(entry.at)} {text}", cites=[entry_id(index)]))
    return lines[:TIMELINE_LINES]


def _event(s: Setting, entry: TimelineEntry) -> str | None:
    """One timeline entry in the postmortem's words (people by role), or None to leave out."""
    w = s.words
    actor = w.actors["person"] if entry.actor not in MACHINE else w.actors[entry.actor]
    if entry.kind in ("note", "chat"):
        said = responder_note(entry)
        return w.timeline["note"].format(actor=actor, text=_quote(s, said.text)) if said else None
    facts = _entry_facts(s, entry)
    template = w.timeline.get(entry.kind)
    if template is None:
        return None
    remark = str(entry.data.get("note") or "")  # a mitigation's "what stopped the harm"
    event = template.format(actor=actor, **facts)
    return event + w.said.format(text=_quote(s, remark)) if remark else event


def _entry_facts(s: Setting, entry: TimelineEntry) -> dict[str, str]:
    incident = s.incident
    top = incident.isolation.top() if incident.isolation else None
    kind = _draft_kind(incident, str(entry.data.get("draft_id", "")))
    return {
        "suspect": untrusted(top.service, MAX_NAME) if top else "-",
        "level": incident.severity.level if incident.severity else "-",
        "team": s.team(incident.routing.page_team) if incident.routing else "-",
        "kind": s.words.kinds.get(kind, kind),
    }


def _draft_kind(incident: Incident, draft_id: str) -> str:
    """The kind of the draft an entry is about. A draft withdrawn on resolve is no longer
    among the incident's drafts, but its id still says its kind (`<incident>-<kind>`)."""
    kinds = {d.id: d.kind for d in incident.drafts}
    return kinds.get(draft_id) or draft_id.removeprefix(f"{incident.id}-") or "page"


def _quote(s: Setting, text: str) -> str:
    return s.words.quoted.format(text=untrusted(text, 240))


def _root_cause(s: Setting, _due: str) -> list[Line]:
    w, cause = s.words, s.cause
    service = untrusted(cause.service, MAX_NAME)
    evidence = [e.id for e in s.evidence(cause.service)]
    resolved = s.first("resolved")
    lines = [
        Line(
            text=w.cause.format(fault=s.fault(cause.fault_type), service=service),
            cites=resolved + evidence,
        ),
        _trigger(s, service, resolved),
        *_engine_lines(s, service),
    ]
    words = " ".join(t for t in (cause.summary, cause.note) if t)
    if words:
        lines.append(Line(text=w.responder_words.format(text=_quote(s, words)), cites=resolved))
    return lines


def _trigger(s: Setting, service: str, resolved: list[str]) -> Line:
    """The change a responder named, else the change evidence the engine tied to the cause."""
    w, cause, isolation = s.words, s.cause, s.incident.isolation
    if cause.change_id:
        change = untrusted(cause.change_id, MAX_NAME)
        return Line(text=w.trigger.format(change=change), cites=resolved)
    evidence = isolation.evidence_by_id() if isolation else {}
    hypotheses = isolation.hypotheses if isolation else []
    linked = [
        evidence[h.change_id]
        for h in hypotheses
        if h.service == cause.service and h.change_id in evidence
    ]
    if not linked:
        return Line(text=w.trigger_none)
    change = _quote(s, linked[0].wording(s.language))
    return Line(text=w.trigger_linked.format(change=change, service=service), cites=[linked[0].id])


def _engine_lines(s: Setting, service: str) -> list[Line]:
    w, record = s.words, s.cause.engine
    top = s.incident.isolation.top() if s.incident.isolation else None
    if record is None or top is None:
        return []
    cites = s.first("investigation") + top.evidence_ids[:CITED_EVIDENCE]
    confidence = f"{round(100 * (record.top_confidence or 0.0))}%"
    top_name = untrusted(top.service, MAX_NAME)
    if record.rank == 1:
        text = w.engine_right.format(
            service=service, fault=s.fault(top.fault_type), confidence=confidence
        )
    elif record.rank:
        text = w.engine_ranked.format(
            service=service, rank=record.rank, top=top_name, confidence=confidence
        )
    else:
        text = w.engine_missed.format(service=service, top=top_name, confidence=confidence)
    return [Line(text=text, cites=cites)]


def _contributing(s: Setting, _due: str) -> list[Line]:
    lines = _gaps(s) + _late(s) + _escalations(s) + _misranked(s)
    return lines or [Line(text=s.words.factor_none)]


def _gaps(s: Setting) -> list[Line]:
    gaps = s.incident.telemetry_gaps
    if not gaps:
        return []
    text = s.words.factor_gap.format(kinds=s.names(sorted(gaps)))
    return [Line(text=text, cites=s.first("investigation", "reinvestigation"))]


def _late(s: Setting) -> list[Line]:
    lag = _alert_lag(s.incident)
    if lag is None or lag <= LATE_ALERT:
        return []
    text = s.words.factor_late.format(lag=_duration(s, lag.total_seconds()))
    return [Line(text=text, cites=s.first("investigation"))]


def _escalations(s: Setting) -> list[Line]:
    found = s.entries("escalation")
    if not found:
        return []
    text = s.words.factor_escalation.format(count=len(found))
    return [Line(text=text, cites=[i for i, _ in found])]


def _misranked(s: Setting) -> list[Line]:
    record, top = s.cause.engine, s.incident.isolation.top() if s.incident.isolation else None
    if record is None or top is None or record.rank == 1:
        return []
    text = s.words.factor_ranking.format(
        top=untrusted(top.service, MAX_NAME), service=untrusted(s.cause.service, MAX_NAME)
    )
    return [Line(text=text, cites=s.first("investigation"))]


def _went_well(s: Setting, _due: str) -> list[Line]:
    w, record, life = s.words, s.cause.engine, s.life
    lines = []
    if record is not None and record.rank == 1:
        service = untrusted(s.cause.service, MAX_NAME)
        lines.append(
            Line(text=w.well_engine.format(service=service), cites=s.first("investigation"))
        )
    if life.time_to_acknowledge_s is not None and not _late_ack(s):
        text = w.well_ack.format(duration=_duration(s, life.time_to_acknowledge_s))
        lines.append(Line(text=text, cites=s.first("opened") + s.first("acknowledged")))
    if life.time_to_mitigate_s is not None:
        text = w.well_mitigated.format(duration=_duration(s, life.time_to_mitigate_s))
        lines.append(Line(text=text, cites=s.first("opened") + s.first("mitigated")))
    return lines or [Line(text=w.well_none)]


def _late_ack(s: Setting) -> list[Line]:
    """An acknowledgement slower than the policy's first unacknowledged-page step: the
    policy's own bar, so a page answered hours later is not listed as what went well."""
    steps = s.policy.escalation.unacknowledged
    taken = s.life.time_to_acknowledge_s
    if not steps or taken is None or taken <= 60 * steps[0].after_min:
        return []
    limit = _duration(s, 60 * steps[0].after_min)
    text = s.words.badly_ack.format(duration=_duration(s, taken), limit=limit)
    return [Line(text=text, cites=s.first("opened") + s.first("acknowledged"))]


def _went_badly(s: Setting, _due: str) -> list[Line]:
    lines = _late(s) + _late_ack(s) + _escalations(s) + _gaps(s) + _misranked(s)
    return lines or [Line(text=s.words.badly_none)]


def _action_items(s: Setting, due: str) -> list[Line]:
    w, cause = s.words, s.cause
    service = untrusted(cause.service, MAX_NAME)
    owner = s.owner()

    def item(text: str, cites: list[str]) -> Line:
        return Line(text=w.action.format(text=text, owner=owner, due=due), cites=cites)

    remedy = w.remedy.get(cause.fault_type, w.remedy_default).format(service=service)
    items = [item(remedy, s.first("resolved") + [e.id for e in s.evidence(cause.service)][:1])]
    for late in _late(s):
        items.append(item(w.act_detection.format(service=service), late.cites))
    for gap in _gaps(s):
        kinds = s.names(sorted(s.incident.telemetry_gaps))
        items.append(item(w.act_telemetry.format(kinds=kinds), gap.cites))
    for wrong in _misranked(s):
        top = s.incident.isolation.top() if s.incident.isolation else None
        name = untrusted(top.service, MAX_NAME) if top else "-"
        items.append(item(w.act_ranking.format(top=name, service=service), wrong.cites))
    for cite, entry in s.entries("note", "chat"):
        said = responder_note(entry)
        if said is not None and said.kind == "need":
            items.append(item(w.act_need.format(text=_quote(s, said.text)), [cite]))
    return items


WRITERS: Mapping[PostmortemSection, Callable[[Setting, str], list[Line]]] = {
    "summary": _summary,
    "impact": _impact,
    "detection": _detection,
    "timeline": _timeline,
    "root_cause": _root_cause,
    "contributing_factors": _contributing,
    "went_well": _went_well,
    "went_badly": _went_badly,
    "action_items": _action_items,
}
