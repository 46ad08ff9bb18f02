"""Offline answers: templates filled from the incident's evidence and read-only tools.

Each answer says where its facts came from (evidence ids, or the tool call it
ran) and says plainly what it could not find. Text from telemetry stays as
data: it is redacted by the tools and escaped wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from agent.chat.intents import Intent
from agent.chat.lookup import Lookup
from agent.chat.notes import Note
from agent.draft.models import Draft, Language
from agent.draft.phrases import fault_name, phrases
from agent.draft.text import shown
from agent.incident.models import Incident
from agent.isolation.evidence import Evidence
from agent.isolation.models import Hypothesis
from agent.policy.models import Policy
from agent.routing.route import team_on_call
from tools.changes import RecentChangesOutput
from tools.logs import SearchLogsOutput
from tools.metrics import MetricSummary, SummarizeMetricOutput
from tools.redact import redact

SHOWN = 5
RATIONALE_ITEMS = 2  # as the engine words a hypothesis
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "help": "Ask me: what changed in the last hour; why do you suspect SERVICE; show"
        " SERVICE errors; SERVICE metrics; who is on call for TEAM; status; write a customer"
        " update / responder update / executive summary. Tell me what you did, decided or"
        " need (/action, /decision, /need) and the next update will say so.",
        "unknown": "I can't answer that offline. {help}",
        "no_isolation": "{id} has not been investigated yet, so there are no suspects.",
        "status": "{id} [{status}] {title}. Severity {severity}. Top suspect: {suspect}."
        " Services harmed: {harmed}. IC: {ic}. Pending drafts: {pending}.",
        "suspect": "{service} ({fault}, {confidence:.0%})",
        "none": "none",
        "why": "I suspect {service} ({fault}, confidence {confidence:.0%}, rank {rank} of {n})."
        " {rationale}\nEvidence:\n{evidence}",
        "not_suspect": "{service} is not among the suspects. The suspects are: {suspects}.",
        "changes": "Changes in the last {minutes} min{where}:\n{lines}",
        "no_changes": "No changes recorded in the last {minutes} min{where}.",
        "culprit": " ← the top suspect's change",
        "errors": "{matched} ERROR/FATAL lines from {service} in the last {minutes} min;"
        " newest:\n{lines}",
        "no_errors": "No ERROR or FATAL lines from {service} in the last {minutes} min.",
        "metrics": "Most unusual {service} metrics over the last {minutes} min:\n{lines}",
        "no_metrics": "No metrics for {service} in the last {minutes} min.",
        "failed": "I could not look that up: {reason}.",
        "need_service": "Which service? Known: {services}.",
        "oncall": "On call for {team}: {name} ({reason}).",
        "no_oncall": "I found nobody on call for {team} in the policy.",
        "paged": "For this incident: IC {ic}; paged {paged}.",
        "drafted": "Drafted a new {kind} (revision {revision}), pending approval:"
        " {title}\n\n{body}",
        "noted": "Noted as {kind}: {text}. The next responder update will include it.",
        "closest": "(I read this as: {what}. If you meant something else, ask in other words.)\n",
        "draft_unsure": 'Do you want me to draft {what}? Ask for it directly, e.g. "{example}".',
    },
    "ja": {
        "help": "次のように聞いてください: 直近1時間で何が変わった / なぜ SERVICE を疑うのか /"
        " SERVICE のエラー / SERVICE のメトリクス / TEAM の当番は誰 / 状況 /"
        " 顧客向け更新・対応状況・経営向けサマリーを書いて。実施した対応・決定・要請は"
        " /対応 /決定 /要請 で伝えると次の更新に反映されます。",
        "unknown": "オフラインではその質問に答えられません。{help}",
        "no_isolation": "{id} はまだ調査されていないため、被疑サービスはありません。",
        "status": "{id}［{status}］{title}。重大度 {severity}。最有力の被疑：{suspect}。"
        "影響が出ているサービス：{harmed}。IC：{ic}。承認待ちの下書き：{pending}。",
        "suspect": "{service}（{fault}、確度 {confidence:.0%}）",
        "none": "なし",
        "why": "{service} を疑っています（{fault}、確度 {confidence:.0%}、{n} 件中 {rank} 位）。"
        "{rationale}\n根拠:\n{evidence}",
        "not_suspect": "{service} は被疑に含まれていません。被疑: {suspects}。",
        "changes": "直近 {minutes} 分の変更{where}:\n{lines}",
        "no_changes": "直近 {minutes} 分{where}に記録された変更はありません。",
        "culprit": " ← 最有力被疑の変更",
        "errors": "直近 {minutes} 分の {service} の ERROR/FATAL は {matched} 件。"
        "新しい順:\n{lines}",
        "no_errors": "直近 {minutes} 分、{service} に ERROR/FATAL はありません。",
        "metrics": "直近 {minutes} 分で最も変化した {service} のメトリクス:\n{lines}",
        "no_metrics": "直近 {minutes} 分の {service} のメトリクスはありません。",
        "failed": "調べられませんでした: {reason}。",
        "need_service": "どのサービスですか？ 候補: {services}。",
        "oncall": "{team} の当番は {name} です（{reason}）。",
        "no_oncall": "ポリシーに {team} の当番が見つかりません。",
        "paged": "このインシデント: IC {ic}、呼び出し済み {paged}。",
        "drafted": "{kind}の新しい下書き（第{revision}版）を作りました。"
        "承認待ちです：{title}\n\n{body}",
        "noted": "「{kind}」として記録しました：{text}。次の対応状況の更新に反映されます。",
        "closest": "（「{what}」についての質問として答えます。違う場合は言い換えてください。）\n",
        "draft_unsure": "{what}を作成しますか？ 「{example}」のように依頼してください。",
    },
}
# What each intent answers, for a reply that says which question it took a line as.
INTENT_NAMES = {
    "en": {
        "help": "what I can answer",
        "changes": "recent changes",
        "why": "why a service is suspected",
        "errors": "error logs",
        "metrics": "metrics",
        "oncall": "who is on call",
        "status": "the incident's status",
        "customer_update": "a customer update",
        "responder_update": "a responder update",
        "exec_summary": "an executive summary",
    },
    "ja": {
        "help": "使い方",
        "changes": "直近の変更",
        "why": "被疑の根拠",
        "errors": "エラーログ",
        "metrics": "メトリクス",
        "oncall": "当番",
        "status": "状況",
        "customer_update": "顧客向けの更新",
        "responder_update": "対応状況の更新",
        "exec_summary": "経営向けサマリー",
    },
}
DRAFT_EXAMPLES = {
    "en": {
        "customer_update": "write a customer update",
        "responder_update": "write a responder update",
        "exec_summary": "write an executive summary",
    },
    "ja": {
        "customer_update": "顧客向けの更新を書いて",
        "responder_update": "対応状況の更新を書いて",
        "exec_summary": "経営向けサマリーを書いて",
    },
}
NOTE_NAMES = {
    "en": {"action": "an action", "decision": "a decision", "need": "a need"},
    "ja": {"action": "対応", "decision": "決定", "need": "要請"},
}


@dataclass
class Answer:
    """What to say and what it rests on (evidence ids, tool calls, draft ids)."""

    text: str
    citations: list[str] = field(default_factory=list)


def t(language: Language, key: str, **values: object) -> str:
    return TEXT[language][key].format(**values)


def help_answer(language: Language) -> Answer:
    return Answer(t(language, "help"))


def unknown_answer(language: Language) -> Answer:
    return Answer(t(language, "unknown", help=t(language, "help")))


def as_closest(intent: str, language: Language, answer: Answer) -> Answer:
    """`answer`, saying first which question the line was taken as (the match was not sure)."""
    what = INTENT_NAMES[language].get(intent, intent)
    return Answer(t(language, "closest", what=what) + answer.text, answer.citations)


def draft_unsure(intent: str, language: Language) -> Answer:
    """A drafting request that was not clearly one: ask, rather than make a new revision."""
    what = INTENT_NAMES[language][intent]
    return Answer(t(language, "draft_unsure", what=what, example=DRAFT_EXAMPLES[language][intent]))


def status_answer(incident: Incident, language: Language) -> Answer:
    """The incident at a glance, the services severity counted as harmed included: a
    responder asking where we are (or 「影響範囲は？」) asks how far the harm reaches."""
    top = incident.isolation.top() if incident.isolation else None
    routing = incident.routing
    pending = [d.id for d in incident.drafts if d.state == "pending"]
    harmed = incident.severity.harmed if incident.severity else []
    sep = phrases(language).list_sep
    text = t(
        language,
        "status",
        id=incident.id,
        status=phrases(language).status_name[incident.status],
        title=incident.title,
        severity=incident.severity.level if incident.severity else "?",
        suspect=_suspect(top, language) if top else t(language, "none"),
        ic=routing.incident_commander.name if routing else "?",
        harmed=sep.join(harmed) or t(language, "none"),
        pending=sep.join(pending) or t(language, "none"),
    )
    return Answer(text, list(top.evidence_ids[:SHOWN]) if top else [])


def why_answer(incident: Incident, service: str | None, language: Language) -> Answer:
    isolation = incident.isolation
    if isolation is None or not isolation.hypotheses:
        return Answer(t(language, "no_isolation", id=incident.id))
    ranked = isolation.hypotheses
    chosen = next((h for h in ranked if h.service == service), None) if service else ranked[0]
    if chosen is None:
        suspects = ", ".join(_suspect(h, language) for h in ranked[:SHOWN])
        return Answer(t(language, "not_suspect", service=service, suspects=suspects))
    evidence = isolation.evidence_by_id()
    cited = [i for i in chosen.evidence_ids if i in evidence][:SHOWN]
    lines = "\n".join(f"- [{i}] {evidence[i].wording(language)}" for i in cited)
    rationale = (
        chosen.rationale
        if language == "en"
        else " ".join(evidence[i].wording(language) for i in cited[:RATIONALE_ITEMS])
    )
    text = t(
        language,
        "why",
        service=chosen.service,
        fault=fault_name(chosen.fault_type, language),
        confidence=shown(chosen.confidence),
        rank=ranked.index(chosen) + 1,
        n=len(ranked),
        rationale=rationale,
        evidence=lines or "-",
    )
    return Answer(text, cited)


def changes_answer(incident: Incident, lookup: Lookup, intent: Intent) -> Answer:
    language, minutes = intent.language, intent.minutes or 60
    args: dict[str, object] = {"last": f"{minutes}m", "limit": 10}
    if intent.service:
        args["service"] = intent.service
    output = lookup.run("recent_changes", args)
    if not isinstance(output, RecentChangesOutput):
        return _failed(language, output, lookup)
    where = f" ({intent.service})" if intent.service else ""
    if not output.changes:
        return _cite(t(language, "no_changes", minutes=minutes, where=where), lookup)
    suspected = _suspect_changes(incident)
    lines = "\n".join(
        f"- {c.id} {c.kind} {c.service}: {c.summary} ({c.minutes_before_now:g} min ago)"
        + (t(language, "culprit") if any(c.id in e.summary for e in suspected) else "")
        for c in output.changes
    )
    answer = _cite(t(language, "changes", minutes=minutes, where=where, lines=lines), lookup)
    answer.citations += [e.id for e in suspected]
    return answer


def errors_answer(incident: Incident, lookup: Lookup, intent: Intent) -> Answer:
    language, minutes = intent.language, intent.minutes or 30
    service = intent.service or _top_service(incident)
    if service is None:
        return Answer(t(language, "need_service", services=", ".join(incident.services) or "-"))
    args = {"service": service, "levels": ["ERROR", "FATAL"], "last": f"{minutes}m", "limit": 8}
    output = lookup.run("search_logs", args)
    if not isinstance(output, SearchLogsOutput):
        return _failed(language, output, lookup)
    if not output.lines:
        return _cite(t(language, "no_errors", service=service, minutes=minutes), lookup)
    lines = "\n".join(f"- {line.ts:%H:%M:%S} {line.level} {line.message}" for line in output.lines)
    text = t(
        language, "errors", matched=output.matched, service=service, minutes=minutes, lines=lines
    )
    answer = _cite(text, lookup)
    answer.citations += _evidence_of(incident, service, "log")
    return answer


def metrics_answer(incident: Incident, lookup: Lookup, intent: Intent) -> Answer:
    language, minutes = intent.language, intent.minutes or 30
    service = intent.service or _top_service(incident)
    if service is None:
        return Answer(t(language, "need_service", services=", ".join(incident.services) or "-"))
    args = {"service": service, "last": f"{minutes}m", "max_series": SHOWN}
    output = lookup.run("summarize_metric", args)
    if not isinstance(output, SummarizeMetricOutput):
        return _failed(language, output, lookup)
    if not output.summaries:
        return _cite(t(language, "no_metrics", service=service, minutes=minutes), lookup)
    lines = "\n".join(_metric_line(s) for s in output.summaries)
    answer = _cite(t(language, "metrics", service=service, minutes=minutes, lines=lines), lookup)
    answer.citations += _evidence_of(incident, service, "metric")
    return answer


def _metric_line(s: MetricSummary) -> str:
    """'- cpu payment-1: median 91 vs 22 before (z 14)'; what is unknown is left out."""
    before = "no baseline before" if s.baseline_median is None else f"{s.baseline_median} before"
    shift = f" (z {s.z})" if s.z is not None else ""
    median = "no samples" if s.median is None else f"median {s.median}"
    return f"- {s.metric} {s.instance or '(service)'}: {median} vs {before}{shift}"


def oncall_answer(policy: Policy, incident: Incident, intent: Intent, at: datetime) -> Answer:
    language = intent.language
    service = policy.service(intent.service) if intent.service else None
    routing = incident.routing
    team = (
        intent.team
        or (service.team if service else None)
        or (routing.page_team if routing else None)
    )
    lines: list[str] = []
    citations: list[str] = []
    if team:
        page = team_on_call(policy, team, at)
        key = "oncall" if page else "no_oncall"
        reason = page.on_call.reason if page and page.on_call else "escalation contact"
        name = page.responder.name if page else ""
        lines.append(t(language, key, team=team, name=name, reason=reason))
        citations.append(f"policy:team_on_call({team!r}, {at.isoformat()})")
    if routing:
        paged = ", ".join(f"{p.name} ({p.role})" for p in routing.paged)
        lines.append(t(language, "paged", ic=routing.incident_commander.name, paged=paged))
        citations.append(f"incident:{incident.id}.routing")
    return Answer("\n".join(lines) or t(language, "no_oncall", team="?"), citations)


def draft_answer(draft: Draft, language: Language) -> Answer:
    text = t(
        language,
        "drafted",
        kind=phrases(language).kind_name[draft.kind],
        revision=draft.revision,
        title=draft.title,
        body=draft.body,
    )
    return Answer(text, [f"draft:{draft.id}", *draft.evidence_ids])


def note_answer(note: Note, language: Language, entry_ref: str) -> Answer:
    kind = NOTE_NAMES[language][note.kind]
    # The echo is an answer like any other: what the line carried by mistake stays masked.
    return Answer(f"{t(language, 'noted', kind=kind, text=redact(note.text))}", [entry_ref])


def _suspect(h: Hypothesis, language: Language) -> str:
    confidence = shown(h.confidence)
    fault = fault_name(h.fault_type, language)
    return t(language, "suspect", service=h.service, fault=fault, confidence=confidence)


def _top_service(incident: Incident) -> str | None:
    top = incident.isolation.top() if incident.isolation else None
    return top.service if top else (incident.services[0] if incident.services else None)


def _suspect_changes(incident: Incident) -> list[Evidence]:
    """The change evidence the top suspect cites (the change it is blamed on)."""
    isolation = incident.isolation
    top = isolation.top() if isolation else None
    if isolation is None or top is None:
        return []
    by_id = isolation.evidence_by_id()
    return [by_id[i] for i in top.evidence_ids if i in by_id and by_id[i].kind == "change"]


def _evidence_of(incident: Incident, service: str, kind: str) -> list[str]:
    evidence = incident.isolation.evidence if incident.isolation else []
    return [e.id for e in evidence if e.service == service and e.kind == kind][:SHOWN]


def _cite(text: str, lookup: Lookup) -> Answer:
    return Answer(text, [call.text() for call in lookup.calls])


def _failed(language: Language, reason: object, lookup: Lookup) -> Answer:
    return _cite(t(language, "failed", reason=str(reason)), lookup)
