"""POST /v1/incidents/{id}/chat: ask the agent, or tell it what was done, decided, needed."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from agent.chat.service import ChatReply
from agent.server.deps import actor, api_access, server_of
from agent.server.errors import ApiError, Problem
from agent.server.routes.incidents import answers

router = APIRouter(tags=["chat"], dependencies=[Depends(api_access)])


class ChatBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="A question, a drafting request or a note.")
    author: str | None = Field(None, max_length=200, description="Who says it.")


@router.post(
    "/v1/incidents/{incident_id}/chat",
    response_model=ChatReply,
    responses={404: {"model": Problem}, 413: {"model": Problem}},
    summary="Ask about the incident, request a draft, or record an action/decision/need",
)
def chat(request: Request, incident_id: str, body: ChatBody) -> ChatReply:
    """The line enters the timeline; the answer cites evidence ids or the tool calls it ran.

    "write a customer update" makes a new pending status_update draft revision;
    "/action rolled back payment" (or "rolled back payment to v2.3") is recorded
    as an action for the next responder and status updates.
    """
    limit = server_of(request).config.server.limits.max_chat_chars
    if not body.text.strip():
        raise ApiError(422, "invalid_request", "text: say something (the line is blank)", "text")
    if len(body.text) > limit:
        raise ApiError(413, "too_long", f"chat lines are at most {limit} characters", "text")
    author = actor(request, body.author)
    with answers():
        return server_of(request).chat.ask(incident_id, body.text, author)
