"""Handing over incident command to a named person.

Command moves by policy as severity rises (route.py); an incident commander
may also hand it over by hand, to a more senior IC as scope grows or at the
end of a shift. The new IC must be someone the policy knows (a rota member, a
rota's leader or a team's escalation contact), so their paging address comes
from the policy, never from what was typed.
"""

from __future__ import annotations

from agent.policy.models import Person, Policy
from agent.routing.models import Responder, Routing

# Where command usually goes first: named first among the candidates in an error.
SENIOR_FIRST = ("senior_ic", "duty", "cover", "csirt")


class UnknownPerson(ValueError):
    """A name the policy does not know as a person who could take command."""


def commander_named(policy: Policy, name: str) -> Responder:
    """The person called `name` (any case) as incident commander, with the team and
    contact the policy gives them."""
    key = " ".join(name.split()).casefold()
    for rotation, person, team in _people(policy):
        if person.name.casefold() == key:
            return Responder(
                name=person.name,
                team=team,
                role="incident-commander",
                rotation=rotation,
                contact=person.contact,
                timezone=person.timezone or (policy.timezone_of(rotation) if rotation else None),
            )
    known = list(dict.fromkeys(person.name for _, person, _ in _people(policy)))
    shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
    raise UnknownPerson(f"{name!r} is not a person the policy knows (e.g. {shown})")


def handed_over(routing: Routing, to: Responder) -> Routing:
    """`routing` with `to` in command; with a senior IC in command, the pending step that
    would hand command to the senior IC on call is done."""
    senior = to.rotation == "senior_ic"
    steps = [s for s in routing.escalations if not (senior and s.target == "senior_ic")]
    return routing.model_copy(update={"incident_commander": to, "escalations": steps})


def kept_command(policy: Policy, routing: Routing, handed_to: str | None) -> Routing:
    """`routing` (as policy routes it now) with command left where a person handed it
    (`handed_to`): a re-investigation never takes command back. A name the policy no
    longer knows leaves policy's choice."""
    if handed_to is None:
        return routing
    try:
        return handed_over(routing, commander_named(policy, handed_to))
    except UnknownPerson:
        return routing


def _people(policy: Policy) -> list[tuple[str | None, Person, str]]:
    """(rotation, person, team) for every rota member and leader, senior ICs first, then
    every team's escalation contacts."""
    refs = [*SENIOR_FIRST, *(r for r in policy.rotation_refs() if r not in SENIOR_FIRST)]
    found: list[tuple[str | None, Person, str]] = []
    for ref in refs:
        rota = policy.rotation(ref)
        found += [(ref, member, rota.team) for member in rota.members]
        if rota.leader is not None:
            found.append((ref, rota.leader, rota.team))
    for team in policy.teams:
        found += [(None, contact, team.name) for contact in team.escalation_contacts]
    return found
