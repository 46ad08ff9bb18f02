"""What routes share: the Server behind the app, API access, and who is acting."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from fastapi import Request

from agent.server.errors import ApiError

if TYPE_CHECKING:
    from agent.server.app import Server

TOKEN_COOKIE = "triage_token"


def server_of(request: Request) -> Server:
    """The Server behind the app handling `request`."""
    found: Server = request.app.state.server
    return found


def api_access(request: Request) -> None:
    """Refuse the incidents API and war room without the API token, when one is configured.

    The token comes as `Authorization: Bearer` (scripts) or the `triage_token`
    cookie (the war room, set by /login). Unset env var: refused, not open.
    """
    server = server_of(request)
    name = server.config.server.api.token_env
    if not name:
        return
    expected = server.env(name) or ""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    given = value.strip() if scheme.lower() == "bearer" else request.cookies.get(TOKEN_COOKIE, "")
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(401, "unauthorized", "this server needs its API token (see /login)")


def actor(request: Request, given: str | None) -> str:
    """Who is acting: the SSO proxy's user header when configured, else the name given."""
    header = server_of(request).config.server.api.user_header
    name = (request.headers.get(header, "") if header else "") or (given or "")
    if not name.strip():
        raise ApiError(422, "invalid_request", "say who you are: 'by' is required", "by")
    return name.strip()[:200]
