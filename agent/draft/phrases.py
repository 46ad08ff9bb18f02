"""The words of every draft, in English and Japanese.

One builder per draft kind reads these tables; nothing language-specific lives
in the builders. Phrases are `str.format` templates whose blanks are filled
with values (never the other way round: a value is never used as a template).
Adding a phrase means adding it to `Phrases` and to both tables; mypy and the
tests catch a language that lacks it.

The PR holding statements at the bottom are APPROVED WORDING: see
`APPROVED_PR_TEMPLATES` and docs/drafts.md before touching them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from string import Template
from typing import Literal, get_args

from agent.draft.models import DraftKind, Language
from agent.incident.models import IncidentStatus

DRAFT_KINDS: tuple[str, ...] = get_args(DraftKind)
INCIDENT_STATUSES: tuple[str, ...] = get_args(IncidentStatus)


@dataclass(frozen=True, slots=True)
class Phrases:
    """Every phrase the drafts use, for one language."""

    # Shared
    language: str
    colon: str
    reason_sep: str
    item_sep: str
    list_sep: str
    list_last: str
    unknown: str
    none_recorded: str
    truncated: str
    some_services: str
    more_services: str
    internal_component: str
    issue: str
    issue_security: str
    fault: Mapping[str, str]
    kind_name: Mapping[str, str]
    status_name: Mapping[str, str]
    verdict: Mapping[str, str]
    reason_inconclusive: str
    no_runner_up: str
    reason_unavailable: str
    evidence_kind: Mapping[str, str]
    analysis_by: Mapping[str, str]
    example_policy: str
    telemetry_unavailable: str
    telemetry_gap: str
    # Labels of internal drafts
    l_incident: str
    l_severity: str
    l_ic: str
    l_paged: str
    l_affected: str
    l_impact: str
    l_evidence: str
    l_war_room: str
    l_analysis: str
    l_next_update: str
    l_recovery: str
    # Internal facts
    incident_ref: str
    severity_rule: str
    suspect: str
    cause_suspected: str
    cause_unknown: str
    leading_suspects: str
    other_suspects: str
    no_suspects: str
    war_room_unset: str
    evidence_item: str
    no_evidence: str
    impact_undescribed: str
    person: str
    # Page
    page_title_suspected: str
    page_title_unknown: str
    page_title_no_signal: str
    # Responder update (Conditions / Actions / Needs)
    ru_title: str
    ru_conditions: str
    ru_actions: str
    ru_needs: str
    ru_note: str
    ru_decision: str
    # Status update
    su_title_first: str
    su_title_next: str
    su_greeting: str
    su_lead_first: str
    su_lead_next: str
    su_apology: str
    su_impact_known: str
    su_impact_unknown: str
    su_l_detected: str
    su_l_affected: str
    su_l_impact: str
    su_l_status: str
    su_l_next: str
    su_l_more: str
    su_detected: str
    su_status: str
    su_next: str
    su_title_resolved: str
    su_lead_resolved: str
    su_apology_resolved: str
    su_l_resolved: str
    su_status_resolved: str
    # Executive summary
    ex_title: str
    ex_h_impact: str
    ex_h_known: str
    ex_h_unknown: str
    ex_h_lead: str
    ex_h_next: str
    ex_h_decisions: str
    ex_impact_undescribed: str
    ex_impact_unknown: str
    ex_severity: str
    ex_affected: str
    ex_cause_conclusive: str
    ex_cause_leading: str
    ex_cause_none: str
    ex_security: str
    ex_unknown_cause: str
    ex_unknown_impact: str
    ex_unknown_recovery: str
    ex_unknown_data: str
    ex_lead: str
    ex_next: str
    ex_decision_legal: str
    ex_decision_pr: str
    ex_decision_needs: str
    # PR holding statement
    pr_title: str


EN = Phrases(
    language="en",
    colon=": ",
    reason_sep="; ",
    item_sep="; ",
    list_sep=", ",
    list_last=" and ",
    unknown="unknown",
    none_recorded="none recorded yet",
    truncated="… (truncated)",
    some_services="some of our services",
    more_services="+{count} more",
    internal_component="an internal component",
    issue="issue",
    issue_security="issue",
    kind_name={k: k for k in DRAFT_KINDS},
    status_name={s: s for s in INCIDENT_STATUSES},
    fault={
        "cpu": "CPU saturation",
        "memory": "memory exhaustion",
        "disk": "a disk problem",
        "network-delay": "network latency",
        "network-loss": "packet loss",
        "code-exception": "application exceptions",
        "code-error-return": "application error responses",
        "bad-deploy": "a faulty deployment",
        "config": "a configuration problem",
        "dependency-down": "a dependency outage",
        "database": "a database problem",
        "resource-exhaustion": "resource exhaustion",
        "traffic-surge": "a traffic surge",
        "security": "a possible security event",
        "unknown": "a fault of unknown type",
    },
    verdict={
        "conclusive": "conclusive",
        "inconclusive": "inconclusive",
        "no-signal": "no clear signal",
    },
    reason_inconclusive="signals are weak or disagree: {service} leads at {confidence},"
    " then {runner_up}",
    no_runner_up="nothing",
    reason_unavailable="too little telemetry could be read to judge",
    evidence_kind={
        "metric": "metric",
        "trace": "trace",
        "log": "log",
        "change": "change",
        "topology": "topology",
        "memory": "past incident",
        "alert": "alert",
    },
    analysis_by={
        "deterministic": "deterministic engine",
        "llm": "LLM-assisted; verify before acting",
        "llm_failed": "deterministic engine; the LLM's review failed and was not used",
    },
    example_policy="[EXAMPLE POLICY] No policy is configured: severity, teams, rotas and names"
    " come from the bundled fictional example (set `policy:` in triage.yaml).",
    telemetry_unavailable="Telemetry unavailable: {gaps}; judged from what could be read",
    telemetry_gap="{kind} ({reason})",
    l_incident="Incident",
    l_severity="Severity",
    l_ic="Incident commander",
    l_paged="Paged",
    l_affected="Affected services",
    l_impact="User-facing impact",
    l_evidence="Evidence",
    l_war_room="War room",
    l_analysis="Analysis",
    l_next_update="Next status update due",
    l_recovery="Time to recovery",
    incident_ref="{id}, opened {at}",
    severity_rule="{level} (policy rule: {rule})",
    suspect="{service}: {fault}, confidence {confidence}",
    cause_suspected="Suspected cause: {suspect} (verdict: {verdict})",
    cause_unknown="Cause: not yet known (verdict: {verdict})",
    leading_suspects="Leading suspects: {suspects}",
    other_suspects="Other suspects: {suspects}",
    no_suspects="Leading suspects: none yet",
    war_room_unset="not set (war_room_url in triage.yaml)",
    evidence_item="- [{id}] {kind}: {summary}",
    no_evidence="- none cited yet",
    impact_undescribed="yes, not yet described",
    person="{name} ({team})",
    page_title_suspected="[{level}] {service}: suspected {fault} ({confidence})",
    page_title_unknown="[{level}] Cause not yet known; leading suspects: {services}",
    page_title_no_signal="[{level}] Cause not yet known: {title}",
    ru_title="[{level}] {id} responder update, {at}",
    ru_conditions="*Conditions*",
    ru_actions="*Actions*",
    ru_needs="*Needs*",
    ru_note="- {at} {author}: {text}",
    ru_decision="Decision: {text}",
    su_title_first="Investigating: {issue} affecting {services}",
    su_title_next="Update: {issue} affecting {services}",
    su_greeting="",
    su_lead_first="We are investigating an {issue} affecting {services}.",
    su_lead_next="We are continuing to investigate the {issue} affecting {services}.",
    su_apology="We apologise for the inconvenience.",
    su_impact_known="Customers using {services} are affected.",
    su_impact_unknown="We are assessing the impact on customers.",
    su_l_detected="Detected",
    su_l_affected="Affected",
    su_l_impact="Impact",
    su_l_status="Status",
    su_l_next="Next update",
    su_l_more="Updates",
    su_detected="{at}",
    su_status="Investigating",
    su_next="by {at}",
    su_title_resolved="Resolved: {issue} affecting {services}",
    su_lead_resolved="The {issue} affecting {services} has been resolved.",
    su_apology_resolved="We apologise for the inconvenience caused.",
    su_l_resolved="Resolved",
    su_status_resolved="Resolved",
    ex_title="[{level}] Executive summary: {services}",
    ex_h_impact="Impact",
    ex_h_known="What we know",
    ex_h_unknown="What we don't know yet",
    ex_h_lead="Who leads",
    ex_h_next="Next update",
    ex_h_decisions="Decisions needed",
    ex_impact_undescribed="Customers using {services} are affected; the details are not yet known.",
    ex_impact_unknown="Unknown; the impact on customers is being assessed.",
    ex_severity="Severity {level}; detected at {at} (incident {id}).",
    ex_affected="Affected services: {services}.",
    ex_cause_conclusive=(
        "The analysis points to {fault} in {where}; a responder has not yet confirmed it."
    ),
    ex_cause_leading=(
        "The cause is not yet known; the leading line of investigation is {fault} in {where}."
    ),
    ex_cause_none="The cause is not yet known; there is no clear signal so far.",
    ex_security=(
        "This is being handled as a possible security incident;"
        " any external statement needs legal and PR approval first."
    ),
    ex_unknown_cause="The cause.",
    ex_unknown_impact="The impact on customers.",
    ex_unknown_recovery="When service will be fully restored.",
    ex_unknown_data="Whether any customer data is affected.",
    ex_lead="{ic}, incident commander.",
    ex_next="By {at}.",
    ex_decision_legal="Legal and PR approval before any external statement.",
    ex_decision_pr="Approval of the PR holding statement (drafted, awaiting approval).",
    ex_decision_needs="Responders have {n} open request(s); details are in the responder channel.",
    pr_title="Holding statement: {services}",
)

JA = Phrases(
    language="ja",
    colon="：",
    reason_sep="、",
    item_sep="、",
    list_sep="、",
    list_last="、",
    unknown="不明",
    none_recorded="まだ記録されていません",
    truncated="…（以下省略）",
    some_services="一部のサービス",
    more_services="ほか{count}件",
    internal_component="社内システムの一部",
    issue="障害",
    issue_security="事象",
    kind_name={
        "page": "呼び出し",
        "responder_update": "対応状況の共有",
        "status_update": "ステータスページ",
        "exec_summary": "経営層向けサマリー",
        "pr_statement": "報道機関向けコメント",
        "postmortem": "ポストモーテム",
    },
    status_name={
        "open": "発生中",
        "acknowledged": "確認済み",
        "mitigated": "緩和済み",
        "resolved": "解決済み",
        "closed": "完了",
    },
    fault={
        "cpu": "CPU 高負荷",
        "memory": "メモリ不足",
        "disk": "ディスクの問題",
        "network-delay": "ネットワーク遅延",
        "network-loss": "パケットロス",
        "code-exception": "アプリケーションの例外",
        "code-error-return": "アプリケーションのエラー応答",
        "bad-deploy": "不具合のあるデプロイ",
        "config": "設定の不備",
        "dependency-down": "依存先サービスの停止",
        "database": "データベースの問題",
        "resource-exhaustion": "リソース枯渇",
        "traffic-surge": "トラフィックの急増",
        "security": "セキュリティ事象の可能性",
        "unknown": "種別不明の障害",
    },
    verdict={
        "conclusive": "確定的",
        "inconclusive": "決め手なし",
        "no-signal": "有意なシグナルなし",
    },
    reason_inconclusive="シグナルが弱いか食い違っています。首位は{service}"
    "（確度 {confidence}）、次点は{runner_up}",
    no_runner_up="なし",
    reason_unavailable="判断に必要なテレメトリを取得できていません",
    evidence_kind={
        "metric": "メトリクス",
        "trace": "トレース",
        "log": "ログ",
        "change": "変更",
        "topology": "構成",
        "memory": "過去の事例",
        "alert": "アラート",
    },
    analysis_by={
        "deterministic": "決定論的解析エンジン",
        "llm": "LLM による解析（対応前に要確認）",
        "llm_failed": "決定論的解析エンジン（LLM による検証は失敗したため使用していません）",
    },
    example_policy="【例示用ポリシー】ポリシーが未設定です。重大度・チーム・当番・名称は同梱の"
    "架空の例によるものです（triage.yaml の policy: を設定してください）。",
    telemetry_unavailable="テレメトリ取得不可：{gaps}。取得できた情報のみで判断しています",
    telemetry_gap="{kind}（{reason}）",
    l_incident="インシデント",
    l_severity="重大度",
    l_ic="インシデントコマンダー",
    l_paged="呼び出し済み",
    l_affected="影響を受けているサービス",
    l_impact="利用者への影響",
    l_evidence="根拠",
    l_war_room="対策室",
    l_analysis="解析",
    l_next_update="次回ステータス更新期限",
    l_recovery="復旧見込み",
    incident_ref="{id}（{at} 起票）",
    severity_rule="{level}（ポリシー規則：{rule}）",
    suspect="{service}：{fault}（確度 {confidence}）",
    cause_suspected="推定原因：{suspect}（判定：{verdict}）",
    cause_unknown="原因：未特定（判定：{verdict}）",
    leading_suspects="有力な候補：{suspects}",
    other_suspects="その他の候補：{suspects}",
    no_suspects="有力な候補：現時点ではなし",
    war_room_unset="未設定（triage.yaml の war_room_url）",
    evidence_item="- [{id}] {kind}：{summary}",
    no_evidence="- まだありません",
    impact_undescribed="あり（詳細は未確認）",
    person="{name}（{team}）",
    page_title_suspected="[{level}] {service}で{fault}の疑い（確度 {confidence}）",
    page_title_unknown="[{level}] 原因未特定（有力候補：{services}）",
    page_title_no_signal="[{level}] 原因未特定：{title}",
    ru_title="[{level}] {id} 対応状況（{at} 時点）",
    ru_conditions="*状況*",
    ru_actions="*実施済みの対応*",
    ru_needs="*必要な支援*",
    ru_note="- {at} {author}：{text}",
    ru_decision="決定事項：{text}",
    su_title_first="【調査中】{services}の{issue}について",
    su_title_next="【続報】{services}の{issue}について",
    su_greeting="いつも{organisation}をご利用いただき、誠にありがとうございます。",
    su_lead_first="現在、{services}において{issue}が発生しており、調査を行っております。",
    su_lead_next="{services}において発生している{issue}について、引き続き調査を行っております。",
    su_apology="ご不便をおかけしており、誠に申し訳ございません。",
    su_impact_known="{services}をご利用のお客様に影響が出ております。",
    su_impact_unknown="お客様への影響については、現在確認しております。",
    su_l_detected="■検知日時",
    su_l_affected="■対象サービス",
    su_l_impact="■影響",
    su_l_status="■現在の状況",
    su_l_next="■次回のお知らせ",
    su_l_more="■最新情報",
    su_detected="{at}頃",
    su_status="調査中",
    su_next="{at}までにお知らせいたします。",
    su_title_resolved="【復旧】{services}の{issue}について",
    su_lead_resolved="{services}において発生していた{issue}は、復旧いたしました。",
    su_apology_resolved="ご不便をおかけしましたことを、深くお詫び申し上げます。",
    su_l_resolved="■復旧日時",
    su_status_resolved="復旧済み",
    ex_title="【{level}】経営層向けサマリー：{services}",
    ex_h_impact="■影響",
    ex_h_known="■判明していること",
    ex_h_unknown="■未確認の事項",
    ex_h_lead="■指揮",
    ex_h_next="■次回報告",
    ex_h_decisions="■必要な判断",
    ex_impact_undescribed="{services}をご利用のお客様に影響が出ています。詳細は確認中です。",
    ex_impact_unknown="不明です。お客様への影響を確認しています。",
    ex_severity="重大度は{level}です。{at}に検知しました（インシデント {id}）。",
    ex_affected="影響を受けているサービス：{services}。",
    ex_cause_conclusive=(
        "解析では{where}における{fault}が原因と見られます。"
        "ただし、担当者による確認はまだ行われていません。"
    ),
    ex_cause_leading="原因は未特定です。現在、{where}における{fault}を中心に調査しています。",
    ex_cause_none="原因は未特定です。現時点で明確な手がかりは得られていません。",
    ex_security=(
        "セキュリティインシデントの可能性があるものとして対応しています。"
        "対外的な発表には、事前に法務および広報の承認が必要です。"
    ),
    ex_unknown_cause="原因。",
    ex_unknown_impact="お客様への影響。",
    ex_unknown_recovery="完全復旧の見込み時刻。",
    ex_unknown_data="お客様の情報への影響の有無。",
    ex_lead="インシデントコマンダー：{ic}。",
    ex_next="{at}までにご報告します。",
    ex_decision_legal="対外発表に先立つ法務・広報の承認。",
    ex_decision_pr="報道機関向け一次コメント（作成済み・承認待ち）の承認。",
    ex_decision_needs="対応チームから{n}件の要請があります（詳細は対応チャンネルを参照）。",
    pr_title="報道機関向け一次コメント：{services}",
)

PHRASES: Mapping[Language, Phrases] = {"en": EN, "ja": JA}


def phrases(language: Language) -> Phrases:
    return PHRASES[language]


def fault_name(fault_type: str, language: Language) -> str:
    """A fault type as chat and the war room name it: the drafts' words in Japanese; in
    English its id, which English readers already know it by."""
    if language == "en":
        return fault_type
    return PHRASES[language].fault.get(fault_type, fault_type)


# ---------------------------------------------------------------------------
# APPROVED WORDING: PR holding statements.
#
# These texts were approved by PR and legal. The agent fills only the blanks
# (${organisation}, ${services}, ${detected_at}, ${next_update},
# ${status_page_url}) with the organisation's name, public service names, times
# and the status page address; it never adds, drops or rewrites a sentence.
# Changing a word needs PR (and, for the security template, legal) sign-off,
# a new APPROVED_PR_VERSION and the new digest in tests/draft/test_draft_pr_statement.py.
# See docs/drafts.md, "Changing the approved PR template".
# ---------------------------------------------------------------------------

PrTemplateId = Literal["disruption", "security", "status_page"]
APPROVED_PR_VERSION = "2026-01"
SAFE_BLANKS = frozenset(
    {"organisation", "services", "detected_at", "next_update", "status_page_url"}
)

APPROVED_PR_TEMPLATES: Mapping[Language, Mapping[PrTemplateId, str]] = {
    "en": {
        "disruption": (
            "${organisation} detected an issue affecting ${services} at ${detected_at}"
            " and is working to restore normal service as quickly as possible."
            " We sincerely apologise to our customers for the inconvenience."
            " We will share further information as it becomes available;"
            " our next update is planned by ${next_update}."
        ),
        "security": (
            "${organisation} is investigating an issue affecting ${services},"
            " first detected at ${detected_at}."
            " We take the protection of our customers' information seriously."
            " We will share further information when we are able to do so;"
            " our next update is planned by ${next_update}."
        ),
        "status_page": "Further updates will be posted on our status page: ${status_page_url}",
    },
    "ja": {
        "disruption": (
            "${organisation}は、${detected_at}に${services}に関する障害を検知し、"
            "現在、復旧に向けて全力で対応しております。"
            "お客様ならびに関係者の皆様には多大なるご迷惑をおかけしており、深くお詫び申し上げます。"
            "詳細につきましては、判明次第あらためてお知らせいたします。"
            "次回のお知らせは${next_update}までを予定しております。"
        ),
        "security": (
            "${organisation}は、${detected_at}に検知した${services}に関する事象について、"
            "現在調査を進めております。"
            "当社は、お客様の情報の保護を重要な責務と認識しております。"
            "詳細につきましては、お知らせできる段階になり次第、速やかにご報告いたします。"
            "次回のお知らせは${next_update}までを予定しております。"
        ),
        "status_page": "最新の情報は、以下のページにてお知らせいたします。\n${status_page_url}",
    },
}


def approved_template(language: Language, template_id: PrTemplateId) -> Template:
    return Template(APPROVED_PR_TEMPLATES[language][template_id])


def approved_digest() -> str:
    """SHA-256 of the approved wording and its version, recorded with each PR draft so an
    audit can tell exactly which approved text a statement was filled from."""
    canonical = json.dumps(
        {"version": APPROVED_PR_VERSION, "templates": APPROVED_PR_TEMPLATES},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
