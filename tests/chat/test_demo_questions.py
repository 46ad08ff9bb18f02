"""Free-phrased questions, ten in English and ten in Japanese, about the demo's incident,
asked the way `triage chat INC --data-dir …` asks them: by a process with no telemetry
configured, which reads the incident's own (it recorded its replay dataset and clock)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agent.alert.parse import parse_alert
from agent.chat.service import ChatReply, ChatService
from agent.cli import DEMO_CASE, DEMO_DATASET
from agent.config import TriageConfig
from agent.context import build_context
from agent.runner import TriageRunner
from agent.service.desk import Desk
from knowledge.embeddings import EmbeddingError
from tools.telemetry.replay.backend import ReplayDataset


def cites(prefix: str) -> Callable[[ChatReply], bool]:
    return lambda reply: any(c.startswith(prefix) for c in reply.citations)


# The kind of answer each intent gives, told by what it cites.
KINDS: dict[str, Callable[[ChatReply], bool]] = {
    "changes": cites("recent_changes("),
    "why": lambda reply: bool(reply.citations) and all(c in reply.answer for c in reply.citations),
    "errors": cites("search_logs("),
    "metrics": cites("summarize_metric("),
    "oncall": cites("policy:team_on_call("),
    "status": cites("ev-"),
}
QUESTIONS = [
    ("anything deployed before this started?", "changes"),
    ("did anyone change config in the last 30 minutes?", "changes"),
    ("what's the root cause here?", "why"),
    ("how confident are you about the top suspect?", "why"),
    ("are there exceptions in the checkout logs?", "errors"),
    ("what errors is payment throwing?", "errors"),
    ("show me the latency of checkout for the past 2 hours", "metrics"),
    ("cpu and memory of checkout?", "metrics"),
    ("who's on call for commerce right now?", "oncall"),
    ("give me a quick rundown", "status"),
    ("直前に何かリリースされた？", "changes"),
    ("最近の設定変更ある？", "changes"),
    ("決済の原因は何ですか？", "why"),
    ("原因は何だと思う？", "why"),
    ("checkoutのログにエラー出てる？", "errors"),
    ("カートのエラーを確認して", "errors"),
    ("checkoutのレイテンシの推移を見せて", "metrics"),
    ("メモリとCPUはどう？", "metrics"),
    ("誰が呼ばれてる？", "oncall"),
    ("今どういう状況？", "status"),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[ChatService, str]:
    """The demo's incident triaged into a data dir, and chat on it without telemetry."""
    home: Path = tmp_path_factory.mktemp("demo")
    dataset = ReplayDataset.open(DEMO_DATASET.resolve())
    case = next(c for c in dataset.cases() if c.id == DEMO_CASE)
    ctx = build_context(TriageConfig(), home=home, telemetry=dataset.at)
    outcome = TriageRunner(ctx).run(parse_alert(case.alert.payload, case.alert.source), case.now)
    source = outcome.incident.telemetry
    assert source is not None and source.kind == "replay" and source.now == case.now
    assert Path(source.dataset or "") == DEMO_DATASET.resolve()
    chat_ctx = build_context(TriageConfig(), home=home)
    assert chat_ctx.telemetry is None
    return ChatService(Desk(chat_ctx)), outcome.incident.id


@pytest.mark.parametrize(("question", "kind"), QUESTIONS)
def test_a_free_phrased_question_gets_the_right_kind_of_cited_answer(
    demo: tuple[ChatService, str], question: str, kind: str
) -> None:
    chat, incident_id = demo
    reply = chat.ask(incident_id, question, "aki")
    assert reply.intent == kind, reply.answer
    assert reply.citations, "every answer cites what it rests on"
    assert KINDS[kind](reply), (reply.citations, reply.answer)
    assert "no telemetry" not in reply.answer
    assert reply.language == ("ja" if any(ord(c) > 0x3000 for c in question) else "en")


def test_a_line_near_nothing_says_what_it_can_answer(demo: tuple[ChatService, str]) -> None:
    chat, incident_id = demo
    reply = chat.ask(incident_id, "tell me a joke", "aki")
    assert reply.intent == "unknown" and reply.answer.startswith("I can't answer that offline")


def test_an_unsure_match_is_answered_as_the_closest_and_says_so(
    demo: tuple[ChatService, str],
) -> None:
    chat, incident_id = demo
    reply = chat.ask(incident_id, "is the db ok?", "aki")
    assert reply.intent == "status" and reply.answer.startswith("(I read this as: the incident")
    assert reply.citations


def test_a_broken_model_install_degrades_chat_and_says_why(
    demo: tuple[ChatService, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise EmbeddingError("weights.npz: sha256 … does not match the pinned …")

    monkeypatch.setattr("agent.chat.service.match_intent", broken)
    chat, incident_id = demo
    reply = chat.ask(incident_id, "what changed?", "aki")
    assert reply.intent == "unknown" and "does not match the pinned" in reply.answer
