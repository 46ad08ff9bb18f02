"""Who is on call: time zones, hand-offs, fixed terms, weekends, holidays, overrides.

The example's rotas (config/policy.example.yaml), all in Asia/Tokyo:
- duty: working days 09:30-18:30, a new member each working day in listed
  order; first term Sato, Takahashi, Ito, Watanabe (2026-04-01..09-30),
  second term Nakamura, Kobayashi, Yamamoto, Kato (2026-10-01..2027-03-31).
- cover: weekly from Friday 18:30 (2026-04-03): Yoshida, Yamada, Sasaki, Yamaguchi.
- senior_ic / csirt: weekly from Monday 09:30 (2026-04-06); teams.*: Monday 10:00.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from agent.policy import Policy, PolicyError
from agent.routing.oncall import resolve_on_call, who_is_on_call
from tests.policy.conftest import jst


def duty(policy: Policy, at: datetime) -> tuple[str, str | None]:
    responder = who_is_on_call(policy, "duty", at)
    return responder.name, responder.rotation


@pytest.mark.parametrize(
    ("at", "name", "rotation"),
    [
        # Last day of the first term, first day of the second: the new cohort
        # starts from its first listed member.
        (jst("2026-09-30 10:00"), "Takahashi Mei", "duty"),
        (jst("2026-10-01 10:00"), "Nakamura Ren", "duty"),
        (jst("2026-10-02 10:00"), "Kobayashi Aoi", "duty"),
        # Weekends don't use up turns: Monday follows Friday.
        (jst("2026-10-05 10:00"), "Yamamoto Daiki", "duty"),
        (jst("2026-10-06 18:29"), "Kato Hina", "duty"),
        # Holidays neither: Monday 10-12 is Sports Day, the cover rota answers,
        # and Tuesday carries on where Friday stopped.
        (jst("2026-10-09 10:00"), "Yamamoto Daiki", "duty"),
        (jst("2026-10-12 10:00"), "Yamaguchi Rin", "cover"),
        (jst("2026-10-13 10:00"), "Kato Hina", "duty"),
        # Before the 09:30 hand-off and after 18:30: out of hours, cover.
        (jst("2026-10-01 09:10"), "Yamada Sakura", "cover"),
        (jst("2026-10-01 18:30"), "Yamada Sakura", "cover"),
        # Weekend: the cover shift that started Friday 18:30.
        (jst("2026-10-03 10:00"), "Sasaki Yuto", "cover"),
        (jst("2026-10-04 23:00"), "Sasaki Yuto", "cover"),
    ],
)
def test_duty_across_terms_weekends_holidays_and_hours(
    policy: Policy, at: datetime, name: str, rotation: str
) -> None:
    assert duty(policy, at) == (name, rotation)


@pytest.mark.parametrize(
    ("at", "name", "rotation"),
    [
        # 00:10 UTC on Friday is 09:10 Friday in Tokyo: before hand-off.
        (datetime(2026, 10, 2, 0, 10, tzinfo=UTC), "Yamada Sakura", "cover"),
        # 00:30 UTC on Friday is the 09:30 hand-off in Tokyo.
        (datetime(2026, 10, 2, 0, 30, tzinfo=UTC), "Kobayashi Aoi", "duty"),
        # Still Friday in UTC, already Saturday in Tokyo: the weekend cover.
        (datetime(2026, 10, 2, 15, 30, tzinfo=UTC), "Sasaki Yuto", "cover"),
        # 09:29 UTC on Friday is 18:29 in Tokyo: last minute of the Friday duty.
        (datetime(2026, 10, 2, 9, 29, tzinfo=UTC), "Kobayashi Aoi", "duty"),
        # Naive datetimes are UTC, as everywhere in the project.
        (datetime(2026, 10, 2, 0, 30), "Kobayashi Aoi", "duty"),
    ],
)
def test_instants_are_read_in_the_rotations_time_zone(
    policy: Policy, at: datetime, name: str, rotation: str
) -> None:
    assert duty(policy, at) == (name, rotation)


def test_the_shift_belongs_to_the_day_it_started_on(
    policy_with: Callable[..., Policy],
) -> None:
    """Without working hours the duty shift runs hand-off to hand-off, so
    Saturday 09:10 in Tokyo is still Friday's member, and 09:30 is cover."""
    policy = policy_with(('    working_hours: { start: "09:30", end: "18:30" }\n', ""))
    assert duty(policy, datetime(2026, 10, 3, 0, 10, tzinfo=UTC)) == ("Kobayashi Aoi", "duty")
    assert duty(policy, datetime(2026, 10, 3, 0, 30, tzinfo=UTC)) == ("Sasaki Yuto", "cover")
    # Thursday 03:00 is Wednesday's duty shift (the last of the first term).
    assert duty(policy, jst("2026-10-01 03:00")) == ("Takahashi Mei", "duty")


def test_an_override_replaces_the_shift_and_says_so(policy: Policy) -> None:
    on_call = resolve_on_call(policy, "duty", jst("2026-08-13 10:00"))
    assert on_call.responder.name == "Watanabe Yui"
    assert "instead of Ito Sota" in on_call.reason
    # The member stood down is not the secondary either.
    assert on_call.secondary is not None and on_call.secondary.name == "Sato Haruki"
    # The day before and after, the order is untouched.
    assert duty(policy, jst("2026-08-12 10:00")) == ("Takahashi Mei", "duty")
    assert duty(policy, jst("2026-08-14 10:00")) == ("Watanabe Yui", "duty")


def test_an_override_of_the_cover_rota_with_its_own_contact(policy: Policy) -> None:
    responder = who_is_on_call(policy, "duty", jst("2027-01-01 15:00"))
    assert (responder.name, responder.rotation) == ("Suzuki Kenji", "cover")
    assert responder.contact == "k.suzuki@sakuramart.example"


@pytest.mark.parametrize(
    ("at", "name"),
    [
        (jst("2026-05-18 09:59"), "Endo Haruto"),
        (jst("2026-05-18 10:00"), "Saito Yuma"),
        (jst("2026-05-25 10:00"), "Sakamoto Riko"),
    ],
)
def test_weekly_team_rotation_hands_off_on_monday_at_ten(
    policy: Policy, at: datetime, name: str
) -> None:
    responder = who_is_on_call(policy, "teams.payments", at)
    assert (responder.name, responder.team, responder.rotation) == (
        name,
        "payments",
        "teams.payments",
    )


def test_senior_ic_and_csirt_rotations(policy: Policy) -> None:
    at = jst("2026-05-14 10:00")
    assert who_is_on_call(policy, "senior_ic", at).name == "Kimura Shun"
    csirt = who_is_on_call(policy, "csirt", at)
    assert (csirt.name, csirt.team, csirt.timezone) == ("Abe Nozomi", "csirt", "Asia/Singapore")


def test_when_every_term_has_ended_the_leader_answers(policy: Policy) -> None:
    on_call = resolve_on_call(policy, "duty", jst("2027-04-01 10:00"))
    assert on_call.responder.name == "Suzuki Kenji"
    assert "no member's term covers 2027-04-01" in on_call.reason


def test_an_unknown_rotation_is_a_policy_error(policy: Policy) -> None:
    with pytest.raises(PolicyError, match=r"unknown rotation 'teams\.sre'"):
        who_is_on_call(policy, "teams.sre", jst("2026-05-14 10:00"))


def test_the_reason_says_why_the_cover_rota_answers(policy: Policy) -> None:
    reason = resolve_on_call(policy, "duty", jst("2026-05-06 10:00")).reason
    assert "2026-05-06, a holiday" in reason
    assert "cover rota answers" in reason
