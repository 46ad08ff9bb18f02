"""A simulated attack through the real triage graph: the engine names a security
fault at the attacked service, policy puts the CSIRT in command and holds every
external word for legal and PR, an ordinary approval is not enough to publish,
and no attacker address or payload reaches an outside audience.

The cases come from the estate simulator (docs/simulator.md): credential
stuffing against auth, and an SQL injection / path traversal scan at the edge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from agent.approval.models import Decision
from agent.approval.service import ApprovalError
from agent.config import TriageConfig
from agent.context import build_context
from agent.draft.lint import is_outside
from agent.draft.models import Draft
from agent.incident.models import Incident
from agent.policy.load import default_policy
from agent.runner import RunOutcome, TriageRunner
from evals.alert_intake import case_alerts
from evals.simulator.estate import Estate
from evals.simulator.generate import Options, generate
from tools.analysis.security import access_request, attack_signature, is_auth_failure, public_ips
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import CaseRecord

FAULTS = ("credential-stuffing", "web-attack")
# Half the documented log volume: at a fifth, a slow scanner's thinned access lines
# can fall below what the signature detector counts as an attack.
VOLUME = 0.5


@dataclass
class Attack:
    """One simulated attack: its dataset, case, truth and what the attacker logged."""

    dataset: ReplayDataset
    case: CaseRecord
    truth: dict[str, Any]
    attack_lines: list[str]


@pytest.fixture(scope="module")
def attacks(tmp_path_factory: pytest.TempPathFactory, _isolated_cache: None) -> dict[str, Attack]:
    root = tmp_path_factory.mktemp("sim-security") / "dataset"
    options = Options(out=root, seed=5, cases=len(FAULTS), faults=FAULTS, volume=VOLUME)
    summary = generate(options, Estate.from_policy(), keep=True)
    dataset = ReplayDataset.open(root)
    cases = {c.id: c for c in dataset.cases()}
    out = {}
    for output in summary.outputs:
        messages = [json.loads(line)["message"] for _, line in output.logs]
        hostile = [m for m in messages if is_auth_failure(m) or attack_signature(m)]
        out[output.truth["fault"]] = Attack(
            dataset, cases[output.case["id"]], output.truth, hostile
        )
    assert set(out) == set(FAULTS)
    return out


def triage(attack: Attack, home: Path) -> tuple[TriageRunner, RunOutcome]:
    ctx = build_context(TriageConfig(language="en"), home=home, telemetry=attack.dataset.at)
    runner = TriageRunner(ctx)
    return runner, runner.run(case_alerts(attack.case), attack.case.now)


@pytest.fixture(scope="module", params=FAULTS)
def triaged(
    request: pytest.FixtureRequest,
    attacks: dict[str, Attack],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Attack, Incident]:
    """Each attack triaged once, up to the approval step (read-only tests share it)."""
    attack = attacks[request.param]
    _, outcome = triage(attack, tmp_path_factory.mktemp(f"home-{request.param}"))
    assert outcome.waiting
    return attack, outcome.incident


def drafted(incident: Incident, kind: str) -> Draft:
    return next(d for d in incident.drafts if d.kind == kind)


def top_service(incident: Incident) -> str:
    assert incident.isolation is not None
    top = incident.isolation.top()
    assert top is not None
    return top.service


def outbox_lines(runner: TriageRunner) -> list[str]:
    path = Path(runner.ctx.dispatch.outbox_path)
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def hostile_tokens(attack: Attack) -> set[str]:
    """What must never reach outsiders, from every failed-login and attack line:
    the line itself, its addresses, and an attack's request path and payload
    (raw and decoded)."""
    tokens: set[str] = set()
    for line in attack.attack_lines:
        tokens.add(line)
        tokens.update(public_ips(line))
        request = access_request(line)
        if request is not None and attack_signature(line):
            tokens.update(
                {request[1], unquote_plus(request[1]), unquote_plus(unquote_plus(request[1]))}
            )
    return {t for t in tokens if len(t) >= 7}


# -- what the engine and the policy decide ------------------------------------------------


def test_the_top_suspect_is_a_security_fault_at_the_attacked_service(
    triaged: tuple[Attack, Incident],
) -> None:
    attack, incident = triaged
    assert incident.isolation is not None
    top = incident.isolation.top()
    assert top is not None
    assert top.fault_type == "security"
    assert top.service == attack.truth["root_cause"]["service"]
    cited = incident.isolation.evidence_by_id()
    signals = {cited[i].signal for i in top.evidence_ids if i in cited}
    assert any(s.startswith("security_") for s in signals), signals
    security = [e for e in incident.isolation.evidence if e.signal.startswith("security_")]
    assert all(e.summary_ja.endswith("。") and e.service in e.summary_ja for e in security)


def test_a_security_incident_is_sev1_with_the_csirt_in_command(
    triaged: tuple[Attack, Incident],
) -> None:
    attack, incident = triaged
    assert incident.severity is not None and incident.routing is not None
    assert incident.severity.level == attack.truth["severity"] == "SEV1"
    routing = incident.routing
    # The owning team of the attacked service takes the page (docs/policy.md);
    # the CSIRT lead commands and CSIRT, legal and PR are engaged.
    owner = default_policy().service(top_service(incident))
    assert owner is not None
    assert routing.page_team == owner.team == attack.truth["page_team"]
    assert routing.incident_commander.team == "csirt"
    assert routing.incident_commander.rotation == "csirt"
    assert {"csirt", "legal", "pr"} <= {p.team for p in routing.paged}
    assert routing.approvals_required == ["legal", "pr"]


def test_external_drafts_wait_for_legal_and_pr(triaged: tuple[Attack, Incident]) -> None:
    _, incident = triaged
    for kind in ("status_update", "pr_statement"):
        draft = drafted(incident, kind)
        assert is_outside(draft)
        assert {"legal", "pr"} <= set(draft.payload["approvals_required"]), kind
        assert draft.state == "pending"
    assert "approvals_required" not in drafted(incident, "page").payload


def test_no_attacker_address_or_payload_reaches_an_outside_audience(
    triaged: tuple[Attack, Incident],
) -> None:
    attack, incident = triaged
    tokens = hostile_tokens(attack)
    assert tokens, "the simulated attack left lines behind"
    outside = [d for d in incident.drafts if is_outside(d)]
    assert {d.kind for d in outside} >= {"status_update", "pr_statement"}
    for draft in outside:
        text = "\n".join([draft.title, draft.body, json.dumps(draft.payload)])
        leaked = sorted(t for t in tokens if t in text)
        assert not leaked, (draft.kind, leaked[:3])
    # The check is not vacuous: the responders' own view carries raw log detail.
    assert incident.isolation is not None
    inside = [d.body for d in incident.drafts if not is_outside(d)]
    inside += [e.summary for e in incident.isolation.evidence]
    assert any(t in "\n".join(inside) for t in tokens)


# -- approval: every role must sign before the status page changes --------------------------


def test_the_status_update_leaves_only_after_legal_and_pr_sign_off(
    attacks: dict[str, Attack], tmp_path: Path
) -> None:
    runner, outcome = triage(attacks["credential-stuffing"], tmp_path / "home")
    incident = outcome.incident
    status = drafted(incident, "status_update")

    ordinary = Decision(draft_id=status.id, action="approve", by="aki")
    after = runner.decide(incident.id, ordinary)
    held = after.incident.draft(status.id)
    assert held is not None and held.state == "pending"
    assert status.id in {p["id"] for p in after.pending}
    assert not any(status.id in line for line in outbox_lines(runner))
    assert "still needs sign-off from legal, pr" in after.incident.timeline[-1].text

    legal = Decision(draft_id=status.id, action="approve", by="ogawa", role="legal")
    after = runner.decide(incident.id, legal)
    held = after.incident.draft(status.id)
    assert held is not None and held.state == "pending"
    assert not any(status.id in line for line in outbox_lines(runner))

    pr = Decision(draft_id=status.id, action="approve", by="ikeda", role="pr")
    after = runner.decide(incident.id, pr)
    sent = after.incident.draft(status.id)
    assert sent is not None and sent.state == "sent"
    assert sum(status.id in line for line in outbox_lines(runner)) == 1
    assert status.id not in {p["id"] for p in after.pending}
    assert {a.role for a in after.incident.approvals if a.draft_id == status.id} == {
        None,
        "legal",
        "pr",
    }

    with pytest.raises(ApprovalError):
        runner.decide(incident.id, pr)
    assert sum(status.id in line for line in outbox_lines(runner)) == 1


def test_a_role_the_draft_does_not_ask_for_is_refused(
    attacks: dict[str, Attack], tmp_path: Path
) -> None:
    runner, outcome = triage(attacks["credential-stuffing"], tmp_path / "home")
    incident = outcome.incident
    status = drafted(incident, "status_update")
    page = drafted(incident, "page")
    with pytest.raises(ApprovalError, match="needs legal, pr"):
        runner.decide(
            incident.id, Decision(draft_id=status.id, action="approve", by="x", role="cto")
        )
    with pytest.raises(ApprovalError, match="no role sign-off"):
        runner.decide(
            incident.id, Decision(draft_id=page.id, action="approve", by="x", role="legal")
        )
    assert outbox_lines(runner) == []
