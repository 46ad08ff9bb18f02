"""POST /v1/alerts/{source}: the webhook every monitoring system posts to."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from agent.server.deps import server_of
from agent.server.errors import ApiError, Problem
from agent.server.intake import IntakeResult
from agent.service.build import Health

router = APIRouter(tags=["alerts"])
PROBLEMS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem, "description": text}
    for code, text in (
        (400, "Not JSON, too deep, or not a valid alert of this source (`field` names where)."),
        (401, "The source's token, HMAC signature or SNS signature is missing or wrong."),
        (404, "No such source, or it is disabled."),
        (413, "The body or the number of alerts is over the limit."),
    )
}


@router.post(
    "/v1/alerts/{source}",
    status_code=202,
    response_model=IntakeResult,
    summary="Deliver alerts (alertmanager, cloudwatch, datadog, generic)",
    responses={
        200: {"model": IntakeResult, "description": "A redelivery, or no alert in it."},
        **PROBLEMS,
    },
)
async def post_alerts(source: str, request: Request) -> JSONResponse:
    """Stores the alerts durably, then answers 202; triage runs in the background.

    A redelivery of alerts already stored (same fingerprint, start and status)
    answers 200 `duplicate` with the row that holds them. An SNS subscription
    confirmation from a listed topic is verified and confirmed (200
    `subscription_confirmed`); any other is not, and `detail` says how to (200
    `subscription_pending`).
    """
    server = server_of(request)
    body = await read_body(request, server.config.server.limits.max_body_bytes)
    headers = {name.lower(): value for name, value in request.headers.items()}
    result = await run_in_threadpool(server.intake.receive, source, headers, body)
    return JSONResponse(result.model_dump(), status_code=result.http_status)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"the body is over {limit} bytes", "payload")


@router.get(
    "/v1/health",
    response_model=Health,
    summary="Liveness: 'ok', or 'degraded' with the reasons (a store or an engine failing,"
    " a failed triage)",
)
def health(request: Request) -> Health:
    return server_of(request).service.health()
