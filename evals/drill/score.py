"""`triage drill score`: the team's answers and the agent's, held against the
sealed truth, side by side.

Points (100): root cause 35, fault type 15, severity 15, paging 15, time to
detect 10 (full within 5 minutes of the alert, none after an hour), first
status update 10 (full within 30 minutes of the onset, none after 90).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.policy.load import default_policy
from agent.policy.models import Policy
from evals.drill.agent import AgentAnswer, answer
from evals.drill.answers import AnswersError, TeamAnswers
from evals.drill.scenario import DATASET, MANIFEST, SEALED
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import DatasetFormatError

POINTS = {
    "root_cause": 35,
    "fault_type": 15,
    "severity": 15,
    "paged": 15,
    "detect": 10,
    "update": 10,
}


@dataclass(frozen=True)
class Row:
    """One line of the scorecard: what each side said and what it earned."""

    label: str
    truth: str
    team: str
    team_points: float
    agent: str
    agent_points: float
    out_of: int


@dataclass(frozen=True)
class Scorecard:
    case_id: str
    team: str
    rows: list[Row]
    truth: dict[str, Any]
    agent: AgentAnswer
    notes: str

    def total(self, side: str) -> float:
        return sum(r.team_points if side == "team" else r.agent_points for r in self.rows)


def load_truth(root: Path) -> dict[str, Any]:
    """The sealed truth, refused if it no longer matches its recorded hash."""
    sealed, manifest_path = root / SEALED / "truth.json", root / MANIFEST
    if not sealed.is_file() or not manifest_path.is_file():
        raise DatasetFormatError(f"{root}: not a drill folder (made by `triage drill new`)")
    text = sealed.read_text(encoding="utf-8")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if hashlib.sha256(text.encode()).hexdigest() != manifest["sealed_sha256"]:
        raise DatasetFormatError(f"{root / SEALED / 'truth.json'}: edited after sealing")
    truth: dict[str, Any] = json.loads(text)
    return truth


def _minutes(at: float | None, since: float) -> float | None:
    return None if at is None else (at - since) / 60.0


def _speed(minutes: float | None, full: float, zero: float, points: int) -> float:
    if minutes is None:
        return 0.0
    if minutes <= full:
        return float(points)
    return max(0.0, points * (zero - minutes) / (zero - full))


def _fmt(minutes: float | None) -> str:
    return "-" if minutes is None else f"{minutes:.1f} min"


def in_policy_terms(team: TeamAnswers, policy: Policy) -> TeamAnswers:
    """The answers as the truth words them, so a right answer typed by hand scores: a
    service by any case or alias, a team by its name or display name, a level or a fault
    type in any case."""

    def service(said: str) -> str:
        found = policy.service(said.strip())
        return found.name if found else said.strip().casefold()

    def paged(said: str) -> str:
        key = said.strip().casefold()
        names = {
            n.casefold(): t.name
            for t in policy.teams
            for n in (t.name, t.display_name.en, t.display_name.ja)
            if n
        }
        return names.get(key, key)

    return team.model_copy(
        update={
            "root_cause_service": team.root_cause_service and service(team.root_cause_service),
            "fault_type": team.fault_type and team.fault_type.strip().casefold(),
            "severity": team.severity and team.severity.strip().upper(),
            "paged": [paged(p) for p in team.paged],
        }
    )


def _after_onset(team: TeamAnswers, start: datetime) -> None:
    """Nobody detects or reports a fault before it began: such a time is a wrong date or
    zone, refused rather than scored as the fastest possible answer."""
    for field in ("detected_at", "first_status_update_at"):
        at: datetime | None = getattr(team, field)
        if at is not None and at < start:
            raise AnswersError(
                f"{field}: {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC is before the fault began"
                f" ({start:%Y-%m-%d %H:%M} UTC); check the date and the time zone"
            )


def score(root: Path, said: TeamAnswers) -> Scorecard:
    truth = load_truth(root)
    dataset = ReplayDataset.open((root / DATASET).resolve())
    case = next(c for c in dataset.cases() if c.id == truth["id"])
    onset = datetime.fromisoformat(truth["fault_start"].replace("Z", "+00:00"))
    _after_onset(said, onset)
    team = in_policy_terms(said, default_policy())
    agent = answer(dataset, case)
    start = onset.timestamp()
    alert_at = agent.alert_at
    rc = truth["root_cause"]
    team_detect = (
        team.time_to_detect_min
        if team.time_to_detect_min is not None
        else _minutes(team.detected_at.timestamp() if team.detected_at else None, start)
    )
    team_update = (
        team.time_to_first_update_min
        if team.time_to_first_update_min is not None
        else _minutes(
            team.first_status_update_at.timestamp() if team.first_status_update_at else None, start
        )
    )
    agent_ready = _minutes(alert_at + agent.elapsed_s, start)
    alert_min = _minutes(alert_at, start) or 0.0

    def hit(said: str | None, want: str | None, points: int) -> float:
        return float(points) if said and want and said == want else 0.0

    rows = [
        Row(
            "Root cause service",
            rc["service"],
            team.root_cause_service or "-",
            hit(team.root_cause_service, rc["service"], POINTS["root_cause"]),
            f"{agent.service} ({agent.confidence:.0%})",
            hit(agent.service, rc["service"], POINTS["root_cause"]),
            POINTS["root_cause"],
        ),
        Row(
            "Fault type",
            rc["fault_type"],
            team.fault_type or "-",
            hit(team.fault_type, rc["fault_type"], POINTS["fault_type"]),
            agent.fault_type or "-",
            hit(agent.fault_type, rc["fault_type"], POINTS["fault_type"]),
            POINTS["fault_type"],
        ),
        Row(
            "Severity",
            truth["severity"],
            team.severity or "-",
            hit(team.severity, truth["severity"], POINTS["severity"]),
            agent.severity,
            hit(agent.severity, truth["severity"], POINTS["severity"]),
            POINTS["severity"],
        ),
        Row(
            "Team paged",
            truth["page_team"],
            ", ".join(team.paged) or "-",
            float(POINTS["paged"]) if truth["page_team"] in team.paged else 0.0,
            agent.page_team,
            hit(agent.page_team, truth["page_team"], POINTS["paged"]),
            POINTS["paged"],
        ),
        Row(
            "Time to detect (from onset)",
            f"alert after {alert_min:.1f} min",
            _fmt(team_detect),
            _speed(team_detect, alert_min + 5, 60, POINTS["detect"]),
            f"{_fmt(agent_ready)} (on the alert)",
            _speed(agent_ready, alert_min + 5, 60, POINTS["detect"]),
            POINTS["detect"],
        ),
        Row(
            "First status update (from onset)",
            "within 30 min",
            _fmt(team_update),
            _speed(team_update, 30, 90, POINTS["update"]),
            f"{_fmt(agent_ready)} (draft, awaiting approval)",
            _speed(agent_ready, 30, 90, POINTS["update"]),
            POINTS["update"],
        ),
    ]
    return Scorecard(truth["id"], team.team, rows, truth, agent, team.notes)
