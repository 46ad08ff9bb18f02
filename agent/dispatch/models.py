"""Dispatch: what was sent where, on whose approval."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

DispatchStatus = Literal["sent", "failed", "refused"]


class DispatchResult(BaseModel):
    draft_id: str
    incident_id: str
    channel: str
    status: DispatchStatus
    at: datetime
    approval_by: str | None = None
    destination: str = ""
    detail: str = ""
    response_code: int | None = None
