"""Who may post: a bearer token or an HMAC signature per source, secrets from the environment.

Every comparison is constant-time, and a missing secret refuses the request
(fail closed) rather than letting it through: a source whose env var is unset
cannot post until the operator sets it or configures `auth: none` on purpose.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from collections.abc import Callable, Mapping

from agent.config.server import SourceAuth

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-triage-signature"
TIMESTAMP_HEADER = "x-triage-timestamp"
Env = Callable[[str], str | None]


class Unauthorized(Exception):
    """The request does not prove it comes from the source; the message says what is missing."""


def secret(env: Env, name: str | None, what: str) -> bytes:
    """The secret in env var `name`; refuses (and logs for the operator) when it is unset."""
    value = env(name) if name else None
    if not value:
        log.error("%s: env var %s is not set; refusing requests until it is", what, name)
        raise Unauthorized(f"{what}: the server has no credential configured for this source")
    return value.encode()


def check_bearer(headers: Mapping[str, str], token: bytes) -> None:
    given = headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not value:
        raise Unauthorized("missing 'Authorization: Bearer <token>' header")
    if not hmac.compare_digest(value.strip().encode(), token):
        raise Unauthorized("bearer token does not match")


def sign(secret_key: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value a sender computes: sha256=HMAC(secret, '{ts}.' + body)."""
    digest = hmac.new(secret_key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def check_hmac(
    headers: Mapping[str, str],
    body: bytes,
    secret_key: bytes,
    max_skew_s: int,
    now: float | None = None,
) -> None:
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    if not timestamp or not given:
        raise Unauthorized("missing X-Triage-Timestamp or X-Triage-Signature header")
    check_fresh(timestamp, max_skew_s, now)
    if not hmac.compare_digest(given.strip().encode(), sign(secret_key, timestamp, body).encode()):
        raise Unauthorized("X-Triage-Signature does not match the body")


def check_fresh(timestamp: str, max_skew_s: int, now: float | None = None) -> None:
    """A signed timestamp within the window, so a captured request cannot be replayed later."""
    try:
        sent = int(timestamp)
    except ValueError:
        raise Unauthorized("timestamp is not unix seconds") from None
    current = time.time() if now is None else now
    if abs(current - sent) > max_skew_s:
        raise Unauthorized(f"timestamp is more than {max_skew_s} s away from the server's clock")


def check_source(
    source: str,
    auth: SourceAuth,
    headers: Mapping[str, str],
    body: bytes,
    env: Env = os.environ.get,
) -> None:
    """Bearer or HMAC per the source's config; SNS signatures are checked by agent.server.sns."""
    if auth.auth == "bearer":
        check_bearer(headers, secret(env, auth.token_env, source))
    elif auth.auth == "hmac":
        check_hmac(headers, body, secret(env, auth.secret_env, source), auth.max_skew_s)
