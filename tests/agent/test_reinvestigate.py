"""Re-investigation as the incident evolves: a later related alert looks again when the data may
have changed, the ranking, severity, routing and pending drafts follow, and the timeline says
what changed and why, with repeated attaches collapsed into one line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import pytest

from agent.alert.models import Alert
from agent.approval.models import Decision
from agent.runner import TriageRunner
from tools.telemetry.backend import TelemetryError
from tools.telemetry.models import TimeWindow, to_epoch
from tools.telemetry.replay.backend import ReplayBackend
from tools.telemetry.replay.format import CaseRecord

BEFORE_THE_FAULT = timedelta(minutes=9)  # the synthetic fault starts 5 minutes before `now`


def _related(alert: Alert, name: str, service: str, at_s: float, case: CaseRecord) -> Alert:
    starts = case.now + timedelta(seconds=at_s) - timedelta(minutes=1)
    return alert.model_copy(
        update={"fingerprint": f"fp-{name}", "name": name, "service": service, "starts_at": starts}
    )


def test_a_related_alert_after_the_fault_shows_reinvestigates_and_updates_everything(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    early = case.now - BEFORE_THE_FAULT
    first = runner.run([alerts[0].model_copy(update={"starts_at": early})], early).incident
    assert first.isolation is not None and first.isolation.top().service != "payment"  # type: ignore[union-attr]

    later = runner.run([_related(alerts[0], "HighErrorRate", "checkout", 0, case)], case.now)
    incident = later.incident
    assert later.correlated == "related" and incident.id == first.id
    assert incident.isolation is not None
    top = incident.isolation.top()
    assert top is not None and top.service == "payment" and incident.isolation.now == case.now
    assert incident.routing is not None and incident.routing.page_team == "payments"
    page = incident.draft(f"{incident.id}-page")
    assert page is not None and page.state == "pending" and page.revision == 2
    assert "payment" in page.title

    entry = incident.timeline[-1]
    assert entry.kind == "reinvestigation"
    assert entry.text.startswith("Re-investigated (new related alert: HighErrorRate)")
    assert "→ payment (bad-deploy" in entry.text and "page team" in entry.text
    assert f"{incident.id}-page" in entry.data["redrafted"]

    # The first run, waiting for approval, holds the revised drafts: approving sends revision 2.
    runner.decide(incident.id, Decision(draft_id=page.id, action="approve", by="aki"))
    (sent,) = Path(runner.ctx.dispatch.outbox_path).read_text(encoding="utf-8").splitlines()
    record = json.loads(sent)
    assert record["revision"] == 2 and "payment" in record["title"]
    assert runner.ctx.store.get(incident.id).timeline[-2].kind == "approval", "nothing lost"


def test_a_storm_is_one_timeline_line_and_one_fresh_look_a_minute(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord
) -> None:
    opened = runner.run(alerts, case.now).incident
    for n in range(30):
        storm = _related(alerts[0], f"Storm{n}", "checkout", n, case)
        runner.run([storm], case.now + timedelta(seconds=n + 1))
    incident = runner.ctx.store.get(opened.id)
    attached = [e for e in incident.timeline if e.kind == "alert"]
    assert len(attached) == 1 and attached[0].text.startswith("Attached 30 alerts (Storm0,")
    assert attached[0].data["total"] == 30
    assert not any(e.kind == "reinvestigation" for e in incident.timeline), "within min_gap_s"

    runner.run([_related(alerts[0], "Late", "cart", 120, case)], case.now + timedelta(minutes=2))
    incident = runner.ctx.store.get(opened.id)
    kinds = [e.kind for e in incident.timeline]
    assert kinds[-2:] == ["alert", "reinvestigation"] and kinds.count("alert") == 1
    assert incident.timeline[-2].text.startswith("Attached 31 alerts")
    assert len(incident.alerts) == 32


def test_a_store_down_at_a_later_look_keeps_the_earlier_findings_and_names_the_gap(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The metrics store goes down mid-incident: a related alert's fresh look reads less
    than the first one, so the first look's findings stand, the gap is named, and the
    look is retried when the store answers."""
    first = runner.run(alerts, case.now).incident
    assert first.isolation is not None and first.isolation.top().service == "payment"  # type: ignore[union-attr]

    def down(*_: object, **__: object) -> NoReturn:
        raise TelemetryError("Prometheus at 127.0.0.1:9 unreachable")

    monkeypatch.setattr(ReplayBackend, "_metric_series", down)
    later = case.now + timedelta(minutes=2)
    blind = runner.run([_related(alerts[0], "HighErrorRate", "checkout", 120, case)], later)
    incident = blind.incident
    assert incident.isolation == first.isolation and incident.severity == first.severity
    assert list(incident.telemetry_gaps) == ["metrics"]
    entry = incident.timeline[-1]
    assert entry.kind == "reinvestigation" and "metrics now unavailable" in entry.text
    assert f"findings of {case.now:%Y-%m-%d %H:%M} UTC kept" in entry.text

    monkeypatch.undo()
    again = runner.run(
        [_related(alerts[0], "Saturation", "checkout", 240, case)], later + timedelta(minutes=2)
    )
    assert not again.incident.telemetry_gaps
    assert again.incident.isolation is not None and again.incident.isolation.now != case.now
    assert "metrics readable again" in again.incident.timeline[-1].text


def test_a_later_look_that_sees_nothing_keeps_the_findings_that_saw_the_fault(
    runner: TriageRunner, alerts: list[Alert], case: CaseRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stores answer but hold nothing from before a minute ago (past their retention):
    the fresh look sees no signal, which says the telemetry no longer reaches the fault,
    not that there was none. The first look's findings stand and the timeline says why."""
    first = runner.run(alerts, case.now).incident
    assert first.isolation is not None and first.isolation.verdict != "no-signal"
    later = case.now + timedelta(minutes=2)
    _expire_before(monkeypatch, later - timedelta(minutes=1))
    looked = runner.run([_related(alerts[0], "HighErrorRate", "checkout", 120, case)], later)
    incident = looked.incident
    assert incident.isolation == first.isolation and incident.severity == first.severity
    assert not incident.telemetry_gaps, "the stores answered: nothing is down"
    entry = incident.timeline[-1]
    assert entry.kind == "reinvestigation"
    assert f"findings of {case.now:%Y-%m-%d %H:%M} UTC kept: this look saw no signal" in entry.text


def _expire_before(monkeypatch: pytest.MonkeyPatch, cutoff: datetime) -> None:
    """Every replayed store keeps nothing older than `cutoff`, as a retention would."""
    for name in ("_metric_series", "_metric_keys", "_log_template_counts", "_spans", "_span_stats"):
        read = getattr(ReplayBackend, name)

        def kept(self: ReplayBackend, window: TimeWindow, *args: Any, _read: Any = read) -> Any:
            start = max(window.start_s, to_epoch(cutoff))
            return _read(self, TimeWindow.of(start, max(start, window.end_s)), *args)

        monkeypatch.setattr(ReplayBackend, name, kept)
