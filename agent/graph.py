"""The triage graph, top to bottom: from an alert to approved, dispatched messages.

    open_or_attach ─┬─ (repeat or related alert, nothing new to look at) ──────► END
                    ├─ (a recovery no open incident holds: none opened) ───────► END
                    └─ investigate ─┬─ (re-look that read less: findings kept) revise ► END
                                    └─ llm_review → recall → assess_severity → route_incident
                         ─┬─ (first triage) draft → await_approval ⇄ send_approved ─► END
                          └─ (re-investigation) revise ─────────────────────────────► END

`llm_review` does nothing unless a model is configured (agent.llm). A related
alert that may change the picture re-investigates the open incident in its own
run; `triage serve` starts the same path when telemetry that failed answers
again or time passes (agent/service/reinvestigation.py). `revise` updates the
pending drafts the incident's first run is waiting on.

`await_approval` is a LangGraph interrupt: the run stops, the checkpoint is on
disk (agent.checkpoint), and any process may resume it with a person's
decision. Nothing is sent except by `send_approved`, and only what a person
approved.
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent import nodes
from agent.context import TriageContext
from agent.state import TriageState

TriageGraph = CompiledStateGraph[TriageState, TriageContext, TriageState, TriageState]


def build_graph(
    checkpointer: BaseCheckpointSaver | None,
    context_schema: type[TriageContext] = TriageContext,
) -> TriageGraph:
    """The graph on `checkpointer` (None: the server running it brings its own)."""
    graph = StateGraph(TriageState, context_schema=context_schema)
    graph.add_node("open_or_attach", nodes.open_or_attach)
    graph.add_node("investigate", nodes.investigate)
    graph.add_node("llm_review", nodes.llm_review)
    graph.add_node("recall", nodes.recall)
    graph.add_node("assess_severity", nodes.assess_severity)
    graph.add_node("route_incident", nodes.route_incident)
    graph.add_node("draft", nodes.draft)
    graph.add_node("revise", nodes.revise)
    graph.add_node("await_approval", nodes.await_approval)
    graph.add_node("send_approved", nodes.send_approved)

    graph.add_edge(START, "open_or_attach")
    graph.add_conditional_edges("open_or_attach", nodes.after_open, ["investigate", END])
    graph.add_conditional_edges("investigate", nodes.after_investigate, ["llm_review", "revise"])
    graph.add_edge("llm_review", "recall")
    graph.add_edge("recall", "assess_severity")
    graph.add_edge("assess_severity", "route_incident")
    graph.add_conditional_edges("route_incident", nodes.after_route, ["draft", "revise"])
    graph.add_edge("revise", END)
    graph.add_edge("draft", "await_approval")
    graph.add_edge("await_approval", "send_approved")
    graph.add_conditional_edges("send_approved", nodes.after_send, ["await_approval", END])
    return graph.compile(checkpointer=checkpointer)
