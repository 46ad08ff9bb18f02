"""`triage chat`: one question or a REPL, against a server or the local data directory.

Both clients speak the same `ask(incident, text, author) -> ChatReply`, so the
REPL cannot tell them apart. With `--server` the server's desk serialises the
writes; locally this process writes the store itself (don't do both at once).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Protocol

from rich.console import Console

from agent.chat.service import ChatReply

EXIT_WORDS = frozenset({"/quit", "/exit", "quit", "exit", ":q"})
TIMEOUT_S = 120.0


class ChatClient(Protocol):
    def ask(self, incident_id: str, text: str, author: str) -> ChatReply: ...


class ChatError(RuntimeError):
    """The server refused or could not be reached; the message says why."""


class HttpChat:
    """Chat through a running `triage serve`."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def ask(self, incident_id: str, text: str, author: str) -> ChatReply:
        url = f"{self.base_url}/v1/incidents/{incident_id}/chat"
        body = json.dumps({"text": text, "author": author}).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as reply:
                return ChatReply.model_validate_json(reply.read())
        except urllib.error.HTTPError as error:
            detail = _detail(error.read())
            raise ChatError(f"{error.code} from the server: {detail}") from None
        except urllib.error.URLError as error:
            raise ChatError(f"cannot reach {self.base_url}: {error.reason}") from None


def _detail(body: bytes) -> str:
    try:
        return str(json.loads(body).get("detail", body[:200]))
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


def show(console: Console, reply: ChatReply) -> None:
    """The answer, then what it cites, as plain text (answers quote untrusted data)."""
    console.print(reply.answer, markup=False, highlight=False)
    if reply.citations:
        console.print(f"  cites: {', '.join(reply.citations)}", markup=False, style="dim")
    if reply.fallback_reason:
        console.print(f"  (LLM fell back: {reply.fallback_reason})", markup=False, style="yellow")


def repl(
    client: ChatClient,
    incident_id: str,
    author: str,
    console: Console,
    read: Callable[[str], str] = input,
) -> None:
    """Ask until end of input or /quit."""
    console.print(f"Chatting about {incident_id} as {author}. /quit to leave.", markup=False)
    while True:
        try:
            line = read("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not line:
            continue
        if line.lower() in EXIT_WORDS:
            return
        try:
            show(console, client.ask(incident_id, line, author))
        except ChatError as error:
            console.print(f"error: {error}", markup=False, style="red")
