"""The inbox API: accepted alerts, their triage state and errors; retry a failed row."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel

from agent.inbox.models import InboxItem, InboxState
from agent.server.deps import api_access, server_of
from agent.server.errors import Problem, not_found

router = APIRouter(tags=["inbox"], dependencies=[Depends(api_access)])
# SQLite row ids are signed 64-bit: a larger number names no row (and would not bind).
ItemId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The inbox row.")]


class InboxCounts(BaseModel):
    """Rows per state, and alerts stored in all."""

    states: dict[str, int]
    alerts: int


@router.get("/v1/inbox", response_model=list[InboxItem], summary="Accepted alerts, newest first")
def list_inbox(
    request: Request, state: InboxState | None = None, limit: int = Query(100, ge=1, le=1000)
) -> list[InboxItem]:
    return server_of(request).inbox.items(state, limit)


@router.get("/v1/inbox/counts", response_model=InboxCounts, summary="How much is where")
def counts(request: Request) -> InboxCounts:
    inbox = server_of(request).inbox
    return InboxCounts(states=inbox.counts(), alerts=inbox.alerts_stored())


@router.get(
    "/v1/inbox/{item_id}",
    response_model=InboxItem,
    responses={404: {"model": Problem}, 422: {"model": Problem}},
    summary="One inbox row: its alerts, state, incident and last error",
)
def get_item(request: Request, item_id: ItemId) -> InboxItem:
    try:
        return server_of(request).inbox.get(item_id)
    except KeyError:
        raise not_found(f"no inbox item {item_id}") from None


@router.post(
    "/v1/inbox/{item_id}/retry",
    response_model=InboxItem,
    responses={404: {"model": Problem}},
    summary="Queue a failed row for triage again",
)
def retry(request: Request, item_id: ItemId) -> InboxItem:
    server = server_of(request)
    try:
        return server.service.retry(item_id)
    except KeyError:
        raise not_found(f"no inbox item {item_id}") from None
