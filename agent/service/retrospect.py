"""From resolution to retrospective: the postmortem drafted on resolve, redrafted in
another language on request, and on approval exported, remembered and the incident closed.

Approval is the gate: nothing here publishes a postmortem before a person approved
it (the draft waits in the incident's run like every other draft).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from agent.approval.service import ApprovalError
from agent.context import TriageContext
from agent.draft.models import Draft, Language
from agent.incident.memory import confirmed_record
from agent.incident.models import Incident
from agent.incident.service import note
from agent.retrospective.document import KIND, approved_items, drafted, postmortem_draft
from agent.retrospective.write import NotResolved, write_postmortem
from agent.service.drafting import with_draft
from knowledge.records import PastIncident

log = logging.getLogger(__name__)


def postmortem_of(incident: Incident) -> Draft | None:
    return next((d for d in incident.drafts if d.kind == KIND), None)


def with_postmortem(
    ctx: TriageContext, incident: Incident, language: Language, by: str, at: datetime
) -> Incident:
    """`incident` with a pending postmortem in `language` (a new revision if there was one)."""
    try:
        postmortem = write_postmortem(incident, ctx.policy, language, at)
    except NotResolved as error:
        log.info("%s", error)
        return incident
    old = postmortem_of(incident)
    if old is not None and old.signed_off:
        raise ApprovalError(
            f"the postmortem of {incident.id} was {old.state} in {old.language}; it is final"
        )
    draft = postmortem_draft(postmortem, at, revision=old.revision + 1 if old else 1)
    text = (
        f"{by} drafted the {postmortem.template} postmortem ({language}), due"
        f" {postmortem.due.isoformat()}; waiting for approval."
    )
    return note(with_draft(incident, draft), "draft", text, by, at, data={"draft_id": draft.id})


def is_approved_postmortem(draft: Draft | None) -> bool:
    return draft is not None and draft.kind == KIND and draft.signed_off


def export(home: Path, draft: Draft) -> Path:
    """The approved postmortem as a Markdown file under the data directory."""
    folder = home / "postmortems"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{draft.incident_id}.md"
    path.write_text(draft.body, encoding="utf-8")
    return path


def remembered(incident: Incident, draft: Draft, path: Path) -> PastIncident:
    """The incident memory's record of the resolution, with the approved postmortem's
    summary and action items, so the next incident like it recalls both."""
    record = confirmed_record(incident)
    summary = next((s.body for s in drafted(draft).sections if s.key == "summary"), "")
    return record.model_copy(
        update={
            "summary": f"{summary}\n{record.summary}".strip(),
            "action_items": approved_items(draft),
            "links": [*record.links, str(path)],
            "tags": [*record.tags, KIND],
        }
    )
