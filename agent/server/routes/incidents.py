"""The incidents API: read the incident, decide on its drafts, acknowledge, resolve."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime

from agent.approval.models import Decision
from agent.approval.service import ApprovalError
from agent.draft.models import Draft
from agent.incident.lifecycle import Lifecycle, LifecycleError, lifecycle
from agent.incident.models import (
    Incident,
    IncidentStatus,
    RootCause,
    TimelineEntry,
    UnknownCause,
)
from agent.incident.scorecard import Scorecard, stored_scorecard
from agent.incident.store import IncidentNotFound
from agent.retrospective.document import PostmortemView
from agent.retrospective.write import NotResolved
from agent.routing.command import UnknownPerson
from agent.runner import TriageInProgress
from agent.server.deps import actor, api_access, server_of
from agent.server.errors import ApiError, Problem, not_found
from agent.server.schemas import (
    AckBody,
    ApproveBody,
    CommandBody,
    DecisionResult,
    EditBody,
    Hypotheses,
    IncidentSummary,
    MitigateBody,
    PostmortemBody,
    RejectBody,
    ResolveBody,
)
from agent.service.desk import Desk
from knowledge.memory import Recollection

router = APIRouter(dependencies=[Depends(api_access)])
ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": Problem, "description": "No such incident or draft."},
    409: {"model": Problem, "description": "The decision cannot be recorded (says why)."},
}


@contextmanager
def answers() -> Iterator[None]:
    """Domain refusals as API errors: unknown ids 404, refused decisions 409."""
    try:
        yield
    except IncidentNotFound as error:
        raise not_found(str(error)) from None
    except ApprovalError as error:
        raise ApiError(409, "decision_refused", str(error)) from None
    except LifecycleError as error:
        raise ApiError(409, "stage_refused", str(error)) from None
    except TriageInProgress as error:
        raise ApiError(409, "triage_in_progress", str(error)) from None
    except UnknownCause as error:
        raise ApiError(422, "unknown_service", str(error), "service") from None
    except UnknownPerson as error:
        raise ApiError(422, "unknown_person", str(error), "to") from None


def _incident(request: Request, incident_id: str) -> Incident:
    with answers():
        found: Incident = server_of(request).ctx.store.get(incident_id)
        return found


@router.get(
    "/v1/incidents",
    tags=["incidents"],
    response_model=list[IncidentSummary],
    summary="List recent incidents, newest first",
)
def list_incidents(
    request: Request,
    status: IncidentStatus | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> list[IncidentSummary]:
    store = server_of(request).ctx.store
    return [IncidentSummary.of(i) for i in store.recent(status=status, limit=limit)]


@router.get(
    "/v1/stats",
    tags=["incidents"],
    response_model=Scorecard,
    summary="Incidents by severity and team, time to acknowledge/resolve, the engine's record",
)
def stats(request: Request, since: AwareDatetime | None = None) -> Scorecard:
    """The engine's top-1/top-3 accuracy and calibration are on confirmed causes only."""
    return stored_scorecard(server_of(request).ctx.store, since)


@router.get(
    "/v1/incidents/{incident_id}",
    tags=["incidents"],
    response_model=Incident,
    responses=ERRORS,
    summary="One incident: alerts, isolation, severity, routing, drafts, timeline",
)
def get_incident(request: Request, incident_id: str) -> Incident:
    return _incident(request, incident_id)


@router.get(
    "/v1/incidents/{incident_id}/timeline",
    tags=["incidents"],
    response_model=list[TimelineEntry],
    responses=ERRORS,
    summary="Who did what, when",
)
def timeline(request: Request, incident_id: str) -> list[TimelineEntry]:
    return _incident(request, incident_id).timeline


@router.get(
    "/v1/incidents/{incident_id}/hypotheses",
    tags=["incidents"],
    response_model=Hypotheses,
    responses=ERRORS,
    summary="Ranked suspects with the evidence they cite",
)
def hypotheses(request: Request, incident_id: str) -> Hypotheses:
    return Hypotheses.of(_incident(request, incident_id))


@router.get(
    "/v1/incidents/{incident_id}/similar",
    tags=["incidents"],
    response_model=list[Recollection],
    responses=ERRORS,
    summary="Similar past incidents and runbooks the triage recalled",
)
def similar(request: Request, incident_id: str) -> list[Recollection]:
    incident = _incident(request, incident_id)
    return server_of(request).desk.recollections(incident)


@router.get(
    "/v1/incidents/{incident_id}/drafts",
    tags=["drafts"],
    response_model=list[Draft],
    responses=ERRORS,
    summary="The incident's drafts and their states",
)
def drafts(request: Request, incident_id: str) -> list[Draft]:
    return _incident(request, incident_id).drafts


def _decide(request: Request, incident_id: str, decision: Decision) -> DecisionResult:
    with answers():
        outcome = server_of(request).desk.decide(incident_id, decision)
    try:
        return DecisionResult.of(outcome.incident, decision.draft_id)
    except LookupError:
        raise not_found(f"no draft {decision.draft_id!r}") from None


@router.post(
    "/v1/incidents/{incident_id}/drafts/{draft_id}/approve",
    tags=["drafts"],
    response_model=DecisionResult,
    responses=ERRORS,
    summary="Approve a draft as it is; it is sent at once",
)
def approve(request: Request, incident_id: str, draft_id: str, body: ApproveBody) -> DecisionResult:
    by = actor(request, body.by)
    decision = Decision(
        draft_id=draft_id, action="approve", by=by, role=body.role, revision=body.revision
    )
    return _decide(request, incident_id, decision)


@router.post(
    "/v1/incidents/{incident_id}/drafts/{draft_id}/edit",
    tags=["drafts"],
    response_model=DecisionResult,
    responses=ERRORS,
    summary="Edit a draft and approve the edit; the edit is sent, the diff recorded",
)
def edit(request: Request, incident_id: str, draft_id: str, body: EditBody) -> DecisionResult:
    decision = Decision(
        draft_id=draft_id,
        action="approve",
        by=actor(request, body.by),
        edited_body=body.body,
        role=body.role,
        revision=body.revision,
    )
    return _decide(request, incident_id, decision)


@router.post(
    "/v1/incidents/{incident_id}/drafts/{draft_id}/reject",
    tags=["drafts"],
    response_model=DecisionResult,
    responses=ERRORS,
    summary="Reject a draft with a reason; nothing is sent",
)
def reject(request: Request, incident_id: str, draft_id: str, body: RejectBody) -> DecisionResult:
    decision = Decision(
        draft_id=draft_id,
        action="reject",
        by=actor(request, body.by),
        reason=body.reason,
        revision=body.revision,
    )
    return _decide(request, incident_id, decision)


def _signed(
    request: Request, by: str | None, change: Callable[[Desk, str], Incident]
) -> IncidentSummary:
    """A change to the incident by the person signing it (the body's `by`, or who is signed
    in): the changed incident's summary, with the desk's refusals as problem answers."""
    desk, who = server_of(request).desk, actor(request, by)
    with answers():
        return IncidentSummary.of(change(desk, who))


@router.post(
    "/v1/incidents/{incident_id}/acknowledge",
    tags=["incidents"],
    response_model=IncidentSummary,
    responses=ERRORS,
    summary="Acknowledge: stops escalation of unacknowledged pages",
)
def acknowledge(request: Request, incident_id: str, body: AckBody) -> IncidentSummary:
    return _signed(request, body.by, lambda desk, by: desk.acknowledge(incident_id, by))


@router.post(
    "/v1/incidents/{incident_id}/mitigate",
    tags=["incidents"],
    response_model=IncidentSummary,
    responses=ERRORS,
    summary="Mitigated: the harm has stopped, the cause may still be open",
)
def mitigate(request: Request, incident_id: str, body: MitigateBody) -> IncidentSummary:
    return _signed(request, body.by, lambda desk, by: desk.mitigate(incident_id, by, body.note))


@router.post(
    "/v1/incidents/{incident_id}/command",
    tags=["incidents"],
    response_model=IncidentSummary,
    responses=ERRORS,
    summary="Hand over incident command to a person the policy knows; pending drafts name them",
)
def command(request: Request, incident_id: str, body: CommandBody) -> IncidentSummary:
    return _signed(request, body.by, lambda desk, by: desk.hand_over(incident_id, by, body.to))


@router.get(
    "/v1/incidents/{incident_id}/lifecycle",
    tags=["incidents"],
    response_model=Lifecycle,
    responses=ERRORS,
    summary="Stages reached (who, when) and the times to acknowledge, mitigate, resolve",
)
def stages(request: Request, incident_id: str) -> Lifecycle:
    return lifecycle(_incident(request, incident_id))


@router.post(
    "/v1/incidents/{incident_id}/resolve",
    tags=["incidents"],
    response_model=IncidentSummary,
    responses=ERRORS,
    summary="Resolve with the confirmed root cause: kept beside the engine's ranking, learned"
    " by the incident memory, and a postmortem drafted",
)
def resolve(request: Request, incident_id: str, body: ResolveBody) -> IncidentSummary:
    cause = RootCause.model_validate(body.model_dump(exclude={"by"}))
    return _signed(request, body.by, lambda desk, by: desk.resolve(incident_id, by, cause))


@router.post(
    "/v1/incidents/{incident_id}/postmortem",
    tags=["drafts"],
    response_model=PostmortemView,
    responses={**ERRORS, 409: {"model": Problem, "description": "Not resolved, or final."}},
    summary="The postmortem draft in a language (redrafted as a new pending revision if needed)",
)
def postmortem(request: Request, incident_id: str, body: PostmortemBody) -> PostmortemView:
    """Approve, edit or reject it like any draft (its id is in the answer)."""
    desk = server_of(request).desk
    by = actor(request, body.by)
    with answers():
        try:
            return PostmortemView.of(desk.postmortem(incident_id, body.language, by))
        except NotResolved as error:
            raise ApiError(409, "not_resolved", str(error)) from None


@router.post(
    "/v1/escalations/check",
    tags=["incidents"],
    response_model=list[Draft],
    summary="Run the unacknowledged-page check now (it also runs periodically)",
)
def check_escalations(request: Request) -> list[Draft]:
    return server_of(request).desk.escalate()
