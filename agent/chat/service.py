"""One chat turn: record the line, note what was done/decided/needed, answer with citations.

Every line a responder sends enters the incident timeline (kind "chat"); an
action, decision or need is marked so the next responder update carries it.
Drafting requests make a new pending draft revision through the desk. Questions
are answered offline from the evidence and tools, or by the LLM when it is on,
falling back to the offline answer (and saying why) whenever the LLM fails.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from agent.chat import answers
from agent.chat.answers import Answer
from agent.chat.intents import Intent, language_of, match_intent
from agent.chat.llm import llm_answer
from agent.chat.lookup import Lookup
from agent.chat.notes import Note, recognise_note
from agent.draft.context import NoteKind
from agent.draft.models import Draft, Language
from agent.incident.models import Incident
from agent.llm.investigate import error_reason
from agent.service.desk import Desk
from knowledge.embeddings import EmbeddingError
from tools.toolset import ToolCall

ANSWER_IN_TIMELINE = 2_000
CITATIONS_IN_TIMELINE = 20
QUESTION_INTENTS = frozenset({"changes", "why", "errors", "metrics", "status", "unknown"})


class NoteOut(BaseModel):
    kind: NoteKind
    text: str


class ChatReply(BaseModel):
    """The agent's answer to one chat line."""

    incident_id: str
    intent: str = Field(description="What the line was taken as (or 'note').")
    language: Language
    answer: str
    citations: list[str] = Field(
        default_factory=list, description="Evidence ids, tool calls, draft or policy refs."
    )
    tool_calls: list[ToolCall] = Field(default_factory=list)
    note: NoteOut | None = Field(None, description="The action/decision/need recorded, if any.")
    draft: Draft | None = Field(None, description="The new pending draft, for drafting requests.")
    engine: str = "offline"
    fallback_reason: str | None = None


class ChatService:
    """Chat about incidents through the desk (so every write is serialised and synced)."""

    def __init__(self, desk: Desk, model: BaseChatModel | None = None) -> None:
        self.desk = desk
        self.model = model

    def ask(self, incident_id: str, text: str, author: str) -> ChatReply:
        incident = self.desk.store.get(incident_id)
        line = text.strip()
        note = recognise_note(line)
        if note is not None:
            return self._note(incident, note, line, author)
        intent = self._intent(incident, line)
        self.desk.record(incident.id, "chat", line, author, {"intent": intent.name})
        if intent.draft_kind is not None and not intent.sure:
            answer = answers.draft_unsure(intent.name, intent.language)
            return self._reply(incident, intent.name, intent.language, author, answer)
        if intent.draft_kind is not None:
            draft = self.desk.redraft(incident.id, intent.draft_kind, author)
            return self._reply(
                incident,
                intent.name,
                intent.language,
                author,
                answers.draft_answer(draft, intent.language),
                draft=draft,
            )
        return self._question(self.desk.store.get(incident.id), intent, line, author)

    def _note(self, incident: Incident, note: Note, line: str, author: str) -> ChatReply:
        language = language_of(line)
        recorded = self.desk.record(
            incident.id, "chat", note.text, author, {"note_kind": note.kind}
        )
        ref = f"timeline:{recorded.timeline[-1].at.isoformat()}"
        answer = answers.note_answer(note, language, ref)
        return self._reply(
            recorded,
            "note",
            language,
            author,
            answer,
            note=NoteOut(kind=note.kind, text=note.text),
        )

    def _question(self, incident: Incident, intent: Intent, line: str, author: str) -> ChatReply:
        lookup = Lookup.of(self.desk.ctx, incident)
        answer, engine, reason = self._ask_llm(incident, intent, line, lookup)
        if answer is None:
            if reason is not None:  # the LLM's tool calls are not this answer's citations
                lookup = Lookup.of(self.desk.ctx, incident)
            answer = self._offline(incident, intent, lookup)
        return self._reply(
            incident,
            intent.name,
            intent.language,
            author,
            answer,
            calls=lookup.calls,
            engine=engine,
            fallback=reason,
        )

    def _ask_llm(
        self, incident: Incident, intent: Intent, line: str, lookup: Lookup
    ) -> tuple[Answer | None, str, str | None]:
        """(answer, engine, why it fell back): the LLM's answer where one is configured
        for this kind of question; None with the reason when it failed."""
        config = self.desk.ctx.config.llm
        if not (config.enabled or self.model is not None) or intent.name not in QUESTION_INTENTS:
            return None, "offline", None
        try:
            if lookup.session is None:
                raise RuntimeError("no telemetry configured for the LLM's tools")
            answer = llm_answer(
                line, intent.language, incident, lookup.session, config=config, model=self.model
            )
        except Exception as error:
            return None, "offline", error_reason(error)
        return answer, f"llm:{config.model}", None

    def _offline(self, incident: Incident, intent: Intent, lookup: Lookup) -> Answer:
        language = intent.language
        by_intent: dict[str, Callable[[], Answer]] = {
            "help": lambda: answers.help_answer(language),
            "status": lambda: answers.status_answer(incident, language),
            "why": lambda: answers.why_answer(incident, intent.service, language),
            "changes": lambda: answers.changes_answer(incident, lookup, intent),
            "errors": lambda: answers.errors_answer(incident, lookup, intent),
            "metrics": lambda: answers.metrics_answer(incident, lookup, intent),
            "oncall": lambda: answers.oncall_answer(
                self.desk.ctx.policy, incident, intent, self.desk.ctx.incident_now(incident)
            ),
        }
        chosen = by_intent.get(intent.name)
        if intent.problem:
            return answers.Answer(answers.t(language, "failed", reason=intent.problem))
        answer = chosen() if chosen else answers.unknown_answer(language)
        return answer if intent.sure else answers.as_closest(intent.name, language, answer)

    def _intent(self, incident: Incident, line: str) -> Intent:
        """The line's intent, with every name a responder may use for a service or team."""
        policy = self.desk.ctx.policy
        services = {*incident.services, *(s.name for s in policy.services)}
        if incident.isolation:
            services |= {h.service for h in incident.isolation.hypotheses}
            services |= {e.service for e in incident.isolation.evidence}
        names = {name: name for name in services}
        for service in policy.services:
            public = service.public_name
            aliases = [*service.aliases, *((public.en, public.ja) if public else ())]
            names |= {alias: service.name for alias in aliases if alias}
        teams = {team.name: team.name for team in policy.teams}
        for team in policy.teams:
            teams |= {a: team.name for a in (team.display_name.en, team.display_name.ja) if a}
        try:
            return match_intent(line, names, teams)
        except EmbeddingError as error:  # a broken model install degrades chat, never 500s
            return Intent("unknown", language_of(line), problem=str(error))

    def _reply(
        self,
        incident: Incident,
        intent: str,
        language: Language,
        author: str,
        answer: Answer,
        *,
        calls: list[ToolCall] | None = None,
        note: NoteOut | None = None,
        draft: Draft | None = None,
        engine: str = "offline",
        fallback: str | None = None,
    ) -> ChatReply:
        """Record the answer in the timeline (as the agent) and return it."""
        data = {
            "intent": intent,
            "in_reply_to": author,
            "citations": answer.citations[:CITATIONS_IN_TIMELINE],
            "engine": engine,
            "fallback_reason": fallback,
        }
        self.desk.record(incident.id, "chat", answer.text[:ANSWER_IN_TIMELINE], "agent", data)
        return ChatReply(
            incident_id=incident.id,
            intent=intent,
            language=language,
            answer=answer.text,
            citations=answer.citations,
            tool_calls=calls or [],
            note=note,
            draft=draft,
            engine=engine,
            fallback_reason=fallback,
        )
