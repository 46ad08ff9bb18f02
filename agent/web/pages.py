"""The war room: the incident list and the incident page, live over server-sent events.

Pages are rendered on the server by Jinja2 with autoescaping on, so alert
names, log lines and chat text (all untrusted) are always text, never markup;
a Content-Security-Policy refuses inline scripts as a second line. Decisions
are made by the page's buttons posting to the same API everything else uses.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from agent.draft.text import percent
from agent.engines.errors import one_line, unreachable
from agent.incident.lifecycle import lifecycle
from agent.incident.models import Incident
from agent.incident.scorecard import stored_scorecard
from agent.server.deps import TOKEN_COOKIE, api_access, server_of
from agent.server.routes.incidents import answers
from agent.server.schemas import IncidentSummary
from agent.views import share_text
from agent.web.facts import alert_views, draft_routes
from agent.web.plots import evidence_plots
from agent.web.words import Locale
from tools.telemetry.replay.format import FAULT_TYPES

if TYPE_CHECKING:
    from agent.server.app import Server

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
TEMPLATES.filters["percent"] = percent
TEMPLATES.filters["share"] = share_text
TEMPLATES.globals["zip"] = zip
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
POLL_S = 1.0
HEARTBEAT_S = 15.0
STREAM_LIFETIME_S = 300.0
LIST_LIMIT = 100
FAILED_SHOWN = 20

log = logging.getLogger(__name__)
router = APIRouter(tags=["war room"])
guarded = APIRouter(tags=["war room"], dependencies=[Depends(api_access)])


def render(request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    signed_in = TOKEN_COOKIE in request.cookies
    loc = locale(server_of(request))
    html = TEMPLATES.get_template(template).render(
        signed_in=signed_in, loc=loc, w=loc.words, **values
    )
    headers = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY"}
    return HTMLResponse(html, status_code=status, headers=headers)


def locale(server: Server) -> Locale:
    """The team's language and the organisation's zone, as its drafts use them."""
    return Locale.of(server.ctx.language, server.ctx.policy.organisation.timezone)


def incident_stamp(incident: Incident) -> str:
    """Changes whenever anything on the incident page would."""
    states = "".join(d.state[0] for d in incident.drafts)
    return f"{incident.updated_at.isoformat()}|{len(incident.timeline)}|{states}"


@guarded.get("/", response_class=HTMLResponse, summary="The incident list")
def incident_list(request: Request, partial: bool = False) -> HTMLResponse:
    server = server_of(request)
    values = _list_values(server)
    return render(request, "_list.html" if partial else "list.html", **values)


def _list_values(server: Server) -> dict[str, Any]:
    """The list page's facts: incidents, alerts whose triage failed, why the server is degraded."""
    found = [IncidentSummary.of(i) for i in server.ctx.store.recent(limit=LIST_LIMIT)]
    failed = server.inbox.items("failed", FAILED_SHOWN)
    degraded = server.degraded()
    stamp = "|".join([_list_stamp(found), *(f"f{i.id}" for i in failed), *degraded])
    return {
        "incidents": found,
        "failed": failed,
        "degraded": degraded,
        "example_policy": server.ctx.example_policy,
        "stamp": stamp,
    }


@guarded.get("/overview", response_class=HTMLResponse, summary="How we did: the scorecard")
def overview(request: Request, since: date | None = None) -> HTMLResponse:
    """`triage stats` as a page: incidents, time to acknowledge and resolve, the engine's record."""
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC) if since else None
    card = stored_scorecard(server_of(request).ctx.store, start)
    return render(request, "overview.html", card=card, since=since, degraded=[])


@guarded.get("/incidents/{incident_id}", response_class=HTMLResponse, summary="An incident's page")
def incident_page(request: Request, incident_id: str, partial: bool = False) -> HTMLResponse:
    server = server_of(request)
    with answers():
        incident = server.ctx.store.get(incident_id)
    values: dict[str, Any] = {
        "incident": incident,
        "lifecycle": lifecycle(incident),
        "alerts": alert_views(incident),
        "routes": draft_routes(incident, server.ctx.dispatch, server.ctx.language),
        "plots": evidence_plots(server.ctx, incident, locale(server)),
        "recollections": server.desk.recollections(incident),
        "fault_types": FAULT_TYPES,
        "example_policy": server.ctx.example_policy,
        "degraded": [],
        "stamp": incident_stamp(incident),
    }
    return render(request, "_incident.html" if partial else "incident.html", **values)


@guarded.get(
    "/v1/incidents/{incident_id}/events",
    summary="Server-sent events: `changed` whenever the incident changes",
)
async def incident_events(request: Request, incident_id: str) -> StreamingResponse:
    store = server_of(request).ctx.store
    with answers():
        store.get(incident_id)
    return _stream(request, lambda: incident_stamp(store.get(incident_id)))


@guarded.get("/v1/events", summary="Server-sent events: `changed` whenever the list changes")
async def list_events(request: Request) -> StreamingResponse:
    server = server_of(request)
    return _stream(request, lambda: str(_list_values(server)["stamp"]))


def _list_stamp(found: list[IncidentSummary]) -> str:
    return "|".join(f"{i.id}:{i.updated_at.isoformat()}:{i.pending_drafts}" for i in found[:20])


def _stream(request: Request, stamp: Callable[[], str]) -> StreamingResponse:
    """A bounded event stream (the browser reconnects after STREAM_LIFETIME_S)."""

    async def events() -> AsyncIterator[str]:
        started = last_beat = time.monotonic()
        last: str | None = None
        yield "retry: 2000\n\n"
        while time.monotonic() - started < STREAM_LIFETIME_S:
            if await request.is_disconnected():
                return
            try:
                current = await run_in_threadpool(stamp)
            except Exception as error:
                engine = unreachable(error)
                if engine is None:
                    raise
                # Headers are sent, so no 503 now: end the body, and the browser reconnects.
                log.warning("event stream ended: %s is unreachable (%s)", engine, one_line(error))
                return
            if current != last:
                last = current
                yield f"event: changed\ndata: {current}\n\n"
            elif time.monotonic() - last_beat > HEARTBEAT_S:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(POLL_S)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/login", response_class=HTMLResponse, summary="Sign in with the API token")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return _login(request, next)


@router.post("/login", response_class=HTMLResponse, summary="Set the API token cookie")
async def login(request: Request) -> Response:
    server = server_of(request)
    fields = parse_qs((await request.body()).decode("utf-8"))
    given = (fields.get("token") or [""])[0]
    after = _local((fields.get("next") or ["/"])[0])
    name = server.config.server.api.token_env
    expected = (server.env(name) or "") if name else ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return _login(request, after, error=locale(server).words.wrong_token)
    reply = RedirectResponse(after, status_code=303)
    reply.set_cookie(
        TOKEN_COOKIE, given, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return reply


@router.post("/logout", summary="Forget the API token cookie")
def logout() -> Response:
    reply = RedirectResponse("/login", status_code=303)
    reply.delete_cookie(TOKEN_COOKIE, httponly=True, samesite="strict")
    return reply


def _login(request: Request, after: str, error: str | None = None) -> HTMLResponse:
    needed = bool(server_of(request).config.server.api.token_env)
    status = 401 if error else 200
    return render(
        request, "login.html", status=status, error=error, next=_local(after), needed=needed
    )


def _local(path: str) -> str:
    """`path` if it is a path on this server, else '/': a sign-in never sends you elsewhere."""
    if path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/"


router.include_router(guarded)
