"""Alert intake: a webhook body from any supported sender in, `Alert`s out.

The source is the caller's word when it has one (the HTTP route it came in on,
a replay case's `alert.source`), else detected from the payload's shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.alert.errors import AlertParseError
from agent.alert.fields import NotJson, kind, load_json, quoted
from agent.alert.models import Alert
from agent.alert.sources import Source, alertmanager, cloudwatch, datadog, generic
from tools.telemetry.replay.format import AlertSource

# In detection order: the generic format's only mark (`name`) is the weakest.
SOURCES: dict[str, Source] = {
    source.name: source
    for source in (alertmanager.SOURCE, cloudwatch.SOURCE, datadog.SOURCE, generic.SOURCE)
}
_KEYS_SHOWN = 12

Payload = Mapping[str, Any] | list[Any] | bytes | str


def parse_alert(payload: Payload, source: str | None = None) -> list[Alert]:
    """Every alert in `payload` (a decoded body, or its bytes or text).

    Raises AlertParseError naming the source and field for anything malformed,
    and SnsSubscriptionConfirmation for an SNS subscription handshake. An SNS
    UnsubscribeConfirmation yields no alerts.
    """
    body = _decode(payload, source or "alert")
    chosen = _named(source) if source is not None else _detect(body)
    return chosen.parse(body)


def detect_source(payload: Payload) -> AlertSource:
    """Which sender's format `payload` is in, from its shape alone."""
    return _detect(_decode(payload, "alert")).name


def _decode(payload: Payload, label: str) -> object:
    if not isinstance(payload, str | bytes):
        return payload
    try:
        return load_json(payload)
    except NotJson as error:
        raise AlertParseError(f"{label}: payload: {error}") from None


def _named(source: str) -> Source:
    chosen = SOURCES.get(source.strip().lower())
    if chosen is None:
        expected = ", ".join(SOURCES)
        raise AlertParseError(f"alert: source: expected one of {expected}, got {quoted(source)}")
    return chosen


def _detect(body: object) -> Source:
    for source in SOURCES.values():
        if source.looks_like(body):
            return source
    looked_for = "; ".join(f"{name}: {source.shape}" for name, source in SOURCES.items())
    raise AlertParseError(
        f"alert: payload: unknown alert format, {_seen(body)}; looked for {looked_for}"
    )


def _seen(body: object) -> str:
    if not isinstance(body, Mapping):
        return f"got a JSON {kind(body)}"
    keys = [quoted(str(key)) for key in list(body)[:_KEYS_SHOWN]]
    more = ", ..." if len(body) > _KEYS_SHOWN else ""
    return f"got keys {', '.join(keys)}{more}" if keys else "got an empty object"
