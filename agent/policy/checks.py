"""Checks that need the whole policy: references between sections and rota terms.

Each check returns `(location, message)` pairs instead of raising at the first,
so one run of `load_policy` reports everything wrong with a file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from agent.policy.errors import Loc, render_path
from agent.policy.models import (
    ENGAGE_ROLES,
    RELATIVE_TARGETS,
    REVIEWER_ROLES,
    TEAM_ROTATION_PREFIX,
    LocalText,
    Member,
    Rotation,
)

if TYPE_CHECKING:
    from agent.policy.models import Policy

Found = list[tuple[Loc, str]]


def check_policy(policy: Policy) -> Found:
    """Every cross-section problem in `policy`, in file order."""
    return [
        *_teams(policy),
        *_services(policy),
        *_severity(policy),
        *_rotations(policy),
        *_overrides(policy),
        *_escalation(policy),
    ]


def staffing_problems(policy: Policy, on: date) -> Found:
    """Rotations nobody serves on `on` (every term has ended, or none has begun).

    Not part of `check_policy`: whether a term has ended depends on the date,
    and a valid file must not turn invalid by itself when a term runs out.
    """
    found: Found = []
    for ref in policy.rotation_refs():
        members = policy.rotation(ref).members
        if not any(m.serves(on) for m in members):
            found.append(((*rotation_loc(ref), "members"), _nobody_serves(members, on)))
    return found


def unknown(what: str, value: str, known: Iterable[str]) -> str:
    """`unknown team 'paymnts' (known: commerce, payments); did you mean 'payments'?`"""
    names = sorted(set(known))
    text = f"unknown {what} {value!r} (known: {', '.join(names) or 'none'})"
    close = difflib.get_close_matches(value, names, n=1)
    return f"{text}; did you mean {close[0]!r}?" if close else text


def rotation_loc(ref: str) -> Loc:
    """'teams.payments' -> ('rotations', 'teams', 'payments')."""
    return ("rotations", *ref.split(".", 1))


# -- teams and the catalogue ----------------------------------------------------


def _duplicates(names: Sequence[str], loc: Loc, what: str) -> Found:
    first: dict[str, int] = {}
    found: Found = []
    for i, name in enumerate(names):
        if name in first:
            where = render_path((*loc, first[name]))
            found.append(((*loc, i, "name"), f"duplicate {what} {name!r} (first at {where})"))
        first.setdefault(name, i)
    return found


def _teams(policy: Policy) -> Found:
    found = _duplicates([t.name for t in policy.teams], ("teams",), "team")
    must_page = {s.team for s in policy.services} | {policy.fallback_team()}
    for i, team in enumerate(policy.teams):
        reachable = (
            team.escalation_contacts
            or team.name in policy.rotations.teams
            or team.name in {policy.rotation(r).team for r in ("duty", "csirt")}
        )
        if team.name in must_page and not reachable:
            found.append(
                (
                    ("teams", i),
                    f"owns services (or is the fallback team) but has neither an on-call rotation"
                    f" (rotations.teams.{team.name}) nor escalation_contacts:"
                    " nobody could be paged",
                )
            )
    return found


def _services(policy: Policy) -> Found:
    found = _duplicates([s.name for s in policy.services], ("services",), "service")
    teams = [t.name for t in policy.teams]
    names = [s.name for s in policy.services]
    owner_of: dict[str, str] = {s.name.casefold(): s.name for s in policy.services}
    for i, service in enumerate(policy.services):
        loc: Loc = ("services", i)
        if service.team not in teams:
            found.append(((*loc, "team"), unknown("team", service.team, teams)))
        for j, alias in enumerate(service.aliases):
            taken = owner_of.get(alias.casefold())
            if taken is not None:
                found.append(((*loc, "aliases", j), f"{alias!r} already names service {taken!r}"))
            owner_of.setdefault(alias.casefold(), service.name)
        for j, dep in enumerate(service.depends_on or []):
            if dep == service.name:
                found.append(((*loc, "depends_on", j), "a service cannot depend on itself"))
            elif dep not in names:
                found.append(((*loc, "depends_on", j), unknown("service", dep, names)))
        found.extend(_public_name(policy, service.public_name, service.user_facing, loc))
    return found


def _public_name(policy: Policy, name: LocalText | None, user_facing: bool, loc: Loc) -> Found:
    if name is None:
        if user_facing:
            why = "a user-facing service needs the name customers know"
            return [((*loc, "public_name"), f"missing: {why}")]
        return []
    if getattr(name, policy.language) is None:
        why = f"the policy's language is {policy.language!r}"
        return [((*loc, "public_name", policy.language), f"missing: {why}")]
    return []


# -- severity -------------------------------------------------------------------


def _severity(policy: Policy) -> Found:
    sev = policy.severity
    defined = list(sev.levels)
    found: Found = []
    if sev.default not in defined:
        found.append((("severity", "default"), _undefined_level(sev.default, defined)))
    found.extend(_duplicates([r.name for r in sev.rules], ("severity", "rules"), "rule"))
    last = len(sev.rules) - 1
    for i, rule in enumerate(sev.rules):
        if rule.level not in defined:
            found.append((("severity", "rules", i, "level"), _undefined_level(rule.level, defined)))
        if rule.when.is_empty() and i < last:
            found.append(
                (
                    ("severity", "rules", i, "when"),
                    f"matches every incident, so the rules after it"
                    f" ({', '.join(r.name for r in sev.rules[i + 1 :])}) can never match",
                )
            )
    vocabulary = [*ENGAGE_ROLES, *(t.name for t in policy.teams)]
    reviewers = [*REVIEWER_ROLES, *(t.name for t in policy.teams)]
    for level, settings in sev.levels.items():
        for j, who in enumerate(settings.engage):
            if who not in vocabulary:
                loc: Loc = ("severity", "levels", level, "engage", j)
                found.append((loc, unknown("role or team", who, vocabulary)))
        for j, who in enumerate(settings.retrospective.reviewers):
            if who not in reviewers:
                loc = ("severity", "levels", level, "retrospective", "reviewers", j)
                found.append((loc, unknown("reviewer role or team", who, reviewers)))
    return found


def _undefined_level(level: str, defined: Sequence[str]) -> str:
    return f"unknown level {level!r} (defined in severity.levels: {', '.join(defined)})"


# -- rotations ------------------------------------------------------------------


def _rotations(policy: Policy) -> Found:
    teams = [t.name for t in policy.teams]
    found: Found = []
    for ref in policy.rotation_refs():
        rota = policy.rotation(ref)
        loc = rotation_loc(ref)
        found.extend(_rotation_team(ref, rota, loc, teams))
        found.extend(_terms(rota, loc))
    csirt_team = policy.team(policy.rotations.csirt.team)
    if csirt_team is not None and csirt_team.kind != "security":
        found.append(
            (
                ("rotations", "csirt", "team"),
                f"team {csirt_team.name!r} is not a security team (set its kind: security)",
            )
        )
    return found


def _rotation_team(ref: str, rota: Rotation, loc: Loc, teams: list[str]) -> Found:
    """A fixed rotation names a known team; `teams.<key>` is keyed by one and staffs it."""
    if not ref.startswith(TEAM_ROTATION_PREFIX):
        return [] if rota.team in teams else [((*loc, "team"), unknown("team", rota.team, teams))]
    key = str(loc[-1])
    if key not in teams:
        return [(loc, unknown("team", key, teams))]
    if rota.team != key:
        why = f"is {rota.team!r}, but this is the on-call rotation of team {key!r}"
        return [((*loc, "team"), why)]
    return []


def _span(member: Member) -> tuple[date, date]:
    return member.term_start or date.min, member.term_end or date.max


def _show(member: Member) -> str:
    start, end = _span(member)
    return f"{'…' if start == date.min else start}..{'…' if end == date.max else end}"


def _terms(rota: Rotation, loc: Loc) -> Found:
    """The same person twice with overlapping terms; days between terms nobody serves."""
    found: Found = []
    members = rota.members
    for i, member in enumerate(members):
        for j in range(i):
            other = members[j]
            (a0, a1), (b0, b1) = _span(member), _span(other)
            if member.name == other.name and a0 <= b1 and b0 <= a1:
                where = render_path((*loc, "members", j))
                found.append(
                    (
                        (*loc, "members", i),
                        f"{member.name}'s term {_show(member)} overlaps their term at"
                        f" {where} ({_show(other)})",
                    )
                )
    found.extend(((*loc, "members"), gap) for gap in _gaps(members))
    return found


def _gaps(members: Sequence[Member]) -> list[str]:
    last_day = max(_span(m)[1] for m in members)
    gaps: list[str] = []
    for member in members:
        end = _span(member)[1]
        if end >= last_day:
            continue
        day = end + timedelta(days=1)
        if any(m.serves(day) for m in members):
            continue
        resume = min(_span(m)[0] for m in members if _span(m)[0] > day)
        gap = f"nobody serves {day}..{resume - timedelta(days=1)}: a gap between terms"
        if gap not in gaps:
            gaps.append(gap)
    return gaps


def _nobody_serves(members: Sequence[Member], on: date) -> str:
    ended = [m for m in members if m.term_end is not None and m.term_end < on]
    head = f"nobody serves on {on}"
    if len(members) == 1 and ended:
        only = members[0]
        return f"{head}: the only member, {only.name}, ended their term on {only.term_end}"
    if len(ended) == len(members):
        latest = max(_span(m)[1] for m in ended)
        return f"{head}: every member's term has ended (the latest on {latest})"
    return f"{head}: no member's term covers that day"


def _overrides(policy: Policy) -> Found:
    refs = policy.rotation_refs()
    found: Found = []
    overrides = policy.rotations.overrides
    for i, override in enumerate(overrides):
        loc: Loc = ("rotations", "overrides", i)
        if override.rotation not in refs:
            found.append(((*loc, "rotation"), unknown("rotation", override.rotation, refs)))
            continue
        rota = policy.rotation(override.rotation)
        people = [m.name for m in rota.members] + ([rota.leader.name] if rota.leader else [])
        if override.contact is None and override.name not in people:
            found.append(
                (
                    (*loc, "contact"),
                    f"missing: {override.name!r} is not on {override.rotation}, so give a contact",
                )
            )
        for j in range(i):
            other = overrides[j]
            same = other.rotation == override.rotation
            if same and override.start <= other.end and other.start <= override.end:
                found.append((loc, f"overlaps rotations.overrides[{j}] on {override.rotation}"))
    return found


# -- escalation -----------------------------------------------------------------


def _escalation(policy: Policy) -> Found:
    esc = policy.escalation
    teams = [t.name for t in policy.teams]
    found: Found = []
    if esc.senior_ic_at not in policy.severity.levels:
        found.append(
            (
                ("escalation", "senior_ic_at"),
                _undefined_level(esc.senior_ic_at, list(policy.severity.levels)),
            )
        )
    targets = [*RELATIVE_TARGETS, *policy.rotation_refs()]
    previous = 0
    for i, step in enumerate(esc.unacknowledged):
        loc: Loc = ("escalation", "unacknowledged", i)
        if step.to not in targets:
            found.append(((*loc, "to"), unknown("escalation target", step.to, targets)))
        if step.after_min <= previous:
            found.append(
                ((*loc, "after_min"), f"{step.after_min} is not later than the step before it")
            )
        previous = step.after_min
    for field in ("engage", "external_approval"):
        for j, team in enumerate(getattr(esc.security, field)):
            if team not in teams:
                found.append((("escalation", "security", field, j), unknown("team", team, teams)))
    if esc.fallback_team is not None and esc.fallback_team not in teams:
        found.append((("escalation", "fallback_team"), unknown("team", esc.fallback_team, teams)))
    return found
