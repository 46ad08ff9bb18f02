"""Loading the policy: the example, the bundled copy, and errors that name their place."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from agent.policy import PolicyError, default_policy, load_policy, parse_policy
from agent.policy.load import DEFAULT_POLICY_FILE
from tests.policy.conftest import EXAMPLE, example_text, variant

# The demo estate `make demo` and the simulator rely on:
# name: (kind, team, tier, user_facing, depends_on)
DEMO_ESTATE = {
    "web-frontend": ("frontend", "web", 1, True, ["api-gateway"]),
    "api-gateway": (
        "service",
        "web",
        1,
        True,
        ["auth", "cart", "checkout", "search", "recommendations"],
    ),
    "auth": ("service", "identity", 1, True, ["cache", "orders-db"]),
    "cart": ("service", "commerce", 2, True, ["cache", "inventory"]),
    "checkout": (
        "service",
        "commerce",
        1,
        True,
        ["cart", "payment", "inventory", "orders-db", "queue"],
    ),
    "payment": ("service", "payments", 1, False, ["psp", "orders-db"]),
    "psp": ("external", "payments", 1, False, None),
    "inventory": ("service", "commerce", 2, False, ["orders-db", "cache"]),
    "search": ("service", "discovery", 2, True, ["cache", "object-storage"]),
    "recommendations": ("service", "discovery", 3, True, ["search", "cache"]),
    "notifications": ("service", "messaging", 3, False, ["queue"]),
    "orders-db": ("database", "platform", 1, False, None),
    "cache": ("cache", "platform", 2, False, None),
    "queue": ("queue", "platform", 2, False, None),
    "object-storage": ("storage", "platform", 2, False, None),
    "settlement-batch": (
        "function",
        "payments",
        3,
        False,
        ["orders-db", "payment", "object-storage"],
    ),
}


def problem_of(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "policy.yaml")
    return caught.value


# -- the example ----------------------------------------------------------------


def test_the_example_loads_from_its_file() -> None:
    policy = load_policy(EXAMPLE)
    assert policy.language == "ja"
    assert policy.organisation.timezone == "Asia/Tokyo"
    assert {t.name for t in policy.teams} >= {
        "web",
        "identity",
        "commerce",
        "payments",
        "discovery",
        "messaging",
        "platform",
        "csirt",
        "pr",
        "executives",
        "duty",
    }
    csirt = policy.team("csirt")
    assert csirt is not None and csirt.kind == "security"


def test_the_example_has_exactly_the_demo_estate() -> None:
    policy = load_policy(EXAMPLE)
    found = {s.name: (s.kind, s.team, s.tier, s.user_facing, s.depends_on) for s in policy.services}
    assert found == DEMO_ESTATE


def test_every_service_has_a_public_name_in_both_languages() -> None:
    for service in load_policy(EXAMPLE).services:
        assert service.public_name is not None
        assert service.public_name.en and service.public_name.ja
        assert service.public_name.get("ja") != service.name
    checkout = load_policy(EXAMPLE).service("checkout")
    assert checkout is not None and checkout.public_name is not None
    assert checkout.public_name.get("ja") == "ご購入手続き"


def test_the_bundled_default_is_a_byte_identical_copy_of_the_example() -> None:
    bundled = Path(__file__).resolve().parents[2] / "agent" / "policy" / DEFAULT_POLICY_FILE
    assert bundled.read_bytes() == EXAMPLE.read_bytes(), (
        "agent/policy/default_policy.yaml drifted from config/policy.example.yaml:"
        " cp config/policy.example.yaml agent/policy/default_policy.yaml"
    )
    assert default_policy() == load_policy(EXAMPLE)


def test_the_example_rotations_are_staffed_through_the_second_term() -> None:
    load_policy(EXAMPLE, today=date(2026, 4, 1))
    load_policy(EXAMPLE, today=date(2027, 3, 31))


def test_services_resolve_by_alias_in_any_case() -> None:
    policy = default_policy()
    found = [policy.service(name) for name in ("Checkout-Service", "redis", "billing")]
    assert [s.name if s else None for s in found] == ["checkout", "cache", None]


# -- errors name their place ----------------------------------------------------

PAYMENT_TEAM = (
    "    team: payments\n    tier: 1\n    user_facing: false\n    public_name: { en: Payments"
)


@pytest.mark.parametrize(
    ("edits", "path", "says"),
    [
        (
            [(PAYMENT_TEAM, PAYMENT_TEAM.replace("payments", "paymnts", 1))],
            "services[5].team",
            "unknown team 'paymnts' (known: commerce, csirt,",
        ),
        (
            [(PAYMENT_TEAM, PAYMENT_TEAM.replace("payments", "paymnts", 1))],
            "services[5].team",
            "did you mean 'payments'?",
        ),
        ([("language: ja", "langauge: ja")], "langauge", "did you mean 'language'?"),
        (
            [("  senior_ic_at: SEV2", "  senior_ic_at: SEV2\n  senoir_ic: x")],
            "escalation.senoir_ic",
            "unknown field 'senoir_ic'",
        ),
        (
            [
                (
                    "      level: SEV3\n      description: contained degradation of a user",
                    "      level: SEV5\n      description: contained degradation of a user",
                )
            ],
            "severity.rules[5].level",
            "got 'SEV5'",
        ),
        (
            [("engage: [duty, senior_ic, pr]", "engage: [duty, senior-ic, pr]")],
            "severity.levels.SEV2.engage[1]",
            "unknown role or team 'senior-ic'",
        ),
        (
            [("reviewers: [senior_ic, owner]", "reviewers: [senior_ic, ownr]")],
            "severity.levels.SEV2.retrospective.reviewers[1]",
            "unknown reviewer role or team 'ownr'",
        ),
        (
            [
                (
                    "due_business_days: 10\n        reviewers: [senior_ic",
                    "due_business_days: 0\n        reviewers: [senior_ic",
                )
            ],
            "severity.levels.SEV2.retrospective.due_business_days",
            "greater than or equal to 1",
        ),
        (
            [("sections: [summary, impact, timeline", "sections: [summary, impakt, timeline")],
            "severity.levels.SEV3.retrospective.sections[1]",
            "'impakt'",
        ),
        (
            [("      when: { user_facing: true }", "      when: {}")],
            "severity.rules[5].when",
            "can never match",
        ),
        (
            [
                (
                    "      - { name: Kato Hina,",
                    "      - { name: Sato Haruki, contact: h.sato@x.example,"
                    " term_start: 2026-09-01, term_end: 2027-03-31 }\n      - { name: Kato Hina,",
                )
            ],
            "rotations.duty.members[7]",
            "Sato Haruki's term 2026-09-01..2027-03-31 overlaps their term at"
            " rotations.duty.members[0]",
        ),
        (
            [("term_start: 2026-10-01", "term_start: 2026-10-05")] * 4,
            "rotations.duty.members",
            "nobody serves 2026-10-01..2026-10-04",
        ),
        (
            [
                (
                    "term_start: 2026-04-01, term_end: 2026-09-30",
                    "term_start: 2026-04-01, term_end: 2026-03-30",
                )
            ],
            "rotations.duty.members[0]",
            "term_end 2026-03-30 is before term_start 2026-04-01",
        ),
        (
            [('handoff: "18:30"', "handoff: 18:30")],
            "rotations.cover.handoff",
            'quote times of day, e.g. "18:30"',
        ),
        (
            [
                (
                    "  timezone: Asia/Tokyo\n\n  # The weekday",
                    "  timezone: Asia/Tokio\n\n  # The weekday",
                )
            ],
            "rotations.timezone",
            "unknown time zone 'Asia/Tokio'",
        ),
        (
            [("      name: Watanabe Yui\n", "      name: Someone Else\n")],
            "rotations.overrides[0].contact",
            "'Someone Else' is not on duty, so give a contact",
        ),
        (
            [("    - rotation: cover\n", "    - rotation: weekend\n")],
            "rotations.overrides[1].rotation",
            "unknown rotation 'weekend'",
        ),
        (
            [("    public_name: { en: Shopping cart, ja: カート }\n", "")],
            "services[3].public_name",
            "a user-facing service needs the name customers know",
        ),
        (
            [
                (
                    "public_name: { en: Shopping cart, ja: カート }",
                    "public_name: { en: Shopping cart }",
                )
            ],
            "services[3].public_name.ja",
            "the policy's language is 'ja'",
        ),
        (
            [("    depends_on: [cache, inventory]", "    depends_on: [cache, inventry]")],
            "services[3].depends_on[1]",
            "unknown service 'inventry'",
        ),
        (
            [("  fallback_team: duty", "  fallback_team: sre")],
            "escalation.fallback_team",
            "unknown team 'sre'",
        ),
        (
            [("    - { after_min: 20, to: leader }", "    - { after_min: 20, to: manager }")],
            "escalation.unacknowledged[1].to",
            "unknown escalation target 'manager'",
        ),
        (
            [("    - { after_min: 30, to: senior_ic }", "    - { after_min: 5, to: senior_ic }")],
            "escalation.unacknowledged[2].after_min",
            "not later than the step before it",
        ),
        (
            [
                (
                    "    escalation_contacts:\n      - { name: Ono Hikari, contact:"
                    " h.ono@sakuramart.example, role: team lead }\n",
                    "",
                ),
                ("    messaging:\n      handoff:", "    messaging-old:\n      handoff:"),
            ],
            "teams[5]",
            "nobody could be paged",
        ),
        (
            [("    discovery:\n      handoff:", "    discovry:\n      handoff:")],
            "rotations.teams.discovry",
            "unknown team 'discovry' (known: commerce,",
        ),
        (
            [("    web:\n      handoff:", "    web:\n      team: commerce\n      handoff:")],
            "rotations.teams.web.team",
            "is 'commerce', but this is the on-call rotation of team 'web'",
        ),
        (
            [("  csirt:\n    team: csirt", "  csirt:\n    team: platform")],
            "rotations.csirt.team",
            "is not a security team",
        ),
    ],
)
def test_each_problem_names_its_path(edits: list[tuple[str, str]], path: str, says: str) -> None:
    error = problem_of(variant(*edits))
    assert isinstance(error, ValueError)
    assert error.file == "policy.yaml"
    assert error.path == path
    assert says in error.problem
    assert str(error).startswith("policy.yaml: ")
    assert f"line {error.line}: {path}: " in str(error)


def test_the_line_points_at_the_offending_key() -> None:
    text = variant((PAYMENT_TEAM, PAYMENT_TEAM.replace("payments", "paymnts", 1)))
    error = problem_of(text)
    assert error.line is not None
    assert "team: paymnts" in text.splitlines()[error.line - 1]


def test_all_problems_are_reported_at_once() -> None:
    error = problem_of(
        variant(
            ("  fallback_team: duty", "  fallback_team: sre"),
            ("engage: [duty, senior_ic, pr]", "engage: [duty, senior-ic, pr]"),
        )
    )
    assert [p.path for p in error.problems] == [
        "severity.levels.SEV2.engage[1]",
        "escalation.fallback_team",
    ]
    assert str(error).startswith("policy.yaml: 2 problems:\n")


def test_a_duplicate_key_is_an_error_not_a_silent_override() -> None:
    error = problem_of(variant(("language: ja", "language: ja\nlanguage: en")))
    assert "duplicate key 'language' (first on line" in error.problem
    assert error.line is not None


def test_broken_yaml_is_reported_with_a_line() -> None:
    error = problem_of(variant(("language: ja", "language: [ja")))
    assert error.problem.startswith("not valid YAML")
    assert error.line is not None


@pytest.mark.parametrize(
    ("content", "says"),
    [("", "the policy is empty"), ("- a\n- b\n", "a list, not a mapping")],
)
def test_a_file_that_is_not_a_policy(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PolicyError, match=says):
        load_policy(path)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: no such file"


def test_an_expired_rota_is_caught_when_loading_with_today() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(EXAMPLE, today=date(2027, 4, 1))
    assert caught.value.path == "rotations.duty.members"
    assert "every member's term has ended (the latest on 2027-03-31)" in caught.value.problem


def test_the_only_member_whose_term_has_ended() -> None:
    text = variant(
        (
            "      - { name: Hayashi Mao, contact: m.hayashi@sakuramart.example }\n"
            "      - { name: Shimizu Kaito, contact: k.shimizu@sakuramart.example }\n"
            "      - { name: Abe Nozomi, contact: n.abe@sakuramart.example, timezone: Asia/Singapore }",  # noqa: E501
            "      - { name: Hayashi Mao, contact: m.hayashi@sakuramart.example,"
            " term_start: 2026-04-01, term_end: 2026-09-30 }",
        )
    )
    parse_policy(text, today=date(2026, 9, 30))
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, today=date(2026, 10, 1))
    assert caught.value.path == "rotations.csirt.members"
    assert "the only member, Hayashi Mao, ended their term on 2026-09-30" in caught.value.problem


def test_the_example_text_documents_every_top_level_section() -> None:
    text = example_text()
    for section in (
        "language:",
        "organisation:",
        "teams:",
        "services:",
        "severity:",
        "rotations:",
        "escalation:",
    ):
        assert f"\n{section}" in text
