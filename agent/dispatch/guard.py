"""The only way to get permission to send: an approval that matches the draft exactly.

Every adapter's network or file write takes a `SendPermit`, and `authorize` is
the only place one is made. So a message cannot leave without an approval for
its current content, whichever entry point a caller tries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from agent.approval.content import content_digest
from agent.approval.models import Approval
from agent.draft.models import Draft

_ISSUED = object()
SENDABLE_STATES = ("approved", "edited")


class UnapprovedSendError(PermissionError):
    """A send was attempted without an approval covering the draft; nothing was sent."""


@dataclass(frozen=True, slots=True)
class SendPermit:
    """Proof that `authorize` checked this draft revision against its approval."""

    incident_id: str
    draft_id: str
    revision: int
    approved_by: str
    approved_at: datetime
    content_sha256: str
    _issuer: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._issuer is not _ISSUED:
            raise UnapprovedSendError("send permits are only issued by authorize()")

    def covers(self, draft: Draft) -> bool:
        """Whether this permit was issued for `draft` as it is now, content included."""
        issued_for = (self.incident_id, self.draft_id, self.revision, self.content_sha256)
        return issued_for == (draft.incident_id, draft.id, draft.revision, content_digest(draft))


def authorize(draft: Draft, approval: Approval | None) -> SendPermit:
    """A permit to send `draft`, or UnapprovedSendError naming the mismatch."""
    problem = refusal(draft, approval)
    if problem or approval is None:
        raise UnapprovedSendError(f"draft {draft.id!r}: {problem}")
    return SendPermit(
        incident_id=draft.incident_id,
        draft_id=draft.id,
        revision=draft.revision,
        approved_by=approval.by,
        approved_at=approval.at,
        content_sha256=content_digest(draft),
        _issuer=_ISSUED,
    )


def refusal(draft: Draft, approval: Approval | None) -> str:
    """Why `approval` does not let `draft` leave, or "" when it does."""
    if draft.state not in SENDABLE_STATES:
        return f"draft is {draft.state}, not approved"
    if approval is None:
        return f"no approval covers revision {draft.revision}"
    checks = (
        (approval.decision == "approve", f"the decision was {approval.decision}"),
        (approval.draft_id == draft.id, f"the approval is for draft {approval.draft_id!r}"),
        (
            approval.incident_id == draft.incident_id,
            f"the approval is for incident {approval.incident_id!r}",
        ),
        (
            approval.revision == draft.revision,
            f"the approval is for revision {approval.revision}, the draft is at {draft.revision}",
        ),
        (
            approval.content_sha256 == content_digest(draft),
            "the draft changed after it was approved",
        ),
    )
    return next((why for ok, why in checks if not ok), "")
