"""The server: the FastAPI app over the application service (agent/service).

`build_server` wires the service for its role, intake and chat from a
TriageConfig; `create_app` puts the routes on top. Tests build a Server with
their own env, clock and SNS certificate fetcher and drive it in-process or
under a real uvicorn.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.chat.service import ChatService
from agent.config import TriageConfig
from agent.context import TriageContext
from agent.engines.errors import one_line, unreachable
from agent.inbox.models import Inbox
from agent.server.auth import Env
from agent.server.errors import ApiError, Problem
from agent.server.intake import Intake
from agent.server.origin import SameOrigin
from agent.server.sns import Fetch, SnsVerifier, https_get
from agent.service.build import STEP_DELAY_ENV, Role, Service, build_service
from agent.service.desk import Desk
from agent.service.reinvestigation import Reinvestigation
from agent.service.worker import InboxWorker

log = logging.getLogger(__name__)

__all__ = ["STEP_DELAY_ENV", "Server", "build_server", "create_app"]
STATIC = Path(__file__).parents[1] / "web" / "static"
TAGS = [
    {"name": "alerts", "description": "Webhooks from Alertmanager, CloudWatch (SNS), Datadog."},
    {"name": "incidents", "description": "Incidents, their timeline, hypotheses and drafts."},
    {"name": "drafts", "description": "Approve, edit or reject a draft: the only way out."},
    {"name": "chat", "description": "Ask the agent; tell it what was done, decided, needed."},
    {"name": "inbox", "description": "Accepted alerts and what became of their triage."},
    {"name": "slack", "description": "Slash commands and interactive buttons."},
    {"name": "war room", "description": "The HTML pages responders share."},
]


@dataclass
class Server:
    """Routes' view of the process: the application service, intake, chat."""

    config: TriageConfig
    service: Service
    intake: Intake
    chat: ChatService
    env: Env = field(default=os.environ.get)

    @property
    def ctx(self) -> TriageContext:
        return self.service.ctx

    @property
    def inbox(self) -> Inbox:
        return self.service.inbox

    @property
    def desk(self) -> Desk:
        return self.service.desk

    @property
    def worker(self) -> InboxWorker:
        return self.service.worker

    @property
    def looks(self) -> Reinvestigation:
        return self.service.looks

    def start(self) -> None:
        self.service.start()

    def stop(self) -> None:
        self.service.stop()

    def degraded(self) -> list[str]:
        """Why the server is not fully working, one line each (empty: it is)."""
        return self.service.degraded()


def build_server(
    config: TriageConfig,
    home: Path | None = None,
    *,
    role: Role = "all",
    env: Env = os.environ.get,
    sns_fetch: Fetch = https_get,
    confirm_fetch: Fetch = https_get,
    clock: Callable[[], datetime] | None = None,
) -> Server:
    """A Server over `home` (the data directory) as `config` says."""
    service = build_service(
        config, home, role=role, clock=clock, step_delay_s=float(env(STEP_DELAY_ENV) or 0)
    )
    intake = Intake(
        sources=config.server.sources,
        limits=config.server.limits,
        accept=service.accept,
        clock=service.ctx.clock,
        env=env,
        sns=SnsVerifier(sns_fetch),
        confirm_fetch=confirm_fetch,
    )
    return Server(config, service, intake, ChatService(service.desk), env)


def create_app(server: Server, *, run_jobs: bool = True) -> FastAPI:
    """The FastAPI app; `run_jobs` starts the worker and escalation job with it."""
    from agent.server.routes import alerts, chat, inbox, incidents, slack
    from agent.web import pages

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if run_jobs:
            server.start()
        try:
            yield
        finally:
            if run_jobs:
                server.stop()

    docs = "/docs" if server.config.server.docs else None  # Swagger UI comes from a CDN
    app = FastAPI(
        title="incident-triage",
        summary="An AI first responder: alerts in, evidence, drafts that wait for a human.",
        version="1",
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=docs,
        redoc_url=None,
    )
    app.add_middleware(SameOrigin, also=[server.config.war_room_url or ""])
    app.add_middleware(OneLineErrors)
    app.state.server = server
    for module in (alerts, incidents, chat, inbox, slack, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _errors(app)
    return app


def failed(error: Exception) -> JSONResponse:
    """A request that failed: one log line (no traceback) and JSON; an engine that went
    away is 503 naming it, so senders retry and operators know where to look."""
    log.error("request failed: %s", one_line(error))
    log.debug("request failed", exc_info=error)
    engine = unreachable(error)
    if engine is not None:
        detail = f"{engine} is unreachable ({one_line(error)}); try again when it answers"
        problem = Problem(error="engine_unavailable", detail=detail)
        return JSONResponse(problem.model_dump(), status_code=503)
    problem = Problem(error="internal", detail="the server failed on this request; see its log")
    return JSONResponse(problem.model_dump(), status_code=500)


class OneLineErrors:
    """Answers a request that raised before its response started, so the error is never
    re-raised to uvicorn (which would log a traceback for it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            if started:
                raise
            await failed(error)(scope, receive, send)


def _wants_page(request: Request) -> bool:
    """A browser navigating to a war-room page (the /v1 API always answers JSON)."""
    html = "text/html" in request.headers.get("accept", "")
    return request.method == "GET" and html and not request.url.path.startswith("/v1/")


def _errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> Response:
        if error.status == 401 and _wants_page(request):
            where = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            return RedirectResponse(f"/login?next={where}", status_code=303)
        return JSONResponse(error.problem.model_dump(), status_code=error.status)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        return failed(error)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
        where = _field(tuple(first["loc"]))
        detail = f"{where}: {first['msg']}" if where else f"the request body: {first['msg']}"
        problem = Problem(error="invalid_request", detail=detail, field=where)
        return JSONResponse(problem.model_dump(), status_code=422)


def _field(loc: tuple[object, ...]) -> str | None:
    """The request field a validation error names: its location without the leading
    'body' (a field may itself be called 'body', as an edit's is); None for the body
    as a whole (not JSON, not an object)."""
    parts = loc[1:] if loc[:1] == ("body",) else loc
    if loc[:1] == ("body",) and parts and isinstance(parts[0], int):
        return None  # pydantic's position of a JSON syntax error, not a field
    return ".".join(str(p) for p in parts) or None
