"""The triage graph end to end on the synthetic incident (planted payment fault)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver

from agent.alert.models import Alert
from agent.approval.models import Decision
from agent.approval.service import ApprovalError
from agent.bench.pager import FakePagerDuty
from agent.config import TriageConfig, load_config
from agent.context import build_context
from agent.runner import APPROVAL, NoIncident, RunOutcome, TriageRunner, _thread
from agent.service.runs import OPENS, SENDS, DeskRunner
from agent.state import TriageState
from tests.agent.conftest import ROUTING_KEY_ENV
from tests.support.receiver import Receiver
from tests.support.synthetic import SyntheticDataset
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import CaseRecord


def test_a_run_stops_at_approval_with_every_decision_made(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    outcome = runner.run(alerts, case.now)
    incident = outcome.incident
    assert outcome.waiting and outcome.correlated == "new"
    assert incident.isolation is not None
    top = incident.isolation.top()
    assert top is not None and top.service == "payment"
    assert top.evidence_ids, "the top suspect cites evidence"
    assert incident.severity is not None and incident.severity.reasons
    assert incident.routing is not None and incident.routing.page_team == "payments"
    assert incident.routing.incident_commander.name
    kinds = {d.kind for d in incident.drafts}
    assert {"page", "responder_update", "status_update"} <= kinds
    assert all(d.state == "pending" for d in incident.drafts)
    assert {p["id"] for p in outcome.pending} == {d.id for d in incident.drafts}
    steps = [e.kind for e in incident.timeline]
    assert steps[:5] == ["opened", "investigation", "severity", "routing", "draft"]


def test_nothing_is_sent_before_approval(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    outcome = runner.run(alerts, case.now)
    assert not outcome.incident.dispatches
    assert not Path(runner.ctx.dispatch.outbox_path).exists()


def test_approving_the_page_sends_it_once_to_the_outbox(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    incident = runner.run(alerts, case.now).incident
    page = next(d for d in incident.drafts if d.kind == "page")
    outcome = runner.decide(incident.id, Decision(draft_id=page.id, action="approve", by="aki"))
    sent = outcome.incident.draft(page.id)
    assert sent is not None and sent.state == "sent"
    lines = Path(runner.ctx.dispatch.outbox_path).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and page.id in lines[0]
    approval = outcome.incident.approvals[-1]
    assert approval.by == "aki" and approval.decision == "approve"
    with pytest.raises(ApprovalError):
        runner.decide(incident.id, Decision(draft_id=page.id, action="approve", by="aki"))
    assert len(Path(runner.ctx.dispatch.outbox_path).read_text().splitlines()) == 1


def test_a_rejection_records_the_reason_and_sends_nothing(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    incident = runner.run(alerts, case.now).incident
    status = next(d for d in incident.drafts if d.kind == "status_update")
    decision = Decision(draft_id=status.id, action="reject", by="aki", reason="too early")
    outcome = runner.decide(incident.id, decision)
    rejected = outcome.incident.draft(status.id)
    assert rejected is not None and rejected.state == "rejected"
    assert outcome.incident.timeline[-1].kind == "rejection"
    assert "too early" in outcome.incident.approvals[-1].reason
    assert not Path(runner.ctx.dispatch.outbox_path).exists()
    assert status.id not in {p["id"] for p in outcome.pending}


def test_an_edited_approval_sends_the_edit(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    incident = runner.run(alerts, case.now).incident
    update = next(d for d in incident.drafts if d.kind == "responder_update")
    decision = Decision(
        draft_id=update.id, action="approve", by="aki", edited_body="Rolled back payment."
    )
    outcome = runner.decide(incident.id, decision)
    approval = outcome.incident.approvals[-1]
    assert approval.edited and approval.original_body == update.body
    outbox = Path(runner.ctx.dispatch.outbox_path).read_text(encoding="utf-8")
    assert "Rolled back payment." in outbox


def test_a_repeat_alert_joins_the_open_incident(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    first = runner.run(alerts, case.now)
    again = runner.run(alerts, case.now + timedelta(minutes=2))
    assert again.correlated == "duplicate" and again.incident.id == first.incident.id
    assert not again.waiting, "an attached alert does not start a second triage"
    assert len(runner.ctx.store.recent()) == 1
    assert again.incident.timeline[-1].kind == "alert"


def test_the_window_counts_from_the_last_alert_not_the_last_approval(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    first = runner.run(alerts, case.now)
    page = next(d for d in first.incident.drafts if d.kind == "page")
    runner.decide(first.incident.id, Decision(draft_id=page.id, action="approve", by="Aiko"))
    window = timedelta(minutes=runner.ctx.config.correlation_window_min)
    again = runner.run(alerts, case.now + window + timedelta(minutes=1))
    assert again.correlated == "new" and again.incident.id != first.incident.id


def test_an_unrelated_alert_opens_a_second_incident(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    runner.run(alerts, case.now)
    other = alerts[0].model_copy(
        update={"fingerprint": "other", "service": "billing-report", "system": "back-office"}
    )
    outcome = runner.run([other], case.now)
    assert outcome.correlated == "new"
    assert len(runner.ctx.store.recent()) == 2


def _recovered(alerts: list[Alert], at: datetime) -> list[Alert]:
    return [a.model_copy(update={"status": "resolved", "ends_at": at}) for a in alerts]


def test_a_recovery_no_open_incident_holds_ends_the_run_without_one(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    outcome = runner.run(_recovered(alerts, case.now), case.now)
    assert outcome == NoIncident("recovery with no open incident: nothing to do")
    assert runner.ctx.store.recent() == []


def test_a_recovery_past_the_window_joins_the_open_incident_holding_its_alert(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    """The window bounds which new alerts are related; the end of an alert the incident
    holds belongs to it however late it comes (a sender redelivering after a restart)."""
    first = runner.run(alerts, case.now)
    assert isinstance(first, RunOutcome)
    later = case.now + timedelta(minutes=runner.ctx.config.correlation_window_min + 30)
    ended = runner.run(_recovered(alerts, later), later)
    assert isinstance(ended, RunOutcome)
    assert (ended.incident.id, ended.correlated) == (first.incident.id, "duplicate")
    assert {a.status for a in ended.incident.alerts} == {"resolved"}
    assert len(runner.ctx.store.recent()) == 1


def test_a_recovery_of_a_resolved_incident_s_alert_is_recorded_there_within_the_window(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    """Soon after the resolution the recovery is that incident's (one timeline line, still
    resolved); past the window the fingerprint may be another occurrence: nothing to do."""
    first = runner.run(alerts, case.now)
    assert isinstance(first, RunOutcome)
    runner.ctx.store.save(first.incident.model_copy(update={"status": "resolved"}))
    soon = case.now + timedelta(minutes=10)
    ended = runner.run(_recovered(alerts, soon), soon)
    assert isinstance(ended, RunOutcome) and not ended.waiting
    assert (ended.incident.id, ended.correlated) == (first.incident.id, "duplicate")
    assert ended.incident.status == "resolved" and ended.incident.drafts == first.incident.drafts
    assert ended.incident.timeline[-1].text.endswith("resolved; the incident stays resolved.")
    window = timedelta(minutes=runner.ctx.config.correlation_window_min)
    late = soon + window + timedelta(minutes=1)
    assert runner.run(_recovered(alerts, late), late) == NoIncident(
        "recovery with no open incident: nothing to do"
    )
    assert len(runner.ctx.store.recent()) == 1


@pytest.mark.parametrize("language", ["en", "ja"])
def test_drafts_come_in_the_configured_language(
    language: str, home: Path, synthetic: SyntheticDataset, alerts: list[Alert], case: CaseRecord
) -> None:
    config = TriageConfig.model_validate({"language": language})
    runner = TriageRunner(build_context(config, home=home, telemetry=synthetic.open().at))
    drafts = runner.run(alerts, case.now).incident.drafts
    assert {d.language for d in drafts} == {language}
    status = next(d for d in drafts if d.kind == "status_update")
    assert ("ご" in status.body) == (language == "ja")


def test_approval_from_a_new_process_pages_exactly_once(
    config_file: Path, home: Path, pagerduty: Receiver, alerts: list[Alert], case: CaseRecord
) -> None:
    """The run stops at approval; a separate `triage approve` process resumes it."""
    config = load_config(config_file)
    dataset = config.telemetry.path
    assert dataset is not None

    runner = TriageRunner(
        build_context(config, home=home, telemetry=ReplayDataset.open(dataset).at)
    )
    incident = runner.run(alerts, case.now).incident
    page = next(d for d in incident.drafts if d.kind == "page")
    del runner  # this process is done; only the checkpoint remains
    command = [
        sys.executable, "-m", "agent", "approve", incident.id, page.id,
        "--by", "oncall-lead", "--config", str(config_file), "--data-dir", str(home),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ, check=False)
    assert done.returncode == 0, done.stderr
    assert "sent" in done.stdout
    (request,) = pagerduty.wait_for(1)
    body = request.json()
    assert body["routing_key"] == "test-routing-key"
    assert body["event_action"] == "trigger"
    assert body["dedup_key"] and body["payload"]["summary"]
    again = subprocess.run(command, capture_output=True, text=True, env=os.environ, check=False)
    assert again.returncode == 2 and "error" in again.stderr
    assert len(pagerduty.requests) == 1


def test_a_run_killed_before_its_first_step_finished_is_resumed_there(
    home: Path, synthetic: SyntheticDataset, alerts: list[Alert], case: CaseRecord
) -> None:
    """A worker can die after the run's input is checkpointed but before correlation saved
    anything: the row's next try must open the incident, not fail for want of one."""
    ctx = build_context(TriageConfig(language="en"), home=home, telemetry=synthetic.open().at)
    runner = DeskRunner(ctx)
    start = TriageState(run_id="run-inbox-7", alerts=alerts, received_at=case.now)
    thread = _thread("run-inbox-7")
    runner.graph.invoke(start, thread, context=ctx, interrupt_before=[OPENS])
    assert runner.graph.get_state(thread).next == (OPENS,)

    opened = runner.open("run-inbox-7", alerts, case.now)
    assert not opened.resumed
    outcome = runner.triage("run-inbox-7", opened)
    assert outcome.incident.id == opened.incident_id
    assert [i.id for i in ctx.store.recent()] == [opened.incident_id]
    assert {d.kind for d in outcome.incident.drafts} >= {"page"}


def test_the_approval_is_saved_before_the_page_goes_out(
    home: Path, synthetic: SyntheticDataset, alerts: list[Alert], case: CaseRecord,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """While PagerDuty holds the trigger, the run's saved state is already past the
    approval, waiting on the send, even on a slow database: a process killed right then
    leaves a send the next process carries through (DeskRunner.finish_cut_send)."""
    monkeypatch.setenv(ROUTING_KEY_ENV, "test-routing-key")
    seen: list[tuple[str, ...]] = []
    with FakePagerDuty(on_trigger=lambda _: seen.append(saved_next())) as pager:
        config = TriageConfig.model_validate(
            {
                "language": "en",
                "dispatch": {
                    "pagerduty": {"events_url": pager.url, "routing_key_env": ROUTING_KEY_ENV},
                    "max_attempts": 1,
                },
            }
        )
        runner = TriageRunner(build_context(config, home=home, telemetry=synthetic.open().at))
        incident = runner.run(alerts, case.now).incident
        assert incident.run_id is not None
        reader = TriageRunner(build_context(config, home=home))  # another process's view

        def saved_next() -> tuple[str, ...]:
            return tuple(reader.graph.get_state(_thread(str(incident.run_id))).next)

        saving = SqliteSaver.put

        def busy_database(self: SqliteSaver, *args: Any, **kwargs: Any) -> Any:
            time.sleep(0.3)
            return saving(self, *args, **kwargs)

        monkeypatch.setattr(SqliteSaver, "put", busy_database)
        page = Decision(draft_id=f"{incident.id}-page", action="approve", by="aki")
        runner.decide(incident.id, page)
    assert seen == [(SENDS,)]


def test_a_run_cut_short_on_its_way_back_to_approval_still_takes_the_decision(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    """A process killed inside `sync` (the run re-entered the approval step but never got
    there) must not leave an incident nobody can approve or attach to."""
    incident = runner.run(alerts, case.now).incident
    assert incident.run_id is not None
    thread = _thread(incident.run_id)
    runner.graph.update_state(thread, {"incident": incident}, as_node="draft")  # then killed
    cut = runner.graph.get_state(thread)
    assert cut.next == (APPROVAL,) and not cut.interrupts

    runner.sync(runner.ctx.store.get(incident.id))  # an attached alert: no TriageInProgress
    runner.graph.update_state(thread, {"incident": incident}, as_node="draft")  # cut again
    page = Decision(draft_id=f"{incident.id}-page", action="approve", by="aki")
    outcome = runner.decide(incident.id, page)
    assert outcome.incident.draft(page.draft_id).state in ("sent", "approved")  # type: ignore[union-attr]
