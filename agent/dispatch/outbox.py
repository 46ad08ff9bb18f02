"""The outbox: a JSON-lines file of approved messages, the default destination.

Demos and tests read it to see exactly what would have gone out, and channels
with no API adapter (status page, e-mail) land here for a person or a PR tool
to publish. Each message is written once: a repeat of the same draft revision
(say, after a crash between writing and saving the incident) is not appended again.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from agent.dispatch.guard import SendPermit, UnapprovedSendError
from agent.dispatch.sender import ApprovedSender, Clock, Delivery, utc_now
from agent.draft.models import Draft


class OutboxSender(ApprovedSender):
    """Appends one line per approved draft revision to the outbox file."""

    def __init__(self, path: Path, *, clock: Clock = utc_now) -> None:
        super().__init__(clock)
        self._path = path

    def deliver(self, draft: Draft, permit: SendPermit) -> Delivery:
        destination = f"outbox {self._path}"
        try:
            added = append_once(self._path, outbox_record(draft, permit, self._clock()), permit)
        except OSError as err:
            return Delivery("failed", destination, f"could not write the outbox: {err}")
        return Delivery("sent", destination, "appended" if added else "already in the outbox")


def outbox_record(draft: Draft, permit: SendPermit, at: Any) -> dict[str, Any]:
    """Everything the recipient would see, and whose approval let it out."""
    return {
        "sent_at": at.isoformat(),
        "incident_id": draft.incident_id,
        "draft_id": draft.id,
        "revision": draft.revision,
        "channel": draft.channel,
        "kind": draft.kind,
        "audience": draft.audience,
        "language": draft.language,
        "title": draft.title,
        "body": draft.body,
        "payload": draft.payload,
        "evidence_ids": draft.evidence_ids,
        "approved_by": permit.approved_by,
        "approved_at": permit.approved_at.isoformat(),
    }


def append_once(path: Path, record: dict[str, Any], permit: SendPermit) -> bool:
    """Append `record` durably unless this draft revision is already there; True if appended.

    An exclusive lock makes check-and-append atomic across processes.
    """
    if not isinstance(permit, SendPermit):
        raise UnapprovedSendError("the outbox needs a SendPermit from authorize()")
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    line = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str) + "\n"
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        if any(_is_permitted_message(text, permit) for text in handle):
            return False
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    if created:
        _fsync_dir(path.parent)
    return True


def read_outbox(path: Path) -> list[dict[str, Any]]:
    """The outbox's messages, oldest first; an absent outbox is empty."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _is_permitted_message(text: str, permit: SendPermit) -> bool:
    try:
        sent = json.loads(text)
    except ValueError:
        return False
    return isinstance(sent, dict) and (
        sent.get("incident_id"),
        sent.get("draft_id"),
        sent.get("revision"),
    ) == (permit.incident_id, permit.draft_id, permit.revision)


def _fsync_dir(directory: Path) -> None:
    """A new file's directory entry survives a crash only once the directory is synced."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
