"""The postmortem drafted on resolve: shaped by the severity's retrospective policy,
cited, blameless, in English and Japanese, pending until a person decides; once
approved it is exported, remembered and the incident closed."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from agent.incident.lifecycle import entry_ids, lifecycle
from agent.incident.models import Incident, RootCause
from agent.policy.load import default_policy
from agent.policy.models import Retrospective
from agent.retrospective.document import approved_items, drafted
from agent.retrospective.due import business_days_after
from agent.retrospective.write import write_postmortem
from agent.server.app import Server
from tests.server.support import LearningMemory

ACKER, RESOLVER = "Sato Ken", "Tanaka Hiro"
FACTUAL = ("summary", "impact", "timeline", "root_cause", "action_items")


def resolved(server: Server, incident_id: str) -> Incident:
    desk = server.desk
    desk.acknowledge(incident_id, ACKER)
    need = "more DB connections, ask sato.ken@example.com"
    desk.record(incident_id, "note", need, ACKER, {"note_kind": "need"})
    desk.mitigate(incident_id, ACKER, "rolled back payment")
    cause = RootCause(service="payment", fault_type="bad-deploy", change_id="chg-7")
    return desk.resolve(incident_id, RESOLVER, cause)


def cited(incident: Incident) -> set[str]:
    evidence = {e.id for e in incident.isolation.evidence} if incident.isolation else set()
    return evidence | entry_ids(incident)


def test_resolving_drafts_a_pending_cited_blameless_postmortem(
    server: Server, incident_id: str
) -> None:
    incident = resolved(server, incident_id)
    draft = next(d for d in incident.drafts if d.kind == "postmortem")
    assert draft.state == "pending" and draft.channel == "outbox"
    postmortem = drafted(draft)
    assert incident.severity is not None
    retro = server.ctx.policy.severity.levels[incident.severity.level].retrospective
    assert [s.key for s in postmortem.sections] == list(retro.sections)
    assert set(postmortem.cites) <= cited(incident) and postmortem.cites
    for section in postmortem.sections:
        if section.key in FACTUAL:
            assert all(line.cites for line in section.lines), section.key
    assert ACKER not in draft.body and RESOLVER not in draft.body, "blameless: no names"
    assert "sato.ken@example.com" not in draft.body, "personal data is masked"
    assert "chg-7" in draft.body and "more DB connections" in draft.body
    items = approved_items(draft)
    assert any("more DB connections" in i for i in items) and all("Owner:" in i for i in items)
    resolved_at = incident.root_cause.at if incident.root_cause else None
    assert resolved_at is not None
    assert postmortem.due > resolved_at.date() and postmortem.due.weekday() < 5
    assert any(e.kind == "draft" and "postmortem" in e.text for e in incident.timeline)


def test_the_japanese_postmortem_is_japanese_throughout(server: Server, incident_id: str) -> None:
    incident = resolved(server, incident_id)
    draft = server.desk.postmortem(incident_id, "ja", "aki")
    assert draft.language == "ja" and draft.state == "pending" and draft.revision >= 1
    names = {*incident.services, *(a.name for a in incident.alerts), "alertmanager"}
    names |= {e.service for e in incident.isolation.evidence} if incident.isolation else set()
    text = re.sub(
        r"\[[^\]]*\]|「[^」]*」|INC-[\d-]+|chg-\d+|SEV\d|\(JST\)|（JST）", " ", draft.body
    )
    leftover = {w for w in re.findall(r"[A-Za-z][A-Za-z_-]{2,}", text) if w not in names}
    assert leftover <= {"CSIRT", "CPU"}, leftover
    assert "## 根本原因ときっかけ" in draft.body and "担当" in draft.body
    assert ": " not in text, "Japanese punctuation (：), as the drafts write it"
    assert draft.title.startswith("ポストモーテム：")


def test_approval_exports_remembers_and_closes(
    client: TestClient, server: Server, incident_id: str
) -> None:
    memory = LearningMemory()
    server.ctx.memory = memory  # type: ignore[assignment]
    draft = next(d for d in resolved(server, incident_id).drafts if d.kind == "postmortem")
    base = f"/v1/incidents/{incident_id}/drafts/{draft.id}"
    assert client.post(f"{base}/reject", json={"by": "aki"}).status_code == 422  # needs a reason
    edited = draft.body + "\nReviewed in the weekly review.\n"
    reply = client.post(f"{base}/edit", json={"by": "aki", "body": edited})
    assert reply.status_code == 200, reply.text
    assert reply.json()["draft"]["state"] == "sent"
    incident = server.ctx.store.get(incident_id)
    assert incident.status == "closed" and lifecycle(incident).stages[-1].by == "aki"
    exported = Path(server.ctx.home) / "postmortems" / f"{incident_id}.md"
    assert exported.read_text(encoding="utf-8") == edited
    final = memory.learned[-1]
    assert final.id == incident_id and "postmortem" in final.tags
    assert final.action_items and str(exported) in final.links
    assert client.post(f"{base}/approve", json={"by": "aki"}).status_code == 409


def test_a_light_retrospective_has_its_sections_and_business_day_deadline(
    server: Server, incident_id: str
) -> None:
    incident = resolved(server, incident_id)
    policy = default_policy()
    assert incident.severity is not None and incident.root_cause is not None
    light = Retrospective(
        template="light", sections=["summary", "action_items"], due_business_days=3,
        reviewers=["owner", "csirt"],
    )  # fmt: skip
    level = policy.severity.levels[incident.severity.level].model_copy(
        update={"retrospective": light}
    )
    levels = {**policy.severity.levels, incident.severity.level: level}
    shaped = policy.model_copy(
        update={"severity": policy.severity.model_copy(update={"levels": levels})}
    )
    postmortem = write_postmortem(incident, shaped, "en", incident.root_cause.at)
    assert [s.key for s in postmortem.sections] == ["summary", "action_items"]
    assert postmortem.template == "light" and postmortem.reviewers == ["Payments", "the CSIRT"]
    local = incident.root_cause.at.astimezone(ZoneInfo(policy.organisation.timezone)).date()
    rotations = policy.rotations
    assert postmortem.due == business_days_after(
        local, 3, rotations.duty.working_days, rotations.holidays
    )


def test_business_days_skip_weekends_and_holidays() -> None:
    friday = date(2026, 12, 4)
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    assert business_days_after(friday, 1, weekdays, []) == date(2026, 12, 7)
    assert business_days_after(friday, 5, weekdays, [date(2026, 12, 8)]) == date(2026, 12, 14)


def test_the_timeline_names_the_draft_approved_even_once_it_was_withdrawn(
    client: TestClient, server: Server, incident_id: str
) -> None:
    """A responder update approved, redrafted, then withdrawn on resolve is still the
    responder update in the postmortem, not a page (no page was approved)."""
    update = f"{incident_id}-responder_update"
    approve = f"/v1/incidents/{incident_id}/drafts/{update}/approve"
    assert client.post(approve, json={"by": "aki"}).status_code == 200
    server.desk.redraft(incident_id, "responder_update", "aki")
    incident = resolved(server, incident_id)
    assert update not in {d.id for d in incident.drafts}, "withdrawn on resolve"
    body = next(d for d in incident.drafts if d.kind == "postmortem").body
    assert "approved the responder update" in body and "approved the page" not in body
    ja = server.desk.postmortem(incident_id, "ja", "aki").body
    assert "対応状況の共有を承認" in ja and "呼び出しを承認" not in ja
