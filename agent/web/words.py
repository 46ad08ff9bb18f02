"""The war room's own words, in English and Japanese, and its times in the team's zone.

A Japanese team (`language: ja`) reads the war room in Japanese, as it reads the
drafts: labels, buttons, states and units, and times in the organisation's zone
('2026年5月11日 21:31:45 (JST)'). Values (service names, alert text, ids, what the
engine or a person wrote) are shown as they are. Adding a label means adding it to
`Words` and to both tables; mypy catches a language that lacks it. Fault types and
verdicts use the drafts' own words (agent/draft/phrases.py), so the war room and the
page never name a fault differently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup

from agent.draft.models import Language
from agent.draft.phrases import JA as DRAFT_JA
from agent.draft.phrases import fault_name, phrases
from agent.draft.text import ja_date
from agent.incident.scorecard import EngineScore
from agent.views import duration_text, plural, share_text


@dataclass(frozen=True, slots=True)
class Words:
    """Every label the war room shows, for one language."""

    language: Language
    war_room: str
    overview: str
    you_are: str
    your_name: str
    sign_out: str
    sign_in: str
    api_token: str
    no_token: str
    wrong_token: str
    incidents: str
    no_incidents: str
    posted_to: str
    appear_here: str
    columns: tuple[str, ...]
    failed_title: str
    failed_kept: str
    failed_columns: tuple[str, ...]
    retry: str
    example_before: str
    example_after: str
    degraded: str
    all_incidents: str
    changed: str
    refresh: str
    by_rule: str
    verdict: str
    opened: str
    stage_by: str
    acknowledged_after: str
    resolved_after: str
    gaps_title: str
    gaps_lead: str
    gaps_kept: str
    gaps_waiting: str
    acknowledge: str
    mitigated: str
    resolve_open: str
    service: str
    fault_type: str
    change: str
    change_hint: str
    root_cause: str
    resolution: str
    resolve: str
    postmortem: str
    in_english: str
    change_named: str
    ranked: str
    not_ranked: str
    people: str
    ic: str
    hand_over_to: str
    person_hint: str
    hand_over: str
    page_team: str
    unacknowledged: str
    not_routed: str
    similar: str
    fixed_by: str
    none_recalled: str
    alerts: str
    alert_since: str
    runbook: str
    open_in: str
    suspects: str
    no_suspect: str
    not_investigated: str
    confidence: str
    suspect: str
    cause: str
    drafts: str
    draft_to: str
    revision: str
    sign_off_as: str
    approve: str
    approve_edited: str
    reject_reason: str
    reject: str
    no_drafts: str
    sent_earlier: str
    timeline: str
    plot_label: str
    ask: str
    ask_hint: str
    send: str
    status: Mapping[str, str]
    stage: Mapping[str, str]
    alert_status: Mapping[str, str]
    draft_kind: Mapping[str, str]
    draft_state: Mapping[str, str]
    audience: Mapping[str, str]
    language_name: Mapping[str, str]
    timeline_kind: Mapping[str, str]
    actor: Mapping[str, str]
    engine: Mapping[str, str]
    units: Mapping[str, str]
    since: str
    show: str
    incident_noun: str
    opened_since: str
    full_stop: str
    counts: tuple[str, str, str]
    none: str
    durations: str
    duration_columns: tuple[str, str, str]
    to_stage: tuple[str, str, str]
    engine_title: str
    engine_line: str
    cause_noun: str
    calibration_columns: tuple[str, str, str, str]
    no_confirmed: str
    script: Mapping[str, str]


EN = Words(
    language="en",
    war_room="War room",
    overview="Overview",
    you_are="You are",
    your_name="your name",
    sign_out="Sign out",
    sign_in="Sign in",
    api_token="API token",
    no_token="This server has no API token configured (server.api.token_env),"
    " so there is nothing to sign in to.",
    wrong_token="That token is not this server's.",
    incidents="Incidents",
    no_incidents="No incidents yet.",
    posted_to="Alerts posted to",
    appear_here="appear here.",
    columns=("Incident", "Status", "Severity", "Suspect", "IC", "Pending", "Updated"),
    failed_title="Alerts whose triage failed",
    failed_kept="They are kept, not dropped. Fix what failed, then retry.",
    failed_columns=("Inbox", "Source", "Alerts", "Error", "Attempts"),
    retry="Retry",
    example_before="Example policy: no",
    example_after="is configured, so severity, teams, rotas and names come from the bundled"
    " fictional example, and drafts say so.",
    degraded="Degraded: {reason}",
    all_incidents="← all incidents",
    changed="This incident changed.",
    refresh="Refresh",
    by_rule="by rule “{rule}”",
    verdict="verdict",
    opened="opened {at}",
    stage_by="{stage} {at} by {by}",
    acknowledged_after="acknowledged after {duration}",
    resolved_after="resolved after {duration}",
    gaps_title="Telemetry unavailable",
    gaps_lead=": the last investigation could not read",
    gaps_kept="The findings shown come from an earlier look that could read it;"
    " the incident is re-investigated when it answers.",
    gaps_waiting="The verdict stays inconclusive until it answers;"
    " the incident is re-investigated then.",
    acknowledge="Acknowledge",
    mitigated="Mitigated",
    resolve_open="Resolve…",
    service="Service",
    fault_type="Fault type",
    change="Change",
    change_hint="deploy or change id (optional)",
    root_cause="Root cause",
    resolution="Resolution",
    resolve="Resolve",
    postmortem="Postmortem:",
    in_english="draft in English",
    change_named=", change {change}",
    ranked="The engine ranked it #{rank}.",
    not_ranked="The engine did not rank it.",
    people="Command and on-call",
    ic="Incident commander:",
    hand_over_to="Hand over command to",
    person_hint="a person in the policy",
    hand_over="Hand over",
    page_team="Page team:",
    unacknowledged="If nobody acknowledges",
    not_routed="Not routed yet.",
    similar="Similar past incidents",
    fixed_by="Fixed by:",
    none_recalled="None recalled.",
    alerts="Alerts",
    alert_since="{source}, since {at}",
    runbook="Runbook",
    open_in="Open in {source}",
    suspects="Suspects",
    no_suspect="No suspect.",
    not_investigated="Not investigated yet.",
    confidence="{fault}, {confidence}",
    suspect="{service} ({fault}, {confidence})",
    cause="Root cause: {service} ({fault})",
    drafts="Drafts",
    draft_to="→ {audience} ({language}), revision {revision}",
    revision="revision {revision}",
    sign_off_as="Sign off as",
    approve="Approve",
    approve_edited="Approve edited",
    reject_reason="reason to reject",
    reject="Reject",
    no_drafts="No drafts yet.",
    sent_earlier="Signed off earlier (replaced by a newer revision)",
    timeline="Timeline",
    plot_label="{metric}: {low} to {high}, {start} to {end} {zone}",
    ask="Ask the agent",
    ask_hint="what changed in the last hour? · /action rolled back payment"
    " · write a customer update",
    send="Send",
    status={},
    stage={},
    alert_status={},
    draft_kind={},
    draft_state={},
    audience={},
    language_name={},
    timeline_kind={},
    actor={},
    engine={},
    units={},
    since="Since",
    show="Show",
    incident_noun="incident",
    opened_since=" opened since {since}",
    full_stop=".",
    counts=("By severity", "By team", "By stage"),
    none="None.",
    durations="Time from trigger",
    duration_columns=("median", "p90", "incidents"),
    to_stage=("to acknowledge", "to mitigate", "to resolve"),
    engine_title="The engine on confirmed causes",
    engine_line="On <strong>{confirmed}</strong> confirmed {causes}:"
    ' top-1 <strong class="top1">{top1}</strong>, top-3 <strong class="top3">{top3}</strong>,'
    " top suspect and fault type {both}. Brier score {brier}, calibration error {ece}.",
    cause_noun="cause",
    calibration_columns=("top-1 confidence", "incidents", "it said", "it was right"),
    no_confirmed="No resolved incident with a confirmed cause yet.",
    script={
        "reason": "Say why you reject it.",
        "resolved": "resolved",
        "command": "command handed over",
        "done": "done",
        "cites": "cites",
        "agent": "agent",
        "fallback": "offline; LLM failed",
    },
)

JA_DRAFT_STATES = {
    "pending": "承認待ち",
    "approved": "承認済み",
    "edited": "編集して承認済み",
    "rejected": "却下",
    "sent": "送信済み",
}

JA = Words(
    language="ja",
    war_room="対策室",
    overview="概況",
    you_are="担当者名",
    your_name="お名前",
    sign_out="サインアウト",
    sign_in="サインイン",
    api_token="API トークン",
    no_token="このサーバーには API トークンが設定されていないため"
    "（server.api.token_env）、サインインは不要です。",
    wrong_token="このサーバーのトークンではありません。",
    incidents="インシデント一覧",
    no_incidents="インシデントはまだありません。",
    posted_to="",
    appear_here="に送られたアラートがここに表示されます。",
    columns=("インシデント", "状態", "重大度", "最有力の被疑", "IC", "承認待ち", "更新日時"),
    failed_title="トリアージに失敗したアラート",
    failed_kept="破棄せずに保持しています。失敗の原因を取り除いてから再試行してください。",
    failed_columns=("受付番号", "送信元", "アラート", "エラー", "試行回数"),
    retry="再試行",
    example_before="例示用ポリシー：",
    example_after="が未設定のため、重大度・チーム・当番・名称は同梱の架空の例によるものです"
    "（下書きにもその旨を記載しています）。",
    degraded="縮退運転中：{reason}",
    all_incidents="← インシデント一覧",
    changed="このインシデントは更新されました。",
    refresh="再読み込み",
    by_rule="（ルール「{rule}」）",
    verdict="判定",
    opened="{at}に起票",
    stage_by="{stage} {at}（{by}）",
    acknowledged_after="確認まで {duration}",
    resolved_after="解決まで {duration}",
    gaps_title="テレメトリ取得不可",
    gaps_lead="：直近の調査で次のテレメトリを取得できませんでした",
    gaps_kept="表示中の調査結果は、取得できていた時点のものです。"
    "取得できるようになり次第、再調査します。",
    gaps_waiting="取得できるようになるまで判定は「決め手なし」のままです。取得でき次第、再調査します。",
    acknowledge="確認（Ack）",
    mitigated="緩和済みにする",
    resolve_open="解決…",
    service="サービス",
    fault_type="障害の種類",
    change="変更",
    change_hint="デプロイまたは変更の ID（任意）",
    root_cause="根本原因",
    resolution="対処内容",
    resolve="解決する",
    postmortem="ポストモーテム：",
    in_english="英語で作成",
    change_named="、変更 {change}",
    ranked="エンジンの順位は{rank}位でした。",
    not_ranked="エンジンの候補には入っていませんでした。",
    people="指揮と当番",
    ic="インシデントコマンダー：",
    hand_over_to="指揮の引き継ぎ先",
    person_hint="ポリシーに登録された担当者",
    hand_over="引き継ぐ",
    page_team="呼び出しチーム：",
    unacknowledged="応答がない場合のエスカレーション",
    not_routed="呼び出し先はまだ決まっていません。",
    similar="類似する過去のインシデント",
    fixed_by="対処：",
    none_recalled="該当するものはありません。",
    alerts="アラート",
    alert_since="{source}、{at}から",
    runbook="ランブック",
    open_in="{source}で開く",
    suspects="被疑サービス",
    no_suspect="被疑サービスはありません。",
    not_investigated="まだ調査していません。",
    confidence="{fault}、確度 {confidence}",
    suspect="{service}（{fault}、確度 {confidence}）",
    cause="根本原因：{service}（{fault}）",
    drafts="下書き",
    draft_to="→ {audience}（{language}）第{revision}版",
    revision="第{revision}版",
    sign_off_as="承認する立場",
    approve="承認",
    approve_edited="編集して承認",
    reject_reason="却下の理由",
    reject="却下",
    no_drafts="下書きはまだありません。",
    sent_earlier="以前に承認した版（新しい版に置き換え済み）",
    timeline="タイムライン（時刻は {zone}）",
    plot_label="{metric}：{low}〜{high}、{start}〜{end}（{zone}）",
    ask="エージェントに質問",
    ask_hint="直近1時間で何が変わった？ · /対応 v1.2.3 にロールバックしました"
    " · 顧客向けの更新を書いて",
    send="送信",
    status=DRAFT_JA.status_name,
    stage={
        "triggered": "発生",
        "acknowledged": "確認",
        "mitigated": "緩和",
        "resolved": "解決",
        "closed": "完了",
    },
    alert_status={"firing": "発火中", "resolved": "解消"},
    draft_kind=DRAFT_JA.kind_name,
    draft_state=JA_DRAFT_STATES,
    audience={
        "on-call": "当番",
        "responders": "対応者",
        "stakeholders": "関係者",
        "customers": "お客様",
        "executives": "経営層",
        "media": "報道機関",
    },
    language_name={"en": "英語", "ja": "日本語"},
    timeline_kind={
        "alert": "アラート",
        "opened": "起票",
        "investigation": "調査",
        "reinvestigation": "再調査",
        "severity": "重大度",
        "routing": "呼び出し",
        "draft": "下書き",
        "approval": "承認",
        "rejection": "却下",
        "dispatch": "送信",
        "escalation": "エスカレーション",
        "command": "指揮",
        "chat": "チャット",
        "note": "メモ",
        "acknowledged": "確認",
        "mitigated": "緩和",
        "resolved": "解決",
        "closed": "完了",
        "fallback": "代替",
    },
    actor={"agent": "エージェント", "system": "システム"},
    engine={"deterministic": "決定論的解析", "llm": "LLM による解析"},
    units={"s": "秒", "min": "分", "h": "時間", "d": "日"},
    since="集計開始日",
    show="表示",
    incident_noun="件のインシデント",
    opened_since="（{since}以降に起票）",
    full_stop="。",
    counts=("重大度別", "チーム別", "段階別"),
    none="なし。",
    durations="発生からの所要時間",
    duration_columns=("中央値", "p90", "件数"),
    to_stage=("確認まで", "緩和まで", "解決まで"),
    engine_title="確定した原因に対するエンジンの成績",
    engine_line="確定した原因 <strong>{confirmed}</strong> {causes}のうち、"
    '1位で的中 <strong class="top1">{top1}</strong>、'
    '3位以内で的中 <strong class="top3">{top3}</strong>、'
    "1位の被疑サービスと障害の種類がともに的中 {both}。Brier スコア {brier}、較正誤差 {ece}。",
    cause_noun="件",
    calibration_columns=("1位の確度", "件数", "エンジンの確度", "実際の的中率"),
    no_confirmed="原因が確定した解決済みインシデントはまだありません。",
    script={
        "reason": "却下の理由を入力してください。",
        "resolved": "解決済みにしました",
        "command": "指揮を引き継ぎました",
        "done": "完了しました",
        "cites": "根拠",
        "agent": "エージェント",
        "fallback": "オフライン。LLM が失敗しました",
        "offline": "オフライン",
        **JA_DRAFT_STATES,
    },
)

WORDS: Mapping[Language, Words] = {"en": EN, "ja": JA}


@dataclass(frozen=True, slots=True)
class Locale:
    """The war room as one team reads it: its words, and times in its zone."""

    words: Words
    zone: ZoneInfo

    @classmethod
    def of(cls, language: Language, timezone: str) -> Locale:
        return cls(WORDS[language], ZoneInfo(timezone))

    def name(self, table: Mapping[str, str], key: str) -> str:
        """`key` in this language's words, or as it is where there is none (English)."""
        return table.get(key, key)

    def fault(self, fault_type: str) -> str:
        return fault_name(fault_type, self.words.language)

    def verdict(self, verdict: str) -> str:
        language = self.words.language
        return verdict if language == "en" else phrases(language).verdict[verdict]

    def stamp(self, at: datetime) -> str:
        """A date and time: UTC, labelled, in English; the team's zone in Japanese."""
        if self.words.language == "en":
            return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
        local = at.astimezone(self.zone)
        return f"{ja_date(local)} {local:%H:%M:%S} ({local.tzname()})"

    @property
    def shown_zone(self) -> ZoneInfo:
        """Times of day are UTC in English (labelled where shown), the team's zone in Japanese."""
        return ZoneInfo("UTC") if self.words.language == "en" else self.zone

    def clock(self, at: datetime) -> str:
        """A time of day for stages and the timeline, whose heading names the zone."""
        return f"{at.astimezone(self.shown_zone):%H:%M:%S}"

    def minute(self, at: datetime) -> str:
        return f"{at.astimezone(self.shown_zone):%H:%M}"

    def zone_name(self, at: datetime) -> str:
        return str(at.astimezone(self.shown_zone).tzname())

    def count(self, noun: str, count: int) -> str:
        """A counted noun: English agrees it with the number; Japanese counts with 件."""
        return plural(noun, count) if self.words.language == "en" else noun

    def engine_line(self, engine: EngineScore) -> Markup:
        """The engine's record in one sentence; the figures go in escaped."""
        return Markup(self.words.engine_line).format(
            confirmed=engine.confirmed,
            causes=self.count(self.words.cause_noun, engine.confirmed),
            top1=share_text(engine.top1),
            top3=share_text(engine.top3),
            both=share_text(engine.fault_type_top1),
            brier=_score(engine.brier),
            ece=_score(engine.calibration_error),
        )

    def duration(self, seconds: float | None) -> str:
        return duration_text(seconds, self.words.units)


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
