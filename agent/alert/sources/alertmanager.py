"""Prometheus Alertmanager webhook (version 4): one Alert per entry of `alerts[]`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from agent.alert.derive import SERVICE_LABELS, SYSTEM_LABELS, fingerprint_of, pick, summary_of
from agent.alert.fields import Fields
from agent.alert.models import Alert, AlertStatus
from agent.alert.sources import Source

NAME: Final = "alertmanager"
_STATUSES: dict[str, AlertStatus] = {"firing": "firing", "resolved": "resolved"}


def looks_like(payload: object) -> bool:
    return (
        isinstance(payload, Mapping)
        and isinstance(payload.get("alerts"), list)
        and ("groupKey" in payload or "receiver" in payload)
    )


def parse(payload: object) -> list[Alert]:
    body = Fields.of(NAME, payload)
    return [_alert(entry) for entry in body.need_objects("alerts")]


def _alert(entry: Fields) -> Alert:
    labels = entry.mapping("labels")
    annotations = entry.mapping("annotations")
    status = entry.choice("status", _STATUSES)
    return Alert(
        source=NAME,
        # Alertmanager's own fingerprint is a hash of the labels; versions
        # before 0.19 did not send it, so the same is derived here.
        fingerprint=entry.text("fingerprint") or fingerprint_of(NAME, labels),
        name=entry.obj("labels").need_text("alertname"),
        status=status,
        starts_at=entry.need_time("startsAt"),
        # A firing alert's endsAt is either unset or Prometheus's guess at
        # when it expires; only a resolved alert's endsAt is when it ended.
        ends_at=entry.time("endsAt") if status == "resolved" else None,
        service=pick(labels, SERVICE_LABELS),
        system=pick(labels, SYSTEM_LABELS),
        source_severity=labels.get("severity"),
        source_status=entry.text("status"),
        summary=summary_of(annotations),
        labels=labels,
        annotations=annotations,
        url=entry.text("generatorURL"),
    )


SOURCE = Source(
    name=NAME,
    shape="an `alerts` list with `groupKey` or `receiver`",
    looks_like=looks_like,
    parse=parse,
)
