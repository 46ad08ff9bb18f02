"""The triage graph, top to bottom: from an alert to approved, dispatched messages.

    open_or_attach ─┬─ (repeat or related alert) ──────────────────────────────► END
                    └─ investigate → llm_review → recall → assess_severity → route_incident
                         → draft → await_approval ⇄ send_approved ─(all decided)─► END

`llm_review` does nothing unless a model is configured (agent.llm).

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


def build_graph(checkpointer: BaseCheckpointSaver) -> TriageGraph:
    graph = StateGraph(TriageState, context_schema=TriageContext)
    graph.add_node("open_or_attach", nodes.open_or_attach)
    graph.add_node("investigate", nodes.investigate)
    graph.add_node("llm_review", nodes.llm_review)
    graph.add_node("recall", nodes.recall)
    graph.add_node("assess_severity", nodes.assess_severity)
    graph.add_node("route_incident", nodes.route_incident)
    graph.add_node("draft", nodes.draft)
    graph.add_node("await_approval", nodes.await_approval)
    graph.add_node("send_approved", nodes.send_approved)

    graph.add_edge(START, "open_or_attach")
    graph.add_conditional_edges("open_or_attach", nodes.after_open, ["investigate", END])
    graph.add_edge("investigate", "llm_review")
    graph.add_edge("llm_review", "recall")
    graph.add_edge("recall", "assess_severity")
    graph.add_edge("assess_severity", "route_incident")
    graph.add_edge("route_incident", "draft")
    graph.add_edge("draft", "await_approval")
    graph.add_edge("await_approval", "send_approved")
    graph.add_conditional_edges("send_approved", nodes.after_send, ["await_approval", END])
    return graph.compile(checkpointer=checkpointer)
