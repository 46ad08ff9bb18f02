"""The server: one process holding the inbox, the triage worker, the escalation job
and the FastAPI app that fronts them.

`build_server` wires the parts from a TriageConfig; `create_app` puts the routes
on top. Tests build a Server with their own env, clock and SNS certificate
fetcher and drive it in-process or under a real uvicorn.
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

from agent.chat.service import ChatService
from agent.config import TriageConfig
from agent.context import TriageContext, build_context
from agent.isolation.degraded import gap_lines
from agent.server.auth import Env
from agent.server.errors import ApiError, Problem
from agent.server.intake import Intake
from agent.server.origin import SameOrigin
from agent.server.sns import Fetch, SnsVerifier, https_get
from agent.service.desk import Desk
from agent.service.escalation import EscalationJob
from agent.service.inbox import Inbox
from agent.service.reinvestigation import Reinvestigation
from agent.service.worker import ClockFor, InboxWorker
from tools.telemetry.replay.backend import ReplayDataset

log = logging.getLogger(__name__)

STEP_DELAY_ENV = "TRIAGE_TEST_TRIAGE_DELAY_S"  # test-only: slows each graph step
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
    """The process's long-lived parts."""

    config: TriageConfig
    ctx: TriageContext
    inbox: Inbox
    desk: Desk
    intake: Intake
    worker: InboxWorker
    escalation: EscalationJob
    chat: ChatService
    looks: Reinvestigation
    env: Env = field(default=os.environ.get)

    def start(self) -> None:
        self.worker.start()
        self.escalation.start()
        self.looks.start()

    def stop(self) -> None:
        self.looks.stop()
        self.escalation.stop()
        self.worker.stop()

    def degraded(self) -> list[str]:
        """Why the server is not fully working, one line each (empty: it is)."""
        reasons = gap_lines(self.looks.failing())
        failed = self.inbox.counts().get("failed", 0)
        if failed:
            reasons.append(
                f"{failed} accepted alert request(s) failed triage: GET /v1/inbox?state=failed,"
                " then POST /v1/inbox/<id>/retry"
            )
        return reasons


def build_server(
    config: TriageConfig,
    home: Path | None = None,
    *,
    env: Env = os.environ.get,
    sns_fetch: Fetch = https_get,
    confirm_fetch: Fetch = https_get,
    clock: Callable[[], datetime] | None = None,
) -> Server:
    """A Server over `home` (the data directory) as `config` says."""
    ctx = build_context(config, home=home)
    if clock is not None:
        ctx.clock = clock
    settings = config.server
    inbox = Inbox(ctx.home / "inbox.sqlite", settings.inbox_sync)
    desk = Desk(ctx)
    intake = Intake(
        sources=settings.sources,
        limits=settings.limits,
        inbox=inbox,
        clock=ctx.clock,
        env=env,
        sns=SnsVerifier(sns_fetch),
        confirm_fetch=confirm_fetch,
    )
    worker = InboxWorker(
        inbox,
        desk,
        settings.workers,
        clock_for(config, replay_dataset(config)),
        step_delay_s=float(env(STEP_DELAY_ENV) or 0),
    )
    escalation = EscalationJob(desk.escalate, settings.escalation_every_s)
    looks = Reinvestigation(desk, config.reinvestigate, live_clock=settings.clock == "wall")
    chat = ChatService(desk)
    return Server(config, ctx, inbox, desk, intake, worker, escalation, chat, looks, env)


def replay_dataset(config: TriageConfig) -> ReplayDataset | None:
    """The replay dataset whose clock the server follows, if it runs on one."""
    path = config.telemetry.replay_path()
    if config.server.clock != "replay" or path is None:
        return None
    return ReplayDataset.open(path.resolve())


def clock_for(config: TriageConfig, dataset: ReplayDataset | None) -> ClockFor:
    """The triage clock of an inbox row: when it arrived, or for replays the alert's time."""
    if config.server.clock == "wall" or dataset is None:
        return lambda item: item.received_at
    return lambda item: dataset.clock_after(max(a.starts_at for a in item.alerts))


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
    app.state.server = server
    for module in (alerts, incidents, chat, inbox, slack, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _errors(app)
    return app


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
        log.error("request failed: %s: %s", type(error).__name__, error)
        problem = Problem(error="internal", detail="the server failed on this request; see its log")
        return JSONResponse(problem.model_dump(), status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body") or None
        problem = Problem(error="invalid_request", detail=f"{where}: {first['msg']}", field=where)
        return JSONResponse(problem.model_dump(), status_code=422)
