"""From a webhook request to rows in the inbox: auth, limits, parsing, the SNS handshake.

Order matters: the size limit is enforced while reading, auth before the body
is parsed (an anonymous sender cannot make the server parse anything), and the
alerts are on disk before the answer goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.alert.errors import AlertParseError, SnsSubscriptionConfirmation
from agent.alert.fields import NotJson, load_json
from agent.alert.models import Alert
from agent.alert.parse import parse_alert
from agent.config.server import Limits, SourceAuth
from agent.engines.errors import one_line
from agent.inbox.models import Accepted, body_digest
from agent.server.auth import Env, Unauthorized, check_source
from agent.server.errors import ApiError
from agent.server.sns import Fetch, SnsVerifier, confirm_subscription, signed_part

log = logging.getLogger(__name__)
SENT_ID_MAX = 512  # SNS topic ARNs and confirmation tokens are far shorter

IntakeStatus = Literal[
    "accepted", "duplicate", "ignored", "subscription_confirmed", "subscription_pending"
]


class IntakeResult(BaseModel):
    """What became of a webhook delivery."""

    status: IntakeStatus
    inbox_id: int | None = Field(None, description="The inbox row holding these alerts.")
    alerts: int = Field(0, description="New alerts stored by this request.")
    detail: str | None = Field(None, description="What the operator has to do, when anything.")

    @property
    def http_status(self) -> int:
        return 202 if self.status == "accepted" else 200


@dataclass
class Intake:
    """Everything intake needs, injected so tests can trust their own SNS certificate."""

    sources: Mapping[str, SourceAuth]
    limits: Limits
    accept: Callable[[str, list[Alert], datetime, str], Accepted]
    clock: Callable[[], datetime]
    env: Env
    sns: SnsVerifier
    confirm_fetch: Fetch

    def receive(self, source: str, headers: Mapping[str, str], body: bytes) -> IntakeResult:
        auth = self._auth(source)
        if auth.auth != "sns":
            _unauthorized(source, lambda: check_source(source, auth, headers, body, self.env))
        decoded = decode_json(body, self.limits.max_json_depth, source)
        if auth.auth == "sns":
            _unauthorized(source, lambda: self._verify_sns(decoded, auth))
            decoded = signed_part(decoded)
        try:
            alerts = parse_alert(decoded, source)
        except SnsSubscriptionConfirmation as handshake:
            return self._handshake(source, handshake, verified=auth.auth == "sns")
        except AlertParseError as error:
            raise invalid_alert(str(error)) from None
        if len(alerts) > self.limits.max_alerts:
            detail = (
                f"{source}: {len(alerts)} alerts in one request; at most {self.limits.max_alerts}"
            )
            raise ApiError(413, "too_many_alerts", detail, "alerts")
        if not alerts:
            return IntakeResult(status="ignored")
        stored = self.accept(source, alerts, self.clock(), body_digest(body))
        status: IntakeStatus = "duplicate" if stored.duplicate else "accepted"
        return IntakeResult(status=status, inbox_id=stored.inbox_id, alerts=stored.alerts)

    def _auth(self, source: str) -> SourceAuth:
        auth = self.sources.get(source)
        if auth is None or not auth.enabled:
            known = ", ".join(name for name, a in self.sources.items() if a.enabled)
            raise ApiError(404, "unknown_source", f"no alert source {source!r}; known: {known}")
        return auth

    def _verify_sns(self, decoded: Any, auth: SourceAuth) -> None:
        if not isinstance(decoded, dict) or "Signature" not in decoded or "Type" not in decoded:
            raise Unauthorized("expected a signed SNS message (Type, Signature, SigningCertURL)")
        if not auth.topic_arns:
            raise Unauthorized(
                "no SNS topic is accepted here until server.sources.<source>.topic_arns lists it"
            )
        if decoded.get("TopicArn") not in auth.topic_arns:
            raise Unauthorized(f"SNS topic {decoded.get('TopicArn')!r} is not accepted here")
        self.sns.verify(decoded)

    def _handshake(
        self, source: str, handshake: SnsSubscriptionConfirmation, *, verified: bool
    ) -> IntakeResult:
        """Confirm with AWS only a signed request from a listed topic: the operator's
        `topic_arns` is the approval. Anything else is never fetched; the log says how."""
        topic = _sent(handshake.topic_arn)
        if not verified:
            detail = (
                f"{source}: SNS subscription to {topic} not confirmed: only a"
                f" signed message from a topic in server.sources.{source}.topic_arns (auth: sns)"
                f" is confirmed here; to confirm it by hand: {_by_hand(handshake)}"
            )
            log.warning("%s", detail)
            return IntakeResult(status="subscription_pending", detail=detail)
        try:
            confirm_subscription(handshake.subscribe_url, self.confirm_fetch)
        except Unauthorized as error:
            raise ApiError(400, "invalid_subscription", str(error), "SubscribeURL") from None
        except Exception as error:
            detail = (
                f"{source}: could not confirm the SNS subscription to {topic}"
                f" ({one_line(error)}); SNS may resend it, or confirm it by hand:"
                f" {_by_hand(handshake)}"
            )
            log.warning("%s", detail)
            raise ApiError(502, "subscription_failed", detail, "SubscribeURL") from None
        return IntakeResult(status="subscription_confirmed")


def _by_hand(handshake: SnsSubscriptionConfirmation) -> str:
    """The AWS CLI command that confirms the subscription (the token is valid 3 days)."""
    return (
        f"aws sns confirm-subscription --topic-arn {_sent(handshake.topic_arn)}"
        f" --token {_sent(handshake.token)}"
    )


def _sent(text: str) -> str:
    """A sender's identifier fit for one log line: no line breaks, bounded."""
    return "".join(text.split())[:SENT_ID_MAX]


def _unauthorized(source: str, check: Callable[[], None]) -> None:
    """Run an auth check; its refusal becomes a 401 naming the source."""
    try:
        check()
    except Unauthorized as error:
        raise ApiError(401, "unauthorized", f"{source}: {error}") from None


def invalid_alert(message: str) -> ApiError:
    """A parse error as 400, its field path pulled out of '<source>: <field>: <problem>'."""
    parts = message.split(": ", 2)
    field = parts[1] if len(parts) == 3 else None
    return ApiError(400, "invalid_alert", message, field)


def decode_json(body: bytes, max_depth: int, source: str) -> Any:
    """The body as JSON, refusing what is not UTF-8 JSON, a bare string (no sender's
    shape), or is nested deeper than `max_depth`."""
    try:
        decoded = load_json(body)
    except NotJson as error:
        if error.deep:
            raise ApiError(400, "too_deep", f"{source}: payload: {error}", "payload") from None
        raise invalid_alert(f"{source}: payload: {error}") from None
    if isinstance(decoded, str):  # parse_alert would take it for the body's text
        raise invalid_alert(f"{source}: payload: expected an object, got string")
    depth = json_depth(decoded)
    if depth > max_depth:
        detail = f"{source}: payload: nested {depth} levels deep; at most {max_depth}"
        raise ApiError(400, "too_deep", detail, "payload")
    return decoded


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (iteratively: no recursion limit)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest
