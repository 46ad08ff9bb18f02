"""The generic JSON format (docs/alerts.md), for custom scripts and SIEM forwarding.

One alert object, or a JSON array of them. Only `name` and `starts_at` are
required; everything else has a default or is derived from `labels`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from agent.alert.derive import SERVICE_LABELS, SYSTEM_LABELS, fingerprint_of, pick, summary_of
from agent.alert.fields import Fields
from agent.alert.models import Alert, AlertStatus
from agent.alert.sources import Source

NAME: Final = "generic"
# Forgiving on purpose: scripts and SIEMs use many words for the two states.
_STATUSES: dict[str, AlertStatus] = {
    "firing": "firing",
    "triggered": "firing",
    "alarm": "firing",
    "problem": "firing",
    "open": "firing",
    "resolved": "resolved",
    "recovered": "resolved",
    "ok": "resolved",
    "closed": "resolved",
}


def looks_like(payload: object) -> bool:
    if isinstance(payload, list):
        return bool(payload) and all(_is_alert(item) for item in payload)
    return _is_alert(payload)


def _is_alert(item: object) -> bool:
    return isinstance(item, Mapping) and "name" in item


def parse(payload: object) -> list[Alert]:
    if isinstance(payload, list):
        return [_alert(Fields.of(NAME, item, f"[{i}]")) for i, item in enumerate(payload)]
    return [_alert(Fields.of(NAME, payload))]


def _alert(body: Fields) -> Alert:
    labels = body.mapping("labels")
    annotations = body.mapping("annotations")
    name = body.need_text("name")
    service = body.text("service") or pick(labels, SERVICE_LABELS)
    status = body.choice("status", _STATUSES, default="firing")
    return Alert(
        source=NAME,
        fingerprint=body.text("fingerprint") or fingerprint_of(NAME, name, service, labels),
        name=name,
        status=status,
        starts_at=body.need_time("starts_at"),
        ends_at=body.time("ends_at") if status == "resolved" else None,
        service=service,
        system=body.text("system") or pick(labels, SYSTEM_LABELS),
        source_severity=body.text("severity") or labels.get("severity"),
        source_status=body.text("status"),
        summary=body.text("summary") or summary_of(annotations),
        labels=labels,
        annotations=annotations,
        url=body.text("url"),
    )


SOURCE = Source(
    name=NAME,
    shape="an object with `name` (or a list of them)",
    looks_like=looks_like,
    parse=parse,
)
