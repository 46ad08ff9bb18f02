"""Slack's request URLs: slash commands and interactivity (block_actions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from agent.server.auth import Unauthorized, secret
from agent.server.deps import server_of
from agent.server.errors import ApiError, Problem
from agent.server.routes.alerts import read_body
from agent.server.slack import SlackDesk, action_payload, form, verify_slack

router = APIRouter(tags=["slack"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Bad or stale Slack signature."},
    404: {"model": Problem, "description": "Slack is not enabled on this server."},
}


async def _verified(request: Request) -> tuple[bytes, SlackDesk]:
    server = server_of(request)
    settings = server.config.server.slack
    if not settings.enabled:
        raise ApiError(404, "not_found", "Slack is not enabled on this server")
    body = await read_body(request, server.config.server.limits.max_body_bytes)
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        key = secret(server.env, settings.signing_secret_env, "slack")
        verify_slack(headers, body, key, settings.max_skew_s)
    except Unauthorized as error:
        raise ApiError(401, "unauthorized", f"slack: {error}") from None
    return body, SlackDesk(server.desk, server.chat.ask)


async def _answer(handle: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return await run_in_threadpool(handle)


@router.post(
    "/v1/slack/commands",
    responses=RESPONSES,
    summary="Slash command: /triage status|approve|reject|ack|ask ...",
)
async def command(request: Request) -> dict[str, Any]:
    body, desk = await _verified(request)
    fields = form(body)
    return await _answer(lambda: desk.command(fields))


@router.post(
    "/v1/slack/interactions",
    responses=RESPONSES,
    summary="Interactivity: the Approve and Reject buttons (block_actions)",
)
async def interaction(request: Request) -> dict[str, Any]:
    body, desk = await _verified(request)
    try:
        payload = action_payload(form(body))
    except ValueError as error:
        raise ApiError(400, "invalid_request", str(error), "payload") from None
    if payload.get("type") != "block_actions":
        return {"text": f"ignored interaction type {payload.get('type')!r}"}
    return await _answer(lambda: desk.action(payload))
