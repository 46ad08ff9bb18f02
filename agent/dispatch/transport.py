"""One JSON POST with bounded retries, shared by every HTTP adapter.

It takes a `SendPermit`, so it cannot be called for a draft nobody approved.
`send_once` is the single place bytes leave the process; tests spy on it.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from agent.dispatch.config import LOOPBACK_HOSTS, DispatchConfig
from agent.dispatch.guard import SendPermit, UnapprovedSendError

Sleep = Callable[[float], None]
USER_AGENT = "incident-triage/0.1 (+approved dispatch)"
REPLY_MAX_BYTES = 64_000
ERROR_MAX_CHARS = 500


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to wait for one attempt and how often to try again."""

    timeout_s: float = 10.0
    max_attempts: int = 4
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0

    @classmethod
    def of(cls, config: DispatchConfig) -> RetryPolicy:
        return cls(config.timeout_s, config.max_attempts, config.backoff_s, config.max_backoff_s)

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds before the next attempt: the server's Retry-After, else exponential backoff."""
        asked = _seconds(retry_after)
        wanted = asked if asked is not None else self.backoff_s * 2 ** (attempt - 1)
        return min(wanted, self.max_backoff_s)


@dataclass(frozen=True, slots=True)
class Answer:
    """One attempt's outcome: the HTTP status, or None and the transport error."""

    status: int | None
    body: str = ""
    retry_after: str | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """The last attempt's answer and how many attempts it took."""

    answer: Answer
    attempts: int

    @property
    def status(self) -> int | None:
        return self.answer.status

    @property
    def body(self) -> str:
        return self.answer.body

    def error_text(self) -> str:
        """The server's own error message, or what went wrong on the way."""
        if self.status is None:
            return f"no answer after {self.attempts} attempt(s): {self.answer.error}"
        return f"HTTP {self.status} after {self.attempts} attempt(s): {_message(self.body)}"


def post_json(
    url: str,
    body: Mapping[str, Any],
    *,
    permit: SendPermit,
    policy: RetryPolicy,
    sleep: Sleep = time.sleep,
) -> Reply:
    """POST `body` as JSON; retry 429, 5xx and no answer with backoff, within the policy."""
    if not isinstance(permit, SendPermit):
        raise UnapprovedSendError("post_json needs a SendPermit from authorize()")
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    attempt = 1
    while True:
        answer = send_once(url, data, policy.timeout_s)
        if not _retryable(answer) or attempt >= policy.max_attempts:
            return Reply(answer, attempt)
        sleep(policy.delay(attempt, answer.retry_after))
        attempt += 1


def send_once(url: str, data: bytes, timeout_s: float) -> Answer:
    """One POST. Never raises for HTTP or network failures: they become an Answer."""
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
    )
    try:
        with _opener(url).open(request, timeout=timeout_s) as response:
            return Answer(response.status, _read(response), response.headers.get("Retry-After"))
    except HTTPError as err:
        return Answer(err.code, _read(err), err.headers.get("Retry-After") if err.headers else None)
    except (URLError, OSError, http.client.HTTPException) as err:
        reason = err.reason if isinstance(err, URLError) else err
        return Answer(None, error=f"{type(err).__name__}: {reason}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is reported, not followed: urllib would turn the POST into a bodiless GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(url: str) -> urllib.request.OpenerDirector:
    """No redirects; no proxy for this machine, so a test receiver is reached directly."""
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if urlsplit(url).hostname in LOOPBACK_HOSTS:
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def _read(response: Any) -> str:
    try:
        raw: bytes = response.read(REPLY_MAX_BYTES)
    except (OSError, http.client.HTTPException):
        return ""
    return raw.decode("utf-8", errors="replace")


def _retryable(answer: Answer) -> bool:
    return answer.status is None or answer.status == 429 or answer.status >= 500


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form is ignored in favour of backoff."""
    try:
        return max(0.0, float(retry_after)) if retry_after else None
    except ValueError:
        return None


def _message(body: str) -> str:
    """An error body made readable: PagerDuty's JSON message and errors, or the text itself."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        parts = [str(parsed[k]) for k in ("message", "error") if parsed.get(k)]
        errors = parsed.get("errors")
        if isinstance(errors, list):
            parts.extend(str(e) for e in errors)
        text = "; ".join(parts) or body
    else:
        text = body.strip() or "(empty body)"
    return text[:ERROR_MAX_CHARS]
