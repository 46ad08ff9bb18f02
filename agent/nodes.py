"""The triage graph's steps. Each reads the state, does one job through a domain
module, records what it did in the incident timeline and saves the incident.

A re-investigation (`state.reason` set) runs the same steps on an open
incident; its steps save without a timeline line each, and `revise` records
one line saying what changed and why."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.approval.models import Decision
from agent.approval.service import decide
from agent.context import TriageContext
from agent.dispatch.service import dispatch
from agent.draft.lint import check_external, is_outside
from agent.draft.revise import rewrite_pending
from agent.draft.text import percent
from agent.draft.write import write_drafts
from agent.incident.correlate import correlate, recovery_only
from agent.incident.models import Incident, TimelineKind
from agent.incident.reinvestigate import due_on_alerts, last_look
from agent.incident.service import attach, note, open_incident, recovered
from agent.incident.standing import Standing, what_changed
from agent.isolation.degraded import degrade, gap_lines
from agent.isolation.engine import alert_services, isolate
from agent.isolation.models import Isolation
from agent.isolation.ranking import RankingModel
from agent.isolation.recall import recall_into
from agent.llm.investigate import llm_isolation
from agent.routing.command import kept_command
from agent.routing.route import route
from agent.severity.assess import assess, severity_inputs
from agent.state import TriageState
from tools.telemetry.guard import GuardedBackend

log = logging.getLogger(__name__)
Update = dict[str, object]
AFFECTED = 0.5
NOTHING_TO_DO = "recovery with no open incident: nothing to do"
# Why a re-investigation kept the look before it.
LESS_READ = "this look read less telemetry"
NOTHING_SEEN = (
    "this look saw no signal where the last one saw the fault (its telemetry no longer reaches it)"
)


def _save(ctx: TriageContext, incident: Incident) -> Update:
    ctx.store.save(incident)
    return {"incident": incident}


def _record(
    ctx: TriageContext,
    incident: Incident,
    kind: TimelineKind,
    text: str,
    at: datetime,
    **data: object,
) -> Update:
    """`incident` with the step's timeline line, saved. A step redone after its process died
    (its line saved, its checkpoint not) finds its line already last and does not repeat it."""
    last = incident.timeline[-1] if incident.timeline else None
    if last is not None and (last.kind, last.text, last.at, last.actor) == (
        kind,
        text,
        at,
        ctx.actor,
    ):
        return _save(ctx, incident)
    return _save(ctx, note(incident, kind, text, ctx.actor, at, data=dict(data)))


def _step(
    state: TriageState,
    ctx: TriageContext,
    incident: Incident,
    kind: TimelineKind,
    text: str,
    **data: object,
) -> Update:
    """A step's result, with its timeline line on a first triage (a re-investigation
    says what changed in one line at the end instead)."""
    if state.reason is not None:
        return _save(ctx, incident)
    return _record(ctx, incident, kind, text, state.received_at, **data)


def _incident(state: TriageState) -> Incident:
    if state.incident is None:
        raise RuntimeError("no incident in state: the graph must open one first")
    return state.incident


def open_or_attach(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """Dedup and correlate: a repeat or a neighbour's alert joins the open incident, and
    is looked at afresh when it may change the picture (agent.incident.reinvestigate).
    A recovery of a resolved incident's alert is one line on its timeline, and the run
    ends. A recovery that no incident holds opens none: on-call would be paged for
    something already over (a recovery redelivered after a restart, or of an alert
    never received)."""
    ctx, at = runtime.context, state.received_at
    window = timedelta(minutes=ctx.config.correlation_window_min)
    found = correlate(ctx.store, state.alerts, ctx.observe(at, state.run_id).topology(), at, window)
    if found.incident is None and recovery_only(state.alerts):
        return {"no_incident": NOTHING_TO_DO}
    if found.incident is None:
        opened = open_incident(ctx.store.new_id(at), state.alerts, at)
        source = ctx.telemetry_source(at)
        incident = opened.model_copy(update={"run_id": state.run_id, "telemetry": source})
        return {**_save(ctx, incident), "correlated": found.match}
    if found.incident.ended:
        incident, text = recovered(found.incident, state.alerts)
        return {**_record(ctx, incident, "alert", text, at), "correlated": found.match}
    reason = due_on_alerts(found.incident, state.alerts, at, ctx.config.reinvestigate)
    incident = attach(found.incident, state.alerts, found.reason, at)
    update = {**_save(ctx, incident), "correlated": found.match, "reason": reason}
    return {**update, "before": Standing.of(found.incident)} if reason else update


def after_open(state: TriageState) -> str:
    """A new incident is triaged; an attached alert only when it calls for a fresh look;
    a run without an incident ends here."""
    if state.incident is None:
        return "__end__"
    return "investigate" if state.correlated == "new" or state.reason else "__end__"


def investigate(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """The isolation engine: metrics, logs, traces, changes and security scans in parallel.

    Telemetry that cannot be read (none configured, a store down) is a gap the
    incident names; the triage goes on from what it has (agent.isolation.degraded).
    A re-investigation that could read less than the look before it, or sees no signal
    where it saw the fault, keeps that look's findings (`kept_from`) and says why.
    """
    ctx, at = runtime.context, state.received_at
    incident = _incident(state)
    backend = ctx.observe(at, state.run_id)
    isolation = _isolate(backend, incident, at, ctx.ranking)
    gaps = dict(backend.gaps.reasons)
    incident_now = incident.model_copy(update={"telemetry_gaps": gaps})
    because = _keep_earlier(state, incident, isolation, gaps)
    if because is not None:
        # A store down, or one that no longer holds the fault, must not erase what the
        # last look saw: its findings stand, the reason is named, and the look is
        # retried when the store answers.
        return {
            **_save(ctx, incident_now),
            "kept_from": last_look(incident),
            "kept_because": because,
        }
    return _investigated(state, ctx, incident_now, _honest(isolation, incident_now, backend))


def _keep_earlier(
    state: TriageState, incident: Incident, isolation: Isolation, gaps: dict[str, str]
) -> str | None:
    """Why a re-investigation keeps the last look's findings, if it does: it read less
    telemetry (a store down), or it sees nothing where the last look saw the fault (the
    engine reads the fault window even once it is over, so an empty look means the
    telemetry no longer reaches it: data past retention, a store answering empty)."""
    before = incident.isolation
    if state.reason is None or before is None:
        return None
    if gaps.keys() - incident.telemetry_gaps.keys():
        return LESS_READ
    if before.verdict != "no-signal" and isolation.verdict == "no-signal":
        return NOTHING_SEEN
    return None


def after_investigate(state: TriageState) -> str:
    """A look that kept the earlier findings only revises the drafts; others go on."""
    return "revise" if state.kept_from is not None else "llm_review"


def _isolate(
    backend: GuardedBackend, incident: Incident, at: datetime, model: RankingModel | None
) -> Isolation:
    """The engine's isolation; nothing to rank (no service readable) is an empty one, and
    so is an engine failure on telemetry with gaps (the gaps are the story, not the crash)."""
    if not backend.services():
        return Isolation(now=at, verdict_reason="The telemetry names no service: nothing to rank.")
    try:
        return isolate(backend, incident.alerts, model)
    except Exception:
        if not backend.gaps:
            raise
        log.warning("the engine failed on incomplete telemetry for %s", incident.id, exc_info=True)
        return Isolation(now=at)


def _honest(isolation: Isolation, incident: Incident, backend: GuardedBackend) -> Isolation:
    """`isolation` as sure as the telemetry read allows (no gaps: unchanged)."""
    known = set(backend.services()) | {s.name for s in backend.topology().services}
    return degrade(isolation, incident.alerts, incident.telemetry_gaps, known)


def llm_review(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """With a model configured, the LLM investigates with the same tools and may re-rank
    the evidence-backed suspects; any failure keeps the engine's result and says so."""
    ctx, at = runtime.context, state.received_at
    incident = _incident(state)
    if not ctx.config.llm.enabled or incident.isolation is None or ctx.telemetry is None:
        return {}
    backend = ctx.observe(at, state.run_id)
    outcome = llm_isolation(backend, incident.alerts, incident.isolation, ctx.config.llm)
    if outcome.fallback_reason:
        # The kept result carries the failure, so the drafts and the war room say so too.
        kept = incident.model_copy(update={"isolation": outcome.isolation})
        text = f"LLM investigation failed ({outcome.fallback_reason}); deterministic result kept."
        return _record(ctx, kept, "fallback", text, at)
    return _investigated(state, ctx, incident, _honest(outcome.isolation, incident, backend))


def _investigated(
    state: TriageState, ctx: TriageContext, incident: Incident, isolation: Isolation
) -> Update:
    """`incident` with `isolation`, its verdict (and any telemetry gap) in the timeline."""
    top = isolation.top()
    summary = (
        f"{isolation.verdict}: {top.service} ({top.fault_type}, {percent(top.confidence)})."
        if top
        else "No suspect."
    )
    gaps = "".join(f" {line}." for line in gap_lines(incident.telemetry_gaps))
    return _step(
        state,
        ctx,
        incident.model_copy(update={"isolation": isolation}),
        "investigation",
        f"{summary} {isolation.verdict_reason}{gaps}",
        engine=isolation.engine,
        evidence=len(isolation.evidence),
        telemetry_gaps=incident.telemetry_gaps,
    )


def recall(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """Similar past incidents and runbooks, resolved before now, as memory evidence."""
    ctx, at = runtime.context, state.received_at
    backend = ctx.observe(at, state.run_id)
    incident = _incident(state)
    lift = ctx.config.memory.lift
    telemetry = backend if ctx.telemetry else None
    found = recall_into(
        ctx.memory, incident, incident.alerts, at, telemetry, lift=lift, model=ctx.ranking
    )
    recalled = found.incident
    if recalled.isolation is not None:  # a past incident is no substitute for telemetry
        honest = _honest(recalled.isolation, recalled, backend)
        recalled = recalled.model_copy(update={"isolation": honest})
    if not found.text:
        return {**_save(ctx, recalled), "recollections": found.recollections}
    update = _step(state, ctx, recalled, found.kind, found.text, **found.data)
    return {**update, "recollections": found.recollections}


def assess_severity(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """Severity by policy, from the catalogue and the evidence, never from alert text."""
    ctx, at = runtime.context, state.received_at
    incident = _incident(state)
    isolation = incident.isolation
    top = isolation.top() if isolation else None
    if isolation is not None and isolation.harmed is not None:
        # Harm as the policy means it: errors or latency clearly worse (tools.analysis.harm).
        affected = list(isolation.harmed)
    else:
        evidence = isolation.evidence if isolation else []
        affected = sorted({e.service for e in evidence if e.strength >= AFFECTED})
    backend = ctx.observe(at, state.run_id)
    inputs = severity_inputs(
        ctx.policy,
        backend.topology(),
        top.service if top else None,
        affected,
        alert_services(incident.alerts, set(backend.services())) | set(incident.services),
        security=bool(top and top.fault_type == "security"),
        confidence=top.confidence if top else 0.0,
    )
    severity = assess(ctx.policy, inputs)
    incident = incident.model_copy(update={"severity": severity})
    text = f"{severity.level} by rule '{severity.rule}': {'; '.join(severity.reasons)}"
    return _step(state, ctx, incident, "severity", text, level=severity.level)


def route_incident(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """Who is paged and who is incident commander, by rotation and severity."""
    ctx, at = runtime.context, state.received_at
    incident = _incident(state)
    top = incident.isolation.top() if incident.isolation else None
    if incident.severity is None:
        raise RuntimeError("routing needs a severity: assess_severity runs first")
    routing = route(
        ctx.policy,
        _owner(incident),
        incident.severity,
        at,
        security=bool(top and top.fault_type == "security"),
    )
    routing = kept_command(ctx.policy, routing, incident.handed_to())
    incident = incident.model_copy(update={"routing": routing})
    paged = ", ".join(f"{r.name} ({r.role})" for r in routing.paged)
    text = f"Page {routing.page_team}: {paged}. IC: {routing.incident_commander.name}."
    return _step(state, ctx, incident, "routing", text, page_team=routing.page_team)


def _owner(incident: Incident) -> str | None:
    """The service whose team is paged: the top suspect when evidence points at one, else
    (no signal) the service the alert names, whose owners know what it means."""
    isolation = incident.isolation
    top = isolation.top() if isolation else None
    if isolation is not None and isolation.verdict == "no-signal" and incident.services:
        return incident.services[0]
    return top.service if top else (incident.services[0] if incident.services else None)


def after_route(state: TriageState) -> str:
    """A first triage writes its drafts; a re-investigation revises the pending ones."""
    return "revise" if state.reason else "draft"


def draft(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """Every message this incident needs, each pending a human's approval."""
    ctx, at = runtime.context, state.received_at
    incident = _incident(state)
    drafts = write_drafts(ctx.draft_context(incident, at))
    incident = incident.model_copy(update={"drafts": drafts})
    kinds = ", ".join(d.kind for d in drafts)
    return _record(ctx, incident, "draft", f"Drafted {kinds}; waiting for approval.", at)


def revise(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """After a re-investigation: pending drafts rewritten from the new findings, and one
    timeline line saying why it looked again and what changed."""
    ctx, at = runtime.context, state.received_at
    incident = _incident(state)
    revised = rewrite_pending(incident.id, incident.drafts, ctx.draft_context(incident, at))
    after = Standing.of(incident)
    changes = what_changed(state.before or after, after)
    if state.kept_from is not None:
        changes.append(
            f"findings of {state.kept_from:%Y-%m-%d %H:%M} UTC kept: {state.kept_because}"
        )
    text = f"Re-investigated ({state.reason}): {'; '.join(changes) or 'nothing changed'}."
    text += f" Drafts: {revised.summary()}."
    incident = incident.model_copy(update={"drafts": revised.drafts})
    return _record(
        ctx,
        incident,
        "reinvestigation",
        text,
        at,
        reason=state.reason,
        changes=changes,
        redrafted=[d.id for d in revised.redrafted],
        added=[d.id for d in revised.added],
        withdrawn=[d.id for d in revised.withdrawn],
    )


def await_approval(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """Stop until a person approves or rejects a pending draft (any process may answer)."""
    ctx = runtime.context
    incident = _incident(state)
    pending = [d for d in incident.drafts if d.state == "pending"]
    if not pending:
        return {"decision": None}
    answer = interrupt(
        {
            "incident_id": incident.id,
            "pending": [
                {"id": d.id, "kind": d.kind, "audience": d.audience, "title": d.title}
                for d in pending
            ],
        }
    )
    decision = Decision.model_validate(answer)
    return {**_decide(ctx, incident, decision), "decision": decision}


def _decide(ctx: TriageContext, incident: Incident, decision: Decision) -> Update:
    target = incident.draft(decision.draft_id)
    warnings: list[str] = []
    if decision.action == "approve" and target is not None and is_outside(target):
        allowed = ctx.public_terms()
        warnings = check_external(target, _internal_names(ctx, incident), allowed=allowed)
    return _save(ctx, decide(incident, decision, ctx.clock(), warnings=warnings))


def send_approved(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """Send what a person approved; nothing else can leave (dispatch refuses it)."""
    ctx = runtime.context
    incident = _incident(state)
    for item in incident.drafts:
        if item.state in {"approved", "edited"}:
            incident = dispatch(incident, item.id, ctx.dispatch, now=ctx.clock(), outbox=ctx.outbox)
            ctx.store.save(incident)
    return {"incident": incident}


def after_send(state: TriageState) -> str:
    """Keep waiting while drafts are pending; finish when every draft is decided."""
    incident = _incident(state)
    return "await_approval" if any(d.state == "pending" for d in incident.drafts) else "__end__"


def _internal_names(ctx: TriageContext, incident: Incident) -> list[str]:
    """Names outside audiences must not see: the catalogue's and every service in evidence."""
    evidence = incident.isolation.evidence if incident.isolation else []
    names = {s.name for s in ctx.policy.services} | {e.service for e in evidence}
    return sorted(names | set(incident.services))
