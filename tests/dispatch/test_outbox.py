"""The outbox: the default destination, and where channels without an API adapter land."""

from __future__ import annotations

from pathlib import Path

from agent.approval.service import approval_for, approve
from agent.dispatch.config import DispatchConfig
from agent.dispatch.outbox import FileOutbox, OutboxSender, read_outbox, send_key
from agent.dispatch.service import dispatch
from tests.approval.factories import EMAIL, LATER, PAGE, SLACK, STATUS, incident, state_of


def test_a_status_update_goes_to_the_outbox_with_its_approval(
    config: DispatchConfig, outbox: Path
) -> None:
    inc = approve(incident(), STATUS, "Ben", LATER, edited_body="Payments are recovering.")
    after = dispatch(inc, STATUS, config, now=LATER)

    (line,) = read_outbox(outbox)
    assert line == {
        "sent_at": LATER.isoformat(),
        "incident_id": "inc-42",
        "draft_id": STATUS,
        "revision": 2,
        "channel": "statuspage",
        "kind": "status_update",
        "audience": "customers",
        "language": "en",
        "title": "Payments degraded",
        "body": "Payments are recovering.",
        "payload": {},
        "evidence_ids": ["ev-1", "ev-2"],
        "approved_by": "Ben",
        "approved_at": LATER.isoformat(),
    }
    result = after.dispatches[-1]
    assert (result.status, result.channel) == ("sent", "statuspage")
    assert result.destination == f"outbox {outbox}"
    assert state_of(after, STATUS) == "sent"


def test_email_goes_to_the_outbox(config: DispatchConfig, outbox: Path) -> None:
    dispatch(approve(incident(), EMAIL, "Cho", LATER), EMAIL, config, now=LATER)
    assert [line["channel"] for line in read_outbox(outbox)] == ["email"]


def test_unconfigured_pagerduty_and_slack_go_to_the_outbox(outbox: Path) -> None:
    config = DispatchConfig(outbox_path=outbox)
    inc = approve(approve(incident(), PAGE, "Aiko", LATER), SLACK, "Ben", LATER)
    inc = dispatch(dispatch(inc, PAGE, config, now=LATER), SLACK, config, now=LATER)
    assert [line["draft_id"] for line in read_outbox(outbox)] == [PAGE, SLACK]
    assert [d.status for d in inc.dispatches] == ["sent", "sent"]


def test_each_line_is_one_json_object_per_message(config: DispatchConfig, outbox: Path) -> None:
    inc = approve(approve(incident(), STATUS, "Ben", LATER), EMAIL, "Cho", LATER)
    dispatch(dispatch(inc, STATUS, config, now=LATER), EMAIL, config, now=LATER)
    lines = outbox.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert all(line.startswith("{") and line.endswith("}") for line in lines)


def test_the_same_revision_is_written_once_even_from_a_stale_incident(
    config: DispatchConfig, outbox: Path
) -> None:
    """A crash after writing but before saving the incident replays the dispatch: the
    ledger hands back the first send's result, and nothing is written again."""
    approved = approve(incident(), STATUS, "Ben", LATER)
    first = dispatch(approved, STATUS, config, now=LATER)
    replayed = dispatch(approved, STATUS, config, now=LATER)  # the unsaved incident again
    assert len(read_outbox(outbox)) == 1
    assert first.dispatches[-1].detail == "appended"
    assert replayed.dispatches[-1] == first.dispatches[-1]


def test_a_sender_that_died_before_settling_sends_again_under_the_same_key(
    config: DispatchConfig, outbox: Path
) -> None:
    """Reserved but never settled: the retry sends (an outbox add is itself once-only)."""
    approved = approve(incident(), STATUS, "Ben", LATER)
    draft = approved.draft(STATUS)
    assert draft is not None
    ledger = FileOutbox(outbox)
    assert ledger.reserve(send_key(draft)) is None  # the process dies here
    after = dispatch(approved, STATUS, config, now=LATER)
    assert after.dispatches[-1].status == "sent"
    assert ledger.reserve(send_key(draft)) == after.dispatches[-1].model_dump(mode="json")


def test_a_new_revision_is_a_new_line(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    sender = OutboxSender(path)
    one = approve(incident(), STATUS, "Ben", LATER)
    two = approve(one, STATUS, "Ben", LATER, edited_body="Payments recovered.")
    for inc in (one, two):
        status = inc.draft(STATUS)
        assert status is not None
        approval = approval_for(inc, status)
        assert approval is not None
        sender.send(status, approval)
    assert [line["revision"] for line in read_outbox(path)] == [1, 2]


def test_an_unwritable_outbox_fails_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    config = DispatchConfig(outbox_path=blocker / "outbox.jsonl")
    after = dispatch(approve(incident(), STATUS, "Ben", LATER), STATUS, config, now=LATER)
    result = after.dispatches[-1]
    assert result.status == "failed"
    assert "could not write the outbox" in result.detail
    assert state_of(after, STATUS) == "approved"
