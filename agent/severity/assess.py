"""Severity from the policy's rules, with the reasons in plain words.

The inputs are facts the agent measured or looked up (the catalogue, the
topology, the isolation engine's verdict); alert text and the sender's own
severity label are never among them, because anyone who can send an alert
could otherwise set the level and so who gets woken up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from agent.policy.models import Policy, RuleConditions, SeverityRule
from agent.severity.models import SeverityAssessment, SeverityInputs
from tools.telemetry.models import Topology

DEFAULT_RULE = "default"


def assess(policy: Policy, inputs: SeverityInputs) -> SeverityAssessment:
    """The first rule that matches sets the level; none matching, the default."""
    rule = first_match(policy.severity.rules, inputs)
    level = rule.level if rule else policy.severity.default
    settings = policy.severity.levels[level]
    if rule is None:
        verdict = f"no rule matched, so the default level {level} applies"
    else:
        why = rule.description or describe(rule.when)
        verdict = f"rule '{rule.name}' sets {level}: {why}"
    return SeverityAssessment(
        level=level,
        rule=rule.name if rule else DEFAULT_RULE,
        reasons=[*_facts(policy, inputs), *inputs.notes, verdict],
        status_every_min=settings.status_every_min,
        exec_summary=settings.exec_summary,
        pr_statement=settings.pr_statement,
        retrospective=settings.retrospective.description,
        engage=list(settings.engage),
        harmed=list(inputs.affected_services),
    )


def first_match(rules: Iterable[SeverityRule], inputs: SeverityInputs) -> SeverityRule | None:
    return next((rule for rule in rules if matches(rule.when, inputs)), None)


def matches(when: RuleConditions, inputs: SeverityInputs) -> bool:
    """Every condition the rule sets holds; an unknown tier meets no tier condition."""
    tier_ok = when.max_tier is None or (inputs.tier is not None and inputs.tier <= when.max_tier)
    return (
        tier_ok
        and (when.user_facing is None or inputs.user_facing == when.user_facing)
        and (when.min_blast_radius is None or inputs.blast_radius >= when.min_blast_radius)
        and (when.security is None or inputs.security == when.security)
        and (when.min_confidence is None or inputs.confidence >= when.min_confidence)
    )


def describe(when: RuleConditions) -> str:
    """The rule's conditions as a phrase: 'tier 1, user-facing, 3+ services harmed'."""
    parts: list[str] = []
    if when.max_tier is not None:
        parts.append("tier 1" if when.max_tier == 1 else f"tier 1-{when.max_tier}")
    if when.user_facing is not None:
        parts.append("user-facing" if when.user_facing else "not user-facing")
    if when.min_blast_radius is not None:
        parts.append(f"{when.min_blast_radius}+ services harmed")
    if when.security is not None:
        parts.append("security incident" if when.security else "not a security incident")
    if when.min_confidence is not None:
        parts.append(f"confidence at least {when.min_confidence:.2f}")
    return ", ".join(parts) or "every incident"


def _facts(policy: Policy, inputs: SeverityInputs) -> list[str]:
    """'checkout is tier 1 and user-facing; 5 services show harm', and so on."""
    suspect = [inputs.service] if inputs.service else []
    harmed = dict.fromkeys([*suspect, *inputs.affected_services])
    known = [s for name in harmed if (s := policy.service(name)) is not None]
    facts: list[str] = []
    if inputs.service:
        confidence = f"confidence {inputs.confidence:.2f}"
        facts.append(f"{inputs.service} is the suspected cause ({confidence})")
    if inputs.tier is None:
        facts.append("the tier of the harmed services is unknown")
    else:
        top = [s.name for s in known if s.tier == inputs.tier]
        named = f" ({', '.join(top)})" if top else ""
        facts.append(f"the most critical harmed service is tier {inputs.tier}{named}")
    if inputs.user_facing:
        facing = [s.name for s in known if s.user_facing]
        facts.append(
            f"user-facing: {', '.join(facing)}" if facing else "a user-facing one is harmed"
        )
    else:
        facts.append("no user-facing service is harmed")
    count = inputs.blast_radius
    facts.append(f"{count} service{'s' if count != 1 else ''} show{'' if count != 1 else 's'} harm")
    if inputs.security:
        facts.append("the leading hypothesis is a security incident")
    return facts


# -- inputs ---------------------------------------------------------------------


@dataclass(frozen=True)
class _ServiceFacts:
    name: str
    tier: int
    user_facing: bool


def severity_inputs(
    policy: Policy,
    topology: Topology | None,
    hypotheses_service: str | None,
    affected_services: Iterable[str],
    alert_services: Iterable[str],
    *,
    security: bool,
    confidence: float,
) -> SeverityInputs:
    """The facts severity rules read, from the catalogue (else the topology).

    Harm counts the suspected service, the services the engine found affected
    and the services alerts name. Alert names are untrusted, so one that
    neither the catalogue nor the topology knows is ignored; a service our own
    telemetry shows that the catalogue lacks gets `severity.unknown_service`
    (by default tier 1 and user-facing: better a human downgrades than a SEV1
    runs as a SEV3).
    """
    notes: list[str] = []
    harmed: dict[str, _ServiceFacts] = {}
    suspects = [hypotheses_service] if hypotheses_service else []
    for name in [*suspects, *affected_services]:
        known = _lookup(policy, topology, name, notes) or _assume(policy, name, notes)
        harmed.setdefault(known.name, known)
    ignored = 0
    for name in alert_services:
        facts = _lookup(policy, topology, name, notes)
        if facts is None:
            ignored += 1
        else:
            harmed.setdefault(facts.name, facts)
    if ignored:
        notes.append(f"{ignored} alerting service name(s) matched no known service: ignored")
    found = policy.service(hypotheses_service) if hypotheses_service else None
    return SeverityInputs(
        service=found.name if found else hypotheses_service,
        tier=min((f.tier for f in harmed.values()), default=None),
        user_facing=any(f.user_facing for f in harmed.values()),
        affected_services=list(harmed),
        blast_radius=len(harmed),
        security=security,
        confidence=confidence,
        notes=notes,
    )


def _lookup(
    policy: Policy, topology: Topology | None, name: str, notes: list[str]
) -> _ServiceFacts | None:
    """Catalogue first (by name or alias); a topology node of kind frontend is user-facing."""
    service = policy.service(name)
    if service is not None:
        return _ServiceFacts(service.name, service.tier, service.user_facing)
    node = topology.node(name) if topology else None
    if node is None:
        return None
    default = policy.severity.unknown_service
    tier = node.tier or default.tier
    facing = node.kind == "frontend"
    assumed = "" if node.tier else f", tier {tier} assumed"
    notes.append(
        f"{name} is not in the service catalogue; the topology has it as {node.kind}{assumed}"
    )
    return _ServiceFacts(name, tier, facing)


def _assume(policy: Policy, name: str, notes: list[str]) -> _ServiceFacts:
    default = policy.severity.unknown_service
    facing = " and user-facing" if default.user_facing else ""
    notes.append(
        f"{name} is in neither the service catalogue nor the topology;"
        f" treated as tier {default.tier}{facing} (severity.unknown_service)"
    )
    return _ServiceFacts(name, default.tier, default.user_facing)
