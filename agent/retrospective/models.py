"""A postmortem as data: sections of cited lines, the due date, who reviews it."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, computed_field

from agent.draft.models import Language
from agent.policy.models import PostmortemSection, RetrospectiveTemplate


class Line(BaseModel):
    """One statement and the evidence ids or timeline entries (TL-<n>) it rests on."""

    text: str
    cites: list[str] = Field(default_factory=list)


class Section(BaseModel):
    """One heading of the postmortem: its lines, and the same as one body of text."""

    key: PostmortemSection
    title: str
    lines: list[Line]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def body(self) -> str:
        return "\n".join(f"- {line.text}{cite_mark(line.cites)}" for line in self.lines)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cites(self) -> list[str]:
        return list(dict.fromkeys(c for line in self.lines for c in line.cites))


class Postmortem(BaseModel):
    """The retrospective of one incident, in one language."""

    incident_id: str
    language: Language
    severity: str
    template: RetrospectiveTemplate
    title: str
    due: date = Field(description="When the review is due (business days after resolution).")
    reviewers: list[str]
    review_meeting: bool
    sections: list[Section]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cites(self) -> list[str]:
        return list(dict.fromkeys(c for s in self.sections for c in s.cites))


def cite_mark(cites: list[str]) -> str:
    return f" [{', '.join(cites)}]" if cites else ""
