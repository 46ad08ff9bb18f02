"""From a webhook request to rows in the inbox: auth, limits, parsing, the SNS handshake.

Order matters: the size limit is enforced while reading, auth before the body
is parsed (an anonymous sender cannot make the server parse anything), and the
alerts are on disk before the answer goes out.
"""

from __future__ import annotations

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
from agent.inbox.models import Accepted, body_digest
from agent.server.auth import Env, Unauthorized, check_source
from agent.server.errors import ApiError
from agent.server.sns import Fetch, SnsVerifier, confirm_subscription, signed_part

IntakeStatus = Literal["accepted", "duplicate", "ignored", "subscription_confirmed"]


class IntakeResult(BaseModel):
    """What became of a webhook delivery."""

    status: IntakeStatus
    inbox_id: int | None = Field(None, description="The inbox row holding these alerts.")
    alerts: int = Field(0, description="New alerts stored by this request.")

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
            self._confirm(handshake)
            return IntakeResult(status="subscription_confirmed")
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

    def _confirm(self, handshake: SnsSubscriptionConfirmation) -> None:
        try:
            confirm_subscription(handshake.subscribe_url, self.confirm_fetch)
        except Unauthorized as error:
            raise ApiError(400, "invalid_subscription", str(error), "SubscribeURL") from None
        except Exception as error:
            detail = f"could not confirm the SNS subscription: {type(error).__name__}"
            raise ApiError(502, "subscription_failed", detail, "SubscribeURL") from None


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
    """The body as JSON, refusing what is not UTF-8 JSON or is nested deeper than `max_depth`."""
    try:
        decoded = load_json(body)
    except NotJson as error:
        if error.deep:
            raise ApiError(400, "too_deep", f"{source}: payload: {error}", "payload") from None
        raise invalid_alert(f"{source}: payload: {error}") from None
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
