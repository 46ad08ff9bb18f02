"""Who is paged, who commands, and what happens if nobody answers.

`route` reads only the policy, the suspected service, the assessed severity
and the clock: never alert text or the sender's severity label, so a crafted
alert cannot page executives or pick its own incident commander.

- The suspected service's owning team is paged (unknown service: the
  fallback team, by default the duty rota's team).
- The first responder is the weekday duty rota's member (the cover rota's
  outside duty hours) and is the first incident commander.
- At `escalation.senior_ic_at` or worse the senior IC takes command; for a
  security incident the CSIRT lead on call does, and legal and PR must
  approve any external message.
- Every page to a rota member carries the unacknowledged chain: after N
  minutes without an acknowledgement, the next target is paged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.policy.models import ENGAGE_ROLES, Policy
from agent.routing.models import EscalationStep, Responder, Routing
from agent.routing.oncall import OnCall, as_utc, leader_of, resolve_on_call, who_is_on_call
from agent.severity.levels import at_least
from agent.severity.models import SeverityAssessment

# The role a responder is paged in, by the rotation that produced them.
ROTATION_ROLES = {"duty": "first-responder", "senior_ic": "senior-ic", "csirt": "csirt-lead"}
# The role of a team's contact, by the team's kind.
TEAM_ROLES = {"pr": "pr", "executives": "executive", "legal": "legal"}


@dataclass(frozen=True)
class _Page:
    """A responder to page; `on_call` is set when they came from a rotation."""

    responder: Responder
    on_call: OnCall | None = None


def route(
    policy: Policy,
    service: str | None,
    severity: SeverityAssessment,
    at: datetime,
    security: bool = False,
) -> Routing:
    """Who to page for an incident in `service` at `severity`, as of `at`."""
    at = as_utc(at)
    reasons: list[str] = []
    team = _owning_team(policy, service, reasons)
    pages: list[_Page] = []
    owner = team_on_call(policy, team, at)
    if owner is not None:
        pages.append(owner)
        reasons.append(f"the {team} team's on-call is {owner.responder.name} ({_why(owner)})")
    first = _rotation_page(policy, "duty", at)
    reasons.append(f"first responder is {first.responder.name} ({_why(first)})")
    commander, why = _commander(policy, severity, first, at, security=security)
    reasons.append(why)
    pages += [first, commander]
    engage = _engage_list(policy, severity)
    reasons.append(f"{severity.level} engages: {', '.join(engage) or 'nobody extra'}")
    pages += [p for who in engage if (p := _engaged(policy, who, at)) is not None]
    approvals: list[str] = []
    if security:
        path = policy.escalation.security
        pages += [p for who in path.engage if (p := team_on_call(policy, who, at)) is not None]
        approvals = list(path.external_approval)
        if approvals:
            reasons.append(f"security: {' and '.join(approvals)} must approve any external message")
    paged = _unique(pages)
    escalations = _unacknowledged_steps(policy, paged, at)
    pending = _pending_command_step(policy, severity, at, security)
    return Routing(
        page_team=team,
        paged=[p.responder for p in paged],
        incident_commander=commander.responder.model_copy(update={"role": "incident-commander"}),
        escalations=escalations + ([pending] if pending else []),
        approvals_required=approvals,
        reasons=reasons,
    )


def escalate_unacknowledged(
    policy: Policy, routing: Routing, paged_at: datetime, now: datetime
) -> list[EscalationStep]:
    """The unacknowledged steps due by `now` for pages sent at `paged_at`.

    Due times count from when the page actually went out (after approval), not
    from when the routing was drafted; a rotation target is re-resolved at its
    due time, so a hand-off in between pages whoever holds the shift then.
    Returns every step due so far; the caller pages those it has not yet.
    """
    paged_at, now = as_utc(paged_at), as_utc(now)
    due: list[EscalationStep] = []
    for step in routing.escalations:
        if step.after_min is None:
            continue
        due_at = paged_at + timedelta(minutes=step.after_min)
        if due_at > now:
            continue
        to = step.to
        if step.target in policy.rotation_refs():
            fresh = who_is_on_call(policy, step.target, due_at)
            to = fresh.model_copy(update={"role": step.to.role})
        due.append(step.model_copy(update={"due_at": due_at, "to": to}))
    return due


def team_on_call(policy: Policy, team: str, at: datetime) -> _Page | None:
    """The team's own rotation, else the fixed rotation the team staffs, else
    its first escalation contact (PR, executives and legal usually have no rota)."""
    if team in policy.rotations.teams:
        return _rotation_page(policy, f"teams.{team}", at, role="on-call")
    for ref in ("duty", "csirt"):
        if policy.rotation(ref).team == team:
            return _rotation_page(policy, ref, at)
    found = policy.team(team)
    if found is None or not found.escalation_contacts:
        return None
    contact = found.escalation_contacts[0]
    responder = Responder(
        name=contact.name,
        team=team,
        role=TEAM_ROLES.get(found.kind, "escalation-contact"),
        contact=contact.contact,
        timezone=contact.timezone or policy.organisation.timezone,
    )
    return _Page(responder)


def _owning_team(policy: Policy, service: str | None, reasons: list[str]) -> str:
    found = policy.service(service) if service else None
    if found is not None:
        reasons.append(f"{found.name} is owned by {found.team}")
        return found.team
    fallback = policy.fallback_team()
    what = f"{service!r} is not in the service catalogue" if service else "no suspected service"
    reasons.append(f"{what}, so the fallback team {fallback} takes the page")
    return fallback


def _rotation_page(policy: Policy, ref: str, at: datetime, role: str | None = None) -> _Page:
    on_call = resolve_on_call(policy, ref, at)
    role = role or ROTATION_ROLES.get(ref, "on-call")
    return _Page(on_call.responder.model_copy(update={"role": role}), on_call)


def _why(page: _Page) -> str:
    return page.on_call.reason if page.on_call else "first escalation contact"


def _commander(
    policy: Policy, severity: SeverityAssessment, first: _Page, at: datetime, *, security: bool
) -> tuple[_Page, str]:
    """The incident commander's page and why: CSIRT lead, senior IC or the first responder."""
    threshold = policy.escalation.senior_ic_at
    if security:
        page = _rotation_page(policy, "csirt", at)
        return page, f"security incident: the CSIRT lead {page.responder.name} is in command"
    if at_least(severity.level, threshold):
        page = _rotation_page(policy, "senior_ic", at)
        name, first_name = page.responder.name, first.responder.name
        worse = f"{severity.level} is {threshold} or worse"
        return page, f"{worse}: senior IC {name} takes command from {first_name}"
    return first, f"{severity.level} is below {threshold}: {first.responder.name} is in command"


def _engage_list(policy: Policy, severity: SeverityAssessment) -> list[str]:
    """The policy's list for the level (the source of truth), else the assessment's."""
    level = policy.severity.levels.get(severity.level)
    return list(level.engage) if level is not None else list(severity.engage)


def _engaged(policy: Policy, who: str, at: datetime) -> _Page | None:
    if who == "leader":
        leader = leader_of(policy, "duty")
        return _Page(leader.model_copy(update={"role": "duty-leader"})) if leader else None
    if who in ENGAGE_ROLES:
        return _rotation_page(policy, who, at)
    return team_on_call(policy, who, at)


def _unique(pages: list[_Page]) -> list[_Page]:
    """First page per person: one person in two roles is paged once."""
    seen: set[tuple[str, str | None]] = set()
    kept: list[_Page] = []
    for page in pages:
        key = (page.responder.name, page.responder.contact)
        if key not in seen:
            seen.add(key)
            kept.append(page)
    return kept


def _unacknowledged_steps(policy: Policy, paged: list[_Page], at: datetime) -> list[EscalationStep]:
    """The chain for every rota page, skipping people already paged; earliest first."""
    taken = {p.responder.name for p in paged}
    steps: list[EscalationStep] = []
    for step in policy.escalation.unacknowledged:
        due_at = at + timedelta(minutes=step.after_min)
        for page in paged:
            target = _target(policy, page, step.to, due_at)
            if target is None or target.name in taken:
                continue
            taken.add(target.name)
            steps.append(
                EscalationStep(
                    when=f"{page.responder.name} has not acknowledged after {step.after_min} min",
                    to=target,
                    due_at=due_at,
                    after_min=step.after_min,
                    target=step.to,
                )
            )
    return steps


def _target(policy: Policy, page: _Page, to: str, due_at: datetime) -> Responder | None:
    on_call = page.on_call
    if on_call is None:
        return None
    if to == "secondary":
        secondary = on_call.secondary
        return secondary.model_copy(update={"role": "secondary"}) if secondary else None
    if to == "leader":
        return leader_of(policy, on_call.rotation)
    return _rotation_page(policy, to, due_at).responder


def _pending_command_step(
    policy: Policy, severity: SeverityAssessment, at: datetime, security: bool
) -> EscalationStep | None:
    """Below the senior-IC level, say who takes command if severity rises."""
    threshold = policy.escalation.senior_ic_at
    if security or at_least(severity.level, threshold):
        return None
    senior = who_is_on_call(policy, "senior_ic", at)
    return EscalationStep(
        when=f"severity reaches {threshold}",
        to=senior.model_copy(update={"role": "incident-commander"}),
        target="senior_ic",
    )
