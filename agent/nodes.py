"""The triage graph's steps. Each reads the state, does one job through a domain
module, records what it did in the incident timeline and saves the incident."""

from __future__ import annotations

from datetime import datetime, timedelta

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.approval.models import Decision
from agent.approval.service import decide
from agent.context import TriageContext
from agent.dispatch.service import dispatch
from agent.draft.context import Bilingual, DraftContext
from agent.draft.from_incident import context_from_incident
from agent.draft.lint import check_external, is_outside
from agent.draft.write import write_drafts
from agent.incident.correlate import correlate
from agent.incident.models import Incident, TimelineKind
from agent.incident.service import attach, note, open_incident
from agent.isolation.engine import alert_services, isolate
from agent.isolation.models import Isolation
from agent.isolation.recall import recall_into
from agent.llm.investigate import llm_isolation
from agent.policy.models import LocalText
from agent.routing.route import route
from agent.severity.assess import assess, severity_inputs
from agent.state import TriageState
from tools.telemetry.models import Topology

Update = dict[str, object]
AFFECTED = 0.5


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
    return _save(ctx, note(incident, kind, text, ctx.actor, at, data=dict(data)))


def _incident(state: TriageState) -> Incident:
    if state.incident is None:
        raise RuntimeError("no incident in state: the graph must open one first")
    return state.incident


def _topology(ctx: TriageContext, at: datetime) -> Topology:
    return ctx.backend(at).topology() if ctx.telemetry else Topology(source="empty")


def open_or_attach(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """Dedup and correlate: a repeat or a neighbour's alert joins the open incident."""
    ctx, at = runtime.context, state.received_at
    window = timedelta(minutes=ctx.config.correlation_window_min)
    found = correlate(ctx.store, state.alerts, _topology(ctx, at), at, window)
    if found.incident is None:
        opened = open_incident(ctx.store.new_id(at), state.alerts, at)
        source = ctx.telemetry_source(at)
        incident = opened.model_copy(update={"run_id": state.run_id, "telemetry": source})
    else:
        incident = attach(found.incident, state.alerts, found.reason, at)
    return {**_save(ctx, incident), "correlated": found.match}


def after_open(state: TriageState) -> str:
    """Only a new incident is triaged; attached alerts are recorded and that's all."""
    return "investigate" if state.correlated == "new" else "__end__"


def investigate(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """The isolation engine: metrics, logs, traces, changes and security scans in parallel."""
    ctx, at = runtime.context, state.received_at
    isolation = isolate(ctx.backend(at), state.alerts)
    return _investigated(ctx, _incident(state), isolation, at)


def llm_review(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """With a model configured, the LLM investigates with the same tools and may re-rank
    the evidence-backed suspects; any failure keeps the engine's result and says so."""
    ctx, at = runtime.context, state.received_at
    incident = _incident(state)
    if not ctx.config.llm.enabled or incident.isolation is None:
        return {}
    outcome = llm_isolation(ctx.backend(at), state.alerts, incident.isolation, ctx.config.llm)
    if outcome.fallback_reason:
        text = f"LLM investigation failed ({outcome.fallback_reason}); deterministic result kept."
        return _record(ctx, incident, "fallback", text, at)
    return _investigated(ctx, incident, outcome.isolation, at)


def _investigated(
    ctx: TriageContext, incident: Incident, isolation: Isolation, at: datetime
) -> Update:
    """`incident` with `isolation`, its verdict in the timeline."""
    top = isolation.top()
    summary = (
        f"{isolation.verdict}: {top.service} ({top.fault_type}, {top.confidence:.0%})."
        if top
        else "No suspect."
    )
    return _record(
        ctx,
        incident.model_copy(update={"isolation": isolation}),
        "investigation",
        f"{summary} {isolation.verdict_reason}",
        at,
        engine=isolation.engine,
        evidence=len(isolation.evidence),
    )


def recall(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """Similar past incidents and runbooks, resolved before now, as memory evidence."""
    ctx, at = runtime.context, state.received_at
    backend = ctx.backend(at) if ctx.telemetry else None
    lift = ctx.config.memory.lift
    found = recall_into(ctx.memory, _incident(state), state.alerts, at, backend, lift=lift)
    if not found.text:
        return {"recollections": found.recollections}
    update = _record(ctx, found.incident, found.kind, found.text, at, **found.data)
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
    services = set(ctx.backend(at).services()) if ctx.telemetry else set()
    inputs = severity_inputs(
        ctx.policy,
        _topology(ctx, at),
        top.service if top else None,
        affected,
        alert_services(state.alerts, services) | set(incident.services),
        security=bool(top and top.fault_type == "security"),
        confidence=top.confidence if top else 0.0,
    )
    severity = assess(ctx.policy, inputs)
    incident = incident.model_copy(update={"severity": severity})
    text = f"{severity.level} by rule '{severity.rule}': {'; '.join(severity.reasons)}"
    return _record(ctx, incident, "severity", text, at, level=severity.level)


def route_incident(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """Who is paged and who is incident commander, by rotation and severity."""
    ctx, at = runtime.context, state.received_at
    incident = _incident(state)
    top = incident.isolation.top() if incident.isolation else None
    if incident.severity is None:
        raise RuntimeError("routing needs a severity: assess_severity runs first")
    routing = route(
        ctx.policy,
        top.service if top else None,
        incident.severity,
        at,
        security=bool(top and top.fault_type == "security"),
    )
    incident = incident.model_copy(update={"routing": routing})
    paged = ", ".join(f"{r.name} ({r.role})" for r in routing.paged)
    text = f"Page {routing.page_team}: {paged}. IC: {routing.incident_commander.name}."
    return _record(ctx, incident, "routing", text, at, page_team=routing.page_team)


def draft(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """Every message this incident needs, each pending a human's approval."""
    ctx, at = runtime.context, state.received_at
    incident = _incident(state)
    drafts = write_drafts(draft_context(ctx, incident, at))
    incident = incident.model_copy(update={"drafts": drafts})
    kinds = ", ".join(d.kind for d in drafts)
    return _record(ctx, incident, "draft", f"Drafted {kinds}; waiting for approval.", at)


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
        warnings = check_external(target, _internal_names(ctx, incident))
    return _save(ctx, decide(incident, decision, ctx.clock(), warnings=warnings))


def send_approved(state: TriageState, runtime: Runtime[TriageContext]) -> Update:
    """Send what a person approved; nothing else can leave (dispatch refuses it)."""
    ctx = runtime.context
    incident = _incident(state)
    for item in incident.drafts:
        if item.state in {"approved", "edited"}:
            incident = dispatch(incident, item.id, ctx.dispatch, now=ctx.clock())
            ctx.store.save(incident)
    return {"incident": incident}


def after_send(state: TriageState) -> str:
    """Keep waiting while drafts are pending; finish when every draft is decided."""
    incident = _incident(state)
    return "await_approval" if any(d.state == "pending" for d in incident.drafts) else "__end__"


def draft_context(ctx: TriageContext, incident: Incident, at: datetime) -> DraftContext:
    """What the drafts may say about `incident` at `at`: evidence, routing, names, notes."""
    policy = ctx.policy
    org = policy.organisation
    public_names = {
        s.name: _bilingual(s.public_name) for s in policy.services if s.public_name is not None
    }
    war_room = (
        f"{ctx.config.war_room_url.rstrip('/')}/incidents/{incident.id}"
        if (ctx.config.war_room_url)
        else None
    )
    return context_from_incident(
        incident,
        now=at,
        language=ctx.language,
        organisation=_bilingual(org.product_name),
        public_names=public_names,
        timezone=org.timezone,
        status_page_url=str(org.status_page_url) if org.status_page_url else None,
        war_room_url=war_room,
        team_names={t.name: _bilingual(t.display_name) for t in policy.teams},
    )


def _internal_names(ctx: TriageContext, incident: Incident) -> list[str]:
    """Names outside audiences must not see: the catalogue's and every service in evidence."""
    evidence = incident.isolation.evidence if incident.isolation else []
    names = {s.name for s in ctx.policy.services} | {e.service for e in evidence}
    return sorted(names | set(incident.services))


def _bilingual(text: LocalText) -> Bilingual:
    return Bilingual(en=text.get("en"), ja=text.get("ja"))
