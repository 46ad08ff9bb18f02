"""The outbox: every approved message, keyed by its idempotency key, and the default
destination of messages no API adapter sends.

Two jobs behind one interface (`Outbox`):

- the **messages** channels with no API adapter (status page, e-mail, an
  unconfigured PagerDuty or Slack) land in, for a person or a PR tool to
  publish; demos and tests read them to see exactly what would have gone out.
  Each is written once: a repeat of the same draft revision is not added again;
- the **send ledger**: before a draft revision is sent anywhere, its key
  (incident/draft/revision) is reserved, and once it went out the result is
  settled under that key. A process that dies after sending but before saving
  the incident leaves the result here, so the retry records it instead of
  sending again; one that dies between the request and the settle sends again
  with the same PagerDuty dedup_key, which PagerDuty folds into the first page.

Embedded: a JSON-lines file (and its `.sends` ledger beside it) under the data
directory. Distributed: PostgreSQL tables (agent/engines/postgres/outbox.py).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Protocol

from agent.dispatch.guard import SendPermit, UnapprovedSendError
from agent.dispatch.sender import ApprovedSender, Clock, Delivery, utc_now
from agent.draft.models import Draft


class Outbox(Protocol):
    """Approved messages for people to publish, and the ledger of every send."""

    @property
    def where(self) -> str:
        """Where the messages are, for people: a file path or a database table."""
        ...

    def add(self, record: dict[str, Any], permit: SendPermit) -> bool:
        """Store an approved message unless this draft revision is there; True if added."""
        ...

    def messages(self) -> list[dict[str, Any]]:
        """The stored messages, oldest first."""
        ...

    def reserve(self, key: str) -> dict[str, Any] | None:
        """Note that `key` is about to be sent; the settled result if it already went out."""
        ...

    def settle(self, key: str, result: dict[str, Any]) -> None:
        """`key` went out (or failed) with `result`."""
        ...


def send_key(draft: Draft) -> str:
    """The idempotency key of one approved draft revision."""
    return f"{draft.incident_id}/{draft.id}/r{draft.revision}"


class FileOutbox:
    """The embedded outbox: `outbox.jsonl` and its send ledger `outbox.jsonl.sends`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ledger = path.with_name(path.name + ".sends")

    @property
    def where(self) -> str:
        return str(self.path)

    def add(self, record: dict[str, Any], permit: SendPermit) -> bool:
        return append_once(self.path, record, permit)

    def messages(self) -> list[dict[str, Any]]:
        return read_outbox(self.path)

    def reserve(self, key: str) -> dict[str, Any] | None:
        with _locked(self.ledger) as handle:
            handle.seek(0)
            settled = [r for r in map(_parsed, handle) if r.get("key") == key and r.get("sent")]
            if settled:
                return dict(settled[-1]["result"])
            _write(handle, {"key": key, "sent": False})
        return None

    def settle(self, key: str, result: dict[str, Any]) -> None:
        sent = result.get("status") == "sent"
        with _locked(self.ledger) as handle:
            _write(handle, {"key": key, "sent": sent, "result": result})


class OutboxSender(ApprovedSender):
    """Adds one message per approved draft revision to the outbox."""

    def __init__(self, outbox: Outbox | Path, *, clock: Clock = utc_now) -> None:
        super().__init__(clock)
        self._outbox = FileOutbox(outbox) if isinstance(outbox, Path) else outbox

    def deliver(self, draft: Draft, permit: SendPermit) -> Delivery:
        destination = f"outbox {self._outbox.where}"
        try:
            added = self._outbox.add(outbox_record(draft, permit, self._clock()), permit)
        except Exception as err:  # a full disk or a database away: a failed send, kept
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


@contextmanager
def _locked(path: Path) -> Iterator[IO[str]]:
    """`path` open for appending under an exclusive lock (across processes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield handle


def _parsed(line: str) -> dict[str, Any]:
    try:
        found = json.loads(line)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _write(handle: IO[str], record: dict[str, Any]) -> None:
    handle.write(json.dumps(record, sort_keys=True, default=str) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    """A new file's directory entry survives a crash only once the directory is synced."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
