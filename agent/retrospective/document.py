"""The postmortem as a document: the Markdown a reviewer approves, held as a draft.

The draft's body is the Markdown; its payload keeps the postmortem's data (sections,
cites, due, reviewers). Once approved, the approved body (edits included) is what
is exported and remembered, so `approved_items` reads the action items back from it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from agent.draft.models import Draft, DraftState
from agent.incident.lifecycle import TIMELINE_PREFIX
from agent.retrospective.models import Postmortem
from agent.retrospective.phrases import WORDS
from agent.retrospective.write import header

KIND = "postmortem"


def to_markdown(postmortem: Postmortem) -> str:
    parts = [f"# {postmortem.title}", "", header(postmortem), ""]
    for section in postmortem.sections:
        parts += [f"## {section.title}", "", section.body, ""]
    return "\n".join(parts)


def postmortem_draft(postmortem: Postmortem, at: datetime, revision: int = 1) -> Draft:
    """A pending draft for the responders, kept in the outbox once approved."""
    return Draft(
        id=f"{postmortem.incident_id}-{KIND}",
        incident_id=postmortem.incident_id,
        kind=KIND,
        audience="responders",
        channel="outbox",
        language=postmortem.language,
        title=postmortem.title,
        body=to_markdown(postmortem),
        evidence_ids=[c for c in postmortem.cites if not c.startswith(TIMELINE_PREFIX)],
        created_at=at,
        revision=revision,
        payload={"postmortem": postmortem.model_dump(mode="json")},
    )


def drafted(draft: Draft) -> Postmortem:
    """The postmortem data a draft was written from."""
    return Postmortem.model_validate(draft.payload["postmortem"])


def approved_items(draft: Draft) -> list[str]:
    """The action items of the body as approved: the bullets under their heading."""
    heading = f"## {WORDS[draft.language].headings['action_items']}"
    lines = draft.body.splitlines()
    if heading not in lines:
        return []
    items: list[str] = []
    for line in lines[lines.index(heading) + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("- "):
            items.append(line[2:].strip())
    return items


class PostmortemView(Postmortem):
    """The postmortem draft: its data, its state, and the Markdown a reviewer approves."""

    id: str = Field(description="The draft id, to approve, edit or reject it.")
    state: DraftState
    revision: int
    markdown: str

    @classmethod
    def of(cls, draft: Draft) -> PostmortemView:
        found = drafted(draft)
        return cls(
            **dict(found),
            id=draft.id,
            state=draft.state,
            revision=draft.revision,
            markdown=draft.body,
        )
