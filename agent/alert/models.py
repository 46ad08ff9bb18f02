"""The normalised alert every source is parsed into.

Everything here except the timestamps and the source is untrusted text from
outside: it is shown to people and matched against the service catalogue, but
never read as an instruction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tools.telemetry.replay.format import AlertSource

AlertStatus = Literal["firing", "resolved"]


class AlertMetric(BaseModel):
    """The metric an alarm evaluates, where the source says (CloudWatch, Datadog)."""

    namespace: str | None = None
    name: str
    dimensions: dict[str, str] = Field(default_factory=dict)
    statistic: str | None = None
    period_s: int | None = None


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
    summary: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    metric: AlertMetric | None = None
    url: str | None = None
