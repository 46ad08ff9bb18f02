"""The normalised alert every source is parsed into.

Everything here except the timestamps and the source is untrusted text from
outside: it is shown to people and matched against the service catalogue, but
never read as an instruction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from tools.bounds import ellipsize
from tools.telemetry.replay.format import AlertSource

AlertStatus = Literal["firing", "resolved"]

# Bounds on untrusted text, so a huge or hostile payload cannot bloat stored
# state or an LLM prompt. Size and depth of the whole body are the HTTP layer's.
TEXT_MAX_CHARS = 2_000  # summary, one label or annotation value
NAME_MAX_CHARS = 256  # name, fingerprint, service, system, severity, label keys
LABELS_MAX = 100  # labels, and annotations, kept per alert
# JSON may escape half a surrogate pair ("\\ud800"), which is no character: such text
# cannot be stored or sent on, so each one becomes U+FFFD rather than losing the alert.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _valid_text(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, Mapping):
        return {_valid_text(key): _valid_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_valid_text(item) for item in value]
    return value


def _bounded_map(values: Mapping[str, str]) -> dict[str, str]:
    kept = list(values.items())[:LABELS_MAX]
    return {ellipsize(key, NAME_MAX_CHARS): ellipsize(value, TEXT_MAX_CHARS) for key, value in kept}


class AlertMetric(BaseModel):
    """The metric an alarm evaluates, where the source says (CloudWatch, Datadog)."""

    namespace: str | None = None
    name: str
    dimensions: dict[str, str] = Field(default_factory=dict)
    statistic: str | None = None
    period_s: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _unicode(cls, data: Any) -> Any:
        return _valid_text(data)


class Alert(BaseModel):
    """One alert, whatever sent it.

    `fingerprint` identifies the alerting condition (not one delivery), so a
    repeat of the same condition dedups onto the same incident.
    """

    source: AlertSource
    fingerprint: str
    name: str
    status: AlertStatus = "firing"
    starts_at: datetime
    ends_at: datetime | None = None
    service: str | None = Field(None, description="The service the alert names, if any.")
    system: str | None = None
    source_severity: str | None = Field(None, description="The sender's own severity label.")
    source_status: str | None = Field(
        None,
        description="The sender's own state word before mapping to `status`"
        " (ALARM, INSUFFICIENT_DATA, No Data, Re-Triggered...).",
    )
    summary: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    metric: AlertMetric | None = None
    url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _unicode(cls, data: Any) -> Any:
        return _valid_text(data)

    @field_validator("fingerprint", "name", "service", "system", "source_severity", "source_status")
    @classmethod
    def _short_text(cls, value: str | None) -> str | None:
        return None if value is None else ellipsize(value, NAME_MAX_CHARS)

    @field_validator("summary", "url")
    @classmethod
    def _long_text(cls, value: str | None) -> str | None:
        return None if value is None else ellipsize(value, TEXT_MAX_CHARS)

    @field_validator("labels", "annotations")
    @classmethod
    def _bounded(cls, value: dict[str, str]) -> dict[str, str]:
        return _bounded_map(value)
