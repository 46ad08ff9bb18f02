"""The one protocol every channel adapter implements, and the base that enforces approval."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from agent.approval.models import Approval
from agent.dispatch.guard import SendPermit, UnapprovedSendError, authorize
from agent.dispatch.models import DispatchResult, DispatchStatus
from agent.draft.models import Draft

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Sender(Protocol):
    """Delivers one approved draft; raises UnapprovedSendError if the approval does not match."""

    def send(self, draft: Draft, approval: Approval) -> DispatchResult: ...


@dataclass(frozen=True, slots=True)
class Delivery:
    """What an adapter reports about one delivery; the base turns it into a DispatchResult."""

    status: DispatchStatus
    destination: str
    detail: str = ""
    response_code: int | None = None


class ApprovedSender(ABC):
    """Checks the approval before an adapter sees the draft.

    Adapters implement `deliver`, which needs a SendPermit; only `authorize`
    makes one, so an adapter cannot be driven without a matching approval.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every adapter's `deliver` checks its permit, even when called directly."""
        super().__init_subclass__(**kwargs)
        if "deliver" in cls.__dict__:
            checked = _permit_checked(cls.__dict__["deliver"])
            cls.deliver = checked  # type: ignore[method-assign, assignment]

    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock

    def send(self, draft: Draft, approval: Approval) -> DispatchResult:
        permit = authorize(draft, approval)
        delivery = self.deliver(draft, permit)
        return DispatchResult(
            draft_id=draft.id,
            incident_id=draft.incident_id,
            channel=draft.channel,
            status=delivery.status,
            at=self._clock(),
            approval_by=permit.approved_by,
            destination=delivery.destination,
            detail=delivery.detail,
            response_code=delivery.response_code,
        )

    @abstractmethod
    def deliver(self, draft: Draft, permit: SendPermit) -> Delivery:
        """Send `draft`, whose approval `permit` proves; report, don't raise, on failure."""


Deliver = Callable[[ApprovedSender, Draft, SendPermit], Delivery]


def _permit_checked(deliver: Deliver) -> Deliver:
    """`deliver`, refusing a permit that is forged or was issued for another draft revision."""

    @functools.wraps(deliver)
    def checked(self: ApprovedSender, draft: Draft, permit: SendPermit) -> Delivery:
        if not isinstance(permit, SendPermit) or not permit.covers(draft):
            raise UnapprovedSendError(f"draft {draft.id!r}: no permit from authorize() covers it")
        return deliver(self, draft, permit)

    return checked
