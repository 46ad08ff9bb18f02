"""State-changing requests from a browser must come from this server's own pages.

A page on another site can make a signed-in responder's browser POST here (an
approval, an edit, a chat line); the cookie would go along. Browsers say where
a request comes from (`Origin`, `Sec-Fetch-Site`), so a POST, PUT, PATCH or
DELETE whose origin is another host is refused with 403 before any route sees
it. Requests that name no origin (Alertmanager, SNS, Slack, curl) are not from
a browser page and pass; their own authentication applies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_SITE = frozenset({"same-origin", "none"})


class SameOrigin:
    """ASGI middleware: 403 for a state-changing request from another origin.

    `also` are origins that count as this server's (war_room_url, behind a proxy).
    """

    def __init__(self, app: ASGIApp, also: Iterable[str] = ()) -> None:
        self.app = app
        self.also = {_host(url) for url in also if url}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        problem = self._problem(headers)
        if problem is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": "cross_origin", "detail": problem, "field": None}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"vary", b"Origin")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _problem(self, headers: dict[str, str]) -> str | None:
        origin = headers.get("origin")
        if origin is None:
            site = headers.get("sec-fetch-site")
            if site is None or site in SAME_SITE:
                return None
            return f"a {site} request may not change anything here"
        if _host(origin) in {headers.get("host", ""), *self.also}:
            return None
        return f"requests from {origin} may not change anything here; use this server's pages"


def _host(url: str) -> str:
    """host[:port] of an origin or URL ('null' and junk give '')."""
    return urlsplit(url.strip()).netloc
