"""Routing: who is paged, who commands, and the unacknowledged escalation chain.

Thursday 2026-05-14 10:00 in Tokyo, in the example policy: duty Watanabe Yui
(next: Sato Haruki), senior IC Kimura Shun, CSIRT lead Abe Nozomi, payments
Endo Haruto, discovery Fujii Saki, commerce Ishii Koki, identity Hasegawa Emi.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from agent.policy import Policy
from agent.routing.command import UnknownPerson, commander_named, handed_over, kept_command
from agent.routing.models import Routing
from agent.routing.route import escalate_unacknowledged, route
from agent.severity.models import SeverityAssessment
from tests.policy.conftest import jst
from tools.telemetry.replay.format import Severity

THURSDAY = jst("2026-05-14 10:00")


def at_level(level: Severity, engage: list[str] | None = None) -> SeverityAssessment:
    return SeverityAssessment(level=level, rule="test", status_every_min=0, engage=engage or [])


def names(routing: Routing) -> list[tuple[str, str]]:
    return [(r.name, r.role) for r in routing.paged]


def test_a_contained_incident_is_commanded_by_the_first_responder(policy: Policy) -> None:
    routing = route(policy, "search", at_level("SEV3"), THURSDAY)
    assert routing.page_team == "discovery"
    assert names(routing) == [("Fujii Saki", "on-call"), ("Watanabe Yui", "first-responder")]
    commander = routing.incident_commander
    assert (commander.name, commander.role, commander.rotation) == (
        "Watanabe Yui",
        "incident-commander",
        "duty",
    )
    assert routing.approvals_required == []


def test_the_unacknowledged_chain_with_due_times(policy: Policy) -> None:
    routing = route(policy, "search", at_level("SEV3"), THURSDAY)
    timed = [
        (step.to.name, step.to.role, step.after_min, step.due_at)
        for step in routing.escalations
        if step.after_min is not None
    ]
    assert timed == [
        ("Aoki Minato", "secondary", 10, THURSDAY + timedelta(minutes=10)),
        ("Sato Haruki", "secondary", 10, THURSDAY + timedelta(minutes=10)),
        ("Harada Jun", "leader", 20, THURSDAY + timedelta(minutes=20)),
        ("Suzuki Kenji", "leader", 20, THURSDAY + timedelta(minutes=20)),
        ("Kimura Shun", "senior-ic", 30, THURSDAY + timedelta(minutes=30)),
    ]
    assert routing.escalations[0].when == "Fujii Saki has not acknowledged after 10 min"


def test_below_the_escalation_level_a_pending_step_names_the_senior_ic(policy: Policy) -> None:
    routing = route(policy, "search", at_level("SEV3"), THURSDAY)
    pending = [step for step in routing.escalations if step.after_min is None]
    assert len(pending) == 1
    assert pending[0].when == "severity reaches SEV2"
    assert (pending[0].to.name, pending[0].to.role) == ("Kimura Shun", "incident-commander")
    assert pending[0].due_at is None


@pytest.mark.parametrize(
    ("level", "commander", "rotation"),
    [
        ("SEV4", "Watanabe Yui", "duty"),
        ("SEV3", "Watanabe Yui", "duty"),
        ("SEV2", "Kimura Shun", "senior_ic"),
        ("SEV1", "Kimura Shun", "senior_ic"),
    ],
)
def test_command_moves_to_the_senior_ic_at_the_escalation_level(
    policy: Policy, level: Severity, commander: str, rotation: str
) -> None:
    routing = route(policy, "checkout", at_level(level), THURSDAY)
    assert (routing.incident_commander.name, routing.incident_commander.rotation) == (
        commander,
        rotation,
    )
    # The first responder is paged whoever commands.
    assert ("Watanabe Yui", "first-responder") in names(routing)


def test_the_escalation_level_is_policy(policy_with: Callable[..., Policy]) -> None:
    strict = policy_with(("  senior_ic_at: SEV2", "  senior_ic_at: SEV1"))
    routing = route(strict, "checkout", at_level("SEV2"), THURSDAY)
    assert routing.incident_commander.name == "Watanabe Yui"
    assert [s.when for s in routing.escalations if s.after_min is None] == ["severity reaches SEV1"]


def test_sev2_pulls_in_the_senior_ic_and_pr_but_not_executives(policy: Policy) -> None:
    routing = route(policy, "checkout", at_level("SEV2"), THURSDAY)
    assert routing.page_team == "commerce"
    assert names(routing) == [
        ("Ishii Koki", "on-call"),
        ("Watanabe Yui", "first-responder"),
        ("Kimura Shun", "senior-ic"),
        ("Ikeda Nana", "pr"),
    ]
    assert "SEV2 is SEV2 or worse: senior IC Kimura Shun takes command from Watanabe Yui" in (
        routing.reasons
    )


def test_sev1_pages_the_duty_leader_executives_and_pr(policy: Policy) -> None:
    routing = route(policy, "payment", at_level("SEV1"), THURSDAY)
    assert names(routing) == [
        ("Endo Haruto", "on-call"),
        ("Watanabe Yui", "first-responder"),
        ("Kimura Shun", "senior-ic"),
        ("Suzuki Kenji", "duty-leader"),
        ("Yamashita Takeshi", "executive"),
        ("Ikeda Nana", "pr"),
    ]
    # Nobody already paged is escalated to.
    paged = {r.name for r in routing.paged}
    assert not paged & {step.to.name for step in routing.escalations}


def test_who_is_engaged_comes_from_the_policy_level_not_a_stale_assessment(
    policy: Policy,
) -> None:
    relevelled = at_level("SEV1", engage=["duty"])
    roles = {r.role for r in route(policy, "payment", relevelled, THURSDAY).paged}
    assert {"executive", "pr", "duty-leader"} <= roles


def test_a_security_incident_goes_to_the_csirt_with_legal_and_pr_approval(
    policy: Policy,
) -> None:
    routing = route(policy, "auth", at_level("SEV2"), THURSDAY, security=True)
    commander = routing.incident_commander
    assert (commander.name, commander.team, commander.role, commander.timezone) == (
        "Abe Nozomi",
        "csirt",
        "incident-commander",
        "Asia/Singapore",
    )
    assert names(routing) == [
        ("Hasegawa Emi", "on-call"),
        ("Watanabe Yui", "first-responder"),
        ("Abe Nozomi", "csirt-lead"),
        ("Kimura Shun", "senior-ic"),
        ("Ikeda Nana", "pr"),
        ("Ogawa Misaki", "legal"),
    ]
    assert routing.approvals_required == ["legal", "pr"]
    assert "security: legal and pr must approve any external message" in routing.reasons
    assert all(step.after_min is not None for step in routing.escalations)


def test_an_unknown_service_goes_to_the_fallback_team(policy: Policy) -> None:
    saturday = jst("2026-05-16 10:00")
    routing = route(policy, "legacy-billing", at_level("SEV3"), saturday)
    assert routing.page_team == "duty"
    # The duty team's on-call is the weekend cover, who is also first responder: paged once.
    assert names(routing) == [("Sasaki Yuto", "first-responder")]
    assert routing.incident_commander.rotation == "cover"
    assert routing.reasons[0] == (
        "'legacy-billing' is not in the service catalogue, so the fallback team duty takes the page"
    )


def test_no_suspect_goes_to_the_fallback_team(policy: Policy) -> None:
    routing = route(policy, None, at_level("SEV4"), THURSDAY)
    assert routing.page_team == "duty"
    assert routing.reasons[0].startswith("no suspected service")


def test_escalations_fire_counting_from_when_the_page_went_out(policy: Policy) -> None:
    routing = route(policy, "search", at_level("SEV3"), THURSDAY)
    paged_at = THURSDAY + timedelta(minutes=5)  # approved five minutes after drafting

    def due(minutes: int) -> list[str]:
        now = paged_at + timedelta(minutes=minutes)
        return [s.to.name for s in escalate_unacknowledged(policy, routing, paged_at, now)]

    assert due(9) == []
    assert due(10) == ["Aoki Minato", "Sato Haruki"]
    assert due(29) == ["Aoki Minato", "Sato Haruki", "Harada Jun", "Suzuki Kenji"]
    assert due(120)[-1] == "Kimura Shun"  # the pending severity step never fires by time
    fired = escalate_unacknowledged(policy, routing, paged_at, paged_at + timedelta(minutes=10))
    assert [s.due_at for s in fired] == [paged_at + timedelta(minutes=10)] * 2


def test_a_rotation_target_is_whoever_holds_the_shift_when_the_step_fires(
    policy: Policy,
) -> None:
    """Drafted Monday 08:50, paged 09:05: the senior IC step fires at 09:35, after
    the 09:30 hand-off, so it pages the new senior IC, not the one routing saw."""
    drafted = jst("2026-05-18 08:50")
    routing = route(policy, "search", at_level("SEV3"), drafted)
    senior = next(s for s in routing.escalations if s.target == "senior_ic" and s.after_min)
    assert senior.to.name == "Kimura Shun"
    paged_at = jst("2026-05-18 09:05")
    fired = escalate_unacknowledged(policy, routing, paged_at, jst("2026-05-18 09:40"))
    step = next(s for s in fired if s.target == "senior_ic")
    assert (step.to.name, step.to.role, step.due_at) == (
        "Matsumoto Hiroshi",
        "senior-ic",
        jst("2026-05-18 09:35"),
    )


def test_naive_instants_are_utc(policy: Policy) -> None:
    aware = route(policy, "search", at_level("SEV3"), THURSDAY)
    naive_utc = (THURSDAY - timedelta(hours=9)).replace(tzinfo=None)
    naive = route(policy, "search", at_level("SEV3"), naive_utc)
    assert naive == aware
    assert isinstance(naive.escalations[0].due_at, datetime)


def test_command_handed_to_a_senior_ic_by_hand_stays_with_them_and_closes_the_step(
    policy: Policy,
) -> None:
    """An IC hands command to a senior IC as scope grows; a later routing (a
    re-investigation) leaves it with them, and the severity step that would have handed
    it to the senior IC on call is done."""
    routing = route(policy, "search", at_level("SEV3"), THURSDAY)
    assert any(s.target == "senior_ic" and s.after_min is None for s in routing.escalations)
    handed = handed_over(routing, commander_named(policy, "  inoue   AKIKO "))
    ic = handed.incident_commander
    assert (ic.name, ic.role, ic.rotation) == ("Inoue Akiko", "incident-commander", "senior_ic")
    assert ic.contact == "a.inoue@sakuramart.example", "the address comes from the policy"
    assert not any(s.target == "senior_ic" and s.after_min is None for s in handed.escalations)
    again = kept_command(policy, route(policy, "search", at_level("SEV2"), THURSDAY), ic.name)
    assert again.incident_commander.name == "Inoue Akiko"
    assert kept_command(policy, routing, None) == routing
    assert kept_command(policy, routing, "Left The Company") == routing


def test_command_is_refused_to_a_name_the_policy_does_not_know(policy: Policy) -> None:
    with pytest.raises(UnknownPerson, match=r"'Nobody Here' is not a person .*Kimura Shun"):
        commander_named(policy, "Nobody Here")
