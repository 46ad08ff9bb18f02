"""Where an incident stands, and what a re-investigation changed about it.

A re-investigation's timeline line says what changed and why ("verdict
inconclusive → conclusive; suspect frontend → payment (bad-deploy, 92%)"), so
responders who read the page an hour ago see at a glance what is new.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.draft.text import percent
from agent.incident.models import Incident


class Standing(BaseModel):
    """The conclusions responders act on."""

    verdict: str | None = None
    suspect: str | None = None
    fault_type: str | None = None
    confidence: float | None = None
    severity: str | None = None
    page_team: str | None = None
    gaps: list[str] = Field(default_factory=list, description="Telemetry kinds not read.")

    @classmethod
    def of(cls, incident: Incident) -> Standing:
        isolation = incident.isolation
        top = isolation.top() if isolation else None
        return cls(
            verdict=isolation.verdict if isolation else None,
            suspect=top.service if top else None,
            fault_type=top.fault_type if top else None,
            confidence=top.confidence if top else None,
            severity=incident.severity.level if incident.severity else None,
            page_team=incident.routing.page_team if incident.routing else None,
            gaps=sorted(incident.telemetry_gaps),
        )

    def suspect_text(self) -> str:
        if self.suspect is None:
            return "none"
        confidence = percent(self.confidence or 0.0)
        return f"{self.suspect} ({self.fault_type or 'unknown'}, {confidence})"


def what_changed(before: Standing, after: Standing) -> list[str]:
    """One phrase per conclusion that differs, in the order responders care about."""
    changes: list[str] = []
    if before.gaps != after.gaps:
        back = [g for g in before.gaps if g not in after.gaps]
        lost = [g for g in after.gaps if g not in before.gaps]
        changes += [f"{', '.join(back)} readable again"] if back else []
        changes += [f"{', '.join(lost)} now unavailable"] if lost else []
    if before.verdict != after.verdict:
        changes.append(f"verdict {before.verdict} → {after.verdict}")
    if (before.suspect, before.fault_type) != (after.suspect, after.fault_type):
        changes.append(f"top suspect {before.suspect_text()} → {after.suspect_text()}")
    elif before.suspect is not None and percent(before.confidence or 0.0) != percent(
        after.confidence or 0.0
    ):
        changes.append(
            f"{after.suspect} confidence {percent(before.confidence or 0.0)}"
            f" → {percent(after.confidence or 0.0)}"
        )
    if before.severity != after.severity:
        changes.append(f"severity {before.severity} → {after.severity}")
    if before.page_team != after.page_team:
        changes.append(f"page team {before.page_team} → {after.page_team}")
    return changes
