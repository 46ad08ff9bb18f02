"""Who is on call on a rotation at an instant, in the rotation's own time zone.

A shift runs from one hand-off to the next; its date is the local date it
started on, so 08:00 before a 09:30 hand-off still belongs to yesterday's
shift. Members whose term covers that date take turns in listed order, and
the order restarts from the first serving member whenever that set changes
(a term starts or ends). Overrides replace whole shifts. The weekday duty
rota hands over to the cover rota on non-working days, holidays and outside
working hours. Pure functions of the policy and the instant: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from agent.policy.checks import rotation_loc
from agent.policy.errors import PolicyError, render_path
from agent.policy.models import WEEKDAYS, Member, Override, Person, Policy, Rotation
from agent.routing.models import Responder


@dataclass(frozen=True)
class OnCall:
    """The answer for one rotation, with what the escalation chain needs."""

    responder: Responder
    rotation: str = ""
    secondary: Responder | None = None
    reason: str = ""


def as_utc(at: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken as UTC (as everywhere in the project)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def who_is_on_call(policy: Policy, rotation: str, at: datetime) -> Responder:
    """The person to page on `rotation` ('duty', 'cover', 'senior_ic', 'csirt',
    'teams.<team>') at `at`."""
    return resolve_on_call(policy, rotation, at).responder


def resolve_on_call(policy: Policy, rotation: str, at: datetime) -> OnCall:
    """Like `who_is_on_call`, with the next member in order and the reason."""
    at = as_utc(at)
    if rotation == "duty":
        off = duty_off_reason(policy, at)
        if off is not None:
            cover = resolve_on_call(policy, "cover", at)
            return replace(cover, reason=f"{off}, so the cover rota answers: {cover.reason}")
    return _scheduled(policy, rotation, at)


def duty_off_reason(policy: Policy, at: datetime) -> str | None:
    """Why the weekday duty rota is not on at `at`, or None when it is."""
    rota = policy.rotations.duty
    local = _local(policy, "duty", at)
    day = shift_date(rota, local)
    stamp = f"{local:%a %Y-%m-%d %H:%M} {local.tzinfo}"
    if WEEKDAYS[day.weekday()] not in rota.working_days:
        return f"{stamp} is in the shift of {day:%A %Y-%m-%d}, not a working day"
    if day in policy.rotations.holidays:
        return f"{stamp} is in the shift of {day}, a holiday"
    hours = rota.working_hours
    if hours is not None and not hours.start <= local.time() < hours.end:
        return f"{stamp} is outside working hours {hours.start:%H:%M}-{hours.end:%H:%M}"
    return None


def shift_date(rota: Rotation, local: datetime) -> date:
    """The local date the shift containing `local` started on (at hand-off)."""
    handoff = timedelta(hours=rota.handoff.hour, minutes=rota.handoff.minute)
    return (local.replace(tzinfo=None) - handoff).date()


def leader_of(policy: Policy, rotation: str) -> Responder | None:
    """The rotation's leader, else its team's first escalation contact."""
    rota = policy.rotation(rotation)
    team = policy.team(rota.team)
    person: Person | None = rota.leader or (
        team.escalation_contacts[0] if team and team.escalation_contacts else None
    )
    if person is None:
        return None
    return _responder(policy, rotation, person, role="leader")


def _local(policy: Policy, rotation: str, at: datetime) -> datetime:
    return at.astimezone(ZoneInfo(policy.timezone_of(rotation)))


def _responder(policy: Policy, rotation: str, person: Person, role: str = "on-call") -> Responder:
    return Responder(
        name=person.name,
        team=policy.rotation(rotation).team,
        role=role,
        rotation=rotation,
        contact=person.contact,
        timezone=person.timezone or policy.timezone_of(rotation),
    )


def _scheduled(policy: Policy, rotation: str, at: datetime) -> OnCall:
    rota = policy.rotation(rotation)
    local = _local(policy, rotation, at)
    day = shift_date(rota, local)
    serving = [m for m in rota.members if m.serves(day)]
    if not serving:
        return _nobody(policy, rotation, day)
    index = _turn(policy, rota, day) % len(serving)
    member = serving[index]
    reason = f"{member.name}'s turn in the shift of {day}; {len(serving)} members serving"
    override = _override(policy, rotation, day)
    on_call: Person = member
    if override is not None:
        on_call = _override_person(rota, override)
        why = f": {override.reason}" if override.reason else ""
        span = f"{override.start}..{override.end}"
        reason = f"override {span}: {on_call.name} instead of {member.name}{why}"
    # The next in order who is neither on call nor the member an override stood down.
    after = serving[index + 1 :] + serving[:index]
    following = next((m for m in after if m.name != on_call.name), None)
    secondary = _responder(policy, rotation, following) if following else None
    return OnCall(_responder(policy, rotation, on_call), rotation, secondary, reason)


def _nobody(policy: Policy, rotation: str, day: date) -> OnCall:
    """No member's term covers `day`: the leader (who stays across terms) answers."""
    leader = leader_of(policy, rotation)
    if leader is None:
        path = render_path((*rotation_loc(rotation), "members"))
        raise PolicyError.one(path, f"nobody is on the rota on {day} and there is no leader")
    leader = leader.model_copy(update={"role": "on-call"})
    reason = f"no member's term covers {day}, so the leader {leader.name} answers"
    return OnCall(leader, rotation, None, reason)


def _override(policy: Policy, rotation: str, day: date) -> Override | None:
    return next(
        (
            o
            for o in policy.rotations.overrides
            if o.rotation == rotation and o.start <= day <= o.end
        ),
        None,
    )


def _override_person(rota: Rotation, override: Override) -> Person:
    if override.contact is not None:
        return Person(name=override.name, contact=override.contact)
    people: list[Person] = [*rota.members, *([rota.leader] if rota.leader else [])]
    return next(p for p in people if p.name == override.name)


def _turn(policy: Policy, rota: Rotation, day: date) -> int:
    """How many shifts have passed since the serving set last changed."""
    since = _cohort_start(rota.members, rota.start, day)
    if rota.shift == "week":
        return (day - rota.start).days // 7 - (since - rota.start).days // 7
    if rota is not policy.rotations.duty:
        return (day - since).days
    first, last, sign = (since, day, 1) if since <= day else (day, since, -1)
    return sign * sum(
        1 for n in range((last - first).days) if _working(policy, first + timedelta(days=n))
    )


def _cohort_start(members: list[Member], start: date, day: date) -> date:
    """The latest date on or before `day` when the set of serving members changed."""
    changes = [start]
    for member in members:
        if member.term_start is not None:
            changes.append(member.term_start)
        if member.term_end is not None:
            changes.append(member.term_end + timedelta(days=1))
    past = [d for d in changes if d <= day]
    return max(past) if past else start


def _working(policy: Policy, day: date) -> bool:
    duty = policy.rotations.duty
    return WEEKDAYS[day.weekday()] in duty.working_days and day not in policy.rotations.holidays
