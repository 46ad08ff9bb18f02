"""The postmortem's words in English and Japanese.

Blameless by construction: people appear only as their part in the response
("a responder", "the on-call"), never by name, and no phrase says who caused
anything. Templates are filled with values, never the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agent.draft.models import Language
from agent.draft.phrases import phrases as draft_phrases
from agent.policy.models import PostmortemSection


@dataclass(frozen=True, slots=True)
class Words:
    """Every phrase the postmortem uses, for one language."""

    title: str
    headings: Mapping[PostmortemSection, str]
    meta: str
    meeting: str
    list_sep: str
    hours_minutes: str
    minutes: str
    seconds: str
    summary: str
    summary_cause: str
    summary_resolution: str
    change: str
    impact_duration: str
    impact_harmed: str
    impact_unmeasured: str
    detection_alert: str
    detection_late: str
    detection_early: str
    detection_no_onset: str
    actors: Mapping[str, str]
    timeline: Mapping[str, str]
    said: str
    quoted: str
    cause: str
    trigger: str
    trigger_linked: str
    trigger_none: str
    engine_right: str
    engine_ranked: str
    engine_missed: str
    responder_words: str
    factor_gap: str
    factor_late: str
    factor_escalation: str
    factor_ranking: str
    factor_none: str
    well_engine: str
    well_ack: str
    well_mitigated: str
    badly_ack: str
    badly_none: str
    well_none: str
    action: str
    remedy: Mapping[str, str]
    remedy_default: str
    act_detection: str
    act_telemetry: str
    act_need: str
    act_ranking: str
    roles: Mapping[str, str]
    templates: Mapping[str, str]
    kinds: Mapping[str, str]
    until: Mapping[str, str]
    day: str


EN = Words(
    title="Postmortem: {level} {id}, {fault} in {service}",
    headings={
        "summary": "Summary",
        "impact": "Customer impact",
        "detection": "Detection",
        "timeline": "Timeline",
        "root_cause": "Root cause and trigger",
        "contributing_factors": "Contributing factors",
        "went_well": "What went well",
        "went_badly": "What did not go well",
        "action_items": "Action items",
    },
    meta="Severity {level} ({template}); review due {due}; reviewers: {reviewers}.",
    meeting=" A blameless review meeting is held.",
    list_sep=", ",
    hours_minutes="{h} h {m} min",
    minutes="{m} min",
    seconds="{s} s",
    summary="{level} incident {id} affected {services}; triggered {start}, resolved {end}"
    " ({duration}).",
    summary_cause="The confirmed cause was {fault} in {service}{change}.",
    summary_resolution="What resolved it, in the resolver's words: {text}",
    change=", set off by change {change}",
    impact_duration="Impact lasted about {duration}, from {start} until it was {until} {end}.",
    impact_harmed="Services with measured harm: {services}.",
    impact_unmeasured="The engine measured no harm beyond the alerting services ({services}).",
    detection_alert="Detected by the alert {alert} ({source}), firing from {at}.",
    detection_late="The engine places the onset at {onset}: the alert came {lag} after it.",
    detection_early="The engine places the onset at {onset}: the alert came within {lag}.",
    detection_no_onset="The engine measured no onset to compare the alert with.",
    actors={"agent": "the agent", "system": "the system", "person": "a responder"},
    timeline={
        "opened": "{actor} opened the incident from the alert",
        "alert": "a related alert joined the incident",
        "investigation": "{actor} investigated: top suspect {suspect}",
        "reinvestigation": "{actor} investigated again",
        "severity": "severity set to {level}",
        "routing": "routed to the {team} on-call",
        "approval": "{actor} approved the {kind}",
        "dispatch": "a {kind} message was sent after approval",
        "escalation": "a page went unacknowledged and was escalated",
        "acknowledged": "{actor} acknowledged the incident",
        "mitigated": "{actor} recorded that the impact was mitigated",
        "resolved": "{actor} resolved the incident",
        "note": "{actor} noted: {text}",
    },
    said=": {text}",
    quoted="“{text}”",
    cause="Root cause: {fault} in {service}.",
    trigger="Trigger: change {change}.",
    trigger_linked="Trigger: the change the engine linked to {service}: {change}",
    trigger_none="Trigger: no change was identified.",
    engine_right="The engine's top suspect was {service} ({fault}) at {confidence}: confirmed.",
    engine_ranked="The engine ranked {service} #{rank}; its top suspect was {top} at {confidence}.",
    engine_missed="The engine did not rank {service}; its top suspect was {top} at {confidence}.",
    responder_words="In the resolver's words: {text}",
    factor_gap="{kinds} telemetry could not be read during the investigation.",
    factor_late="The alert fired {lag} after the onset.",
    factor_escalation="{count} page(s) went unacknowledged and were escalated.",
    factor_ranking="The first analysis pointed at {top} rather than {service}.",
    factor_none="None found in the record.",
    well_engine="The first analysis named the confirmed cause ({service}) as its top suspect.",
    well_ack="The incident was acknowledged {duration} after it was triggered.",
    well_mitigated="Impact was mitigated {duration} after the trigger.",
    badly_ack="The incident was acknowledged {duration} after it was triggered, later than"
    " the {limit} the escalation policy waits before paging the next person.",
    badly_none="Nothing in the record; add what the responders saw.",
    well_none="Nothing in the record; add what the responders saw.",
    action="{text} Owner: {owner}. Due: {due}.",
    remedy={
        "bad-deploy": "Add a canary stage with automatic rollback for deployments of {service}.",
        "config": "Validate and stage configuration changes to {service} before they roll out.",
        "cpu": "Set CPU limits and autoscaling for {service} from measured peaks.",
        "memory": "Fix the memory growth in {service} and alert on it before it exhausts.",
        "disk": "Alert on disk headroom for {service} and automate clean-up.",
        "network-delay": "Add timeouts and retries with budgets on calls to {service}.",
        "network-loss": "Add timeouts and retries with budgets on calls to {service}.",
        "code-exception": "Fix the failing code path in {service} and add a regression test.",
        "code-error-return": "Fix the error path in {service} and add a regression test.",
        "dependency-down": "Add a fallback or circuit breaker for {service}'s dependency.",
        "database": "Review {service}'s database capacity and slow queries.",
        "resource-exhaustion": "Size {service}'s pools and limits from measured peaks.",
        "traffic-surge": "Add rate limiting and load tests at the surge level for {service}.",
        "security": "Complete the security follow-up for {service} with the CSIRT.",
    },
    remedy_default="Find and fix the fault in {service}; add a regression check.",
    act_detection="Alert on {service}'s own signals so the onset is caught sooner.",
    act_telemetry="Restore access to {kinds} telemetry for the investigation.",
    act_need="Follow up on what responders needed: {text}",
    act_ranking="Review why the first analysis ranked {top} above {service}.",
    roles={
        "duty": "the duty rota",
        "leader": "the duty rota leader",
        "senior_ic": "a senior incident commander",
        "csirt": "the CSIRT",
    },
    templates={"full": "full postmortem", "light": "short write-up"},
    kinds={
        "page": "page",
        "responder_update": "responder update",
        "status_update": "status update",
        "exec_summary": "executive summary",
        "pr_statement": "PR statement",
        "postmortem": "postmortem",
    },
    until={"mitigated": "mitigated", "resolved": "resolved"},
    day="{d:%Y-%m-%d}",
)

JA = Words(
    title="ポストモーテム：{level} {id}（{service}の{fault}）",
    headings={
        "summary": "概要",
        "impact": "お客様への影響",
        "detection": "検知",
        "timeline": "時系列",
        "root_cause": "根本原因ときっかけ",
        "contributing_factors": "影響を広げた要因",
        "went_well": "うまくいったこと",
        "went_badly": "うまくいかなかったこと",
        "action_items": "再発防止策",
    },
    meta="重大度 {level}（{template}）。レビュー期限 {due}。レビュー担当：{reviewers}。",
    meeting="非難しない振り返り会議を開きます。",
    list_sep="、",
    hours_minutes="{h}時間{m}分",
    minutes="{m}分",
    seconds="{s}秒",
    summary="{level} のインシデント {id} で {services} に影響がありました。{start} に起票され、"
    "{end} に解決しました（所要 {duration}）。",
    summary_cause="確定した原因は {service} の{fault}でした{change}。",
    summary_resolution="解決策（解決者の説明）：{text}",
    change="（きっかけは変更 {change}）",
    impact_duration="影響は約 {duration} 続きました（{start} から、{until}の {end} まで）。",
    impact_harmed="影響が計測されたサービス：{services}。",
    impact_unmeasured="アラートを出したサービス（{services}）以外に計測された影響はありません。",
    detection_alert="アラート {alert}（{source}）により検知しました。発報は {at} です。",
    detection_late="エンジンの推定では発生は {onset} で、アラートはその {lag} 後でした。",
    detection_early="エンジンの推定では発生は {onset} で、アラートは {lag} 以内に届きました。",
    detection_no_onset="アラートと比べられる発生時刻は計測されていません。",
    actors={"agent": "エージェント", "system": "システム", "person": "対応者"},
    timeline={
        "opened": "{actor}がアラートからインシデントを起票",
        "alert": "関連するアラートがインシデントに合流",
        "investigation": "{actor}が調査：最有力の被疑箇所は {suspect}",
        "reinvestigation": "{actor}が再調査",
        "severity": "重大度を {level} に設定",
        "routing": "{team}のオンコールへ振り分け",
        "approval": "{actor}が{kind}を承認",
        "dispatch": "承認を経て{kind}を送信",
        "escalation": "応答のない呼び出しをエスカレーション",
        "acknowledged": "{actor}が対応開始を表明",
        "mitigated": "{actor}が影響の緩和を記録",
        "resolved": "{actor}がインシデントを解決",
        "note": "{actor}のメモ：{text}",
    },
    said="：{text}",
    quoted="「{text}」",
    cause="根本原因：{service} の{fault}。",
    trigger="きっかけ：変更 {change}。",
    trigger_linked="きっかけ：エンジンが {service} に結び付けた変更：{change}",
    trigger_none="きっかけ：特定された変更はありません。",
    engine_right="エンジンの最有力候補は {service}（{fault}、確度 {confidence}）で、"
    "確定した原因と一致しました。",
    engine_ranked="エンジンは {service} を {rank} 位としました。"
    "最有力候補は {top}（確度 {confidence}）でした。",
    engine_missed="エンジンは {service} を候補に挙げていません。"
    "最有力候補は {top}（確度 {confidence}）でした。",
    responder_words="解決者の説明：{text}",
    factor_gap="調査中に {kinds} のテレメトリを読めませんでした。",
    factor_late="アラートは発生の {lag} 後に発報しました。",
    factor_escalation="応答のない呼び出しが {count} 件あり、エスカレーションしました。",
    factor_ranking="最初の分析は {service} ではなく {top} を指していました。",
    factor_none="記録からは見つかりません。",
    well_engine="最初の分析が確定した原因（{service}）を最有力候補に挙げていました。",
    well_ack="起票から {duration} で対応開始が表明されました。",
    well_mitigated="起票から {duration} で影響を緩和しました。",
    badly_ack="対応開始の表明は起票から {duration} 後で、エスカレーション方針が次の担当者を"
    "呼び出すまでの {limit} を超えていました。",
    badly_none="記録にはありません。対応者の所見を追記してください。",
    well_none="記録にはありません。対応者の所見を追記してください。",
    action="{text} 担当：{owner}。期限：{due}。",
    remedy={
        "bad-deploy": "{service} のデプロイにカナリア段階と自動ロールバックを導入する。",
        "config": "{service} の設定変更を展開前に検証し、段階的に適用する。",
        "cpu": "計測したピークに基づき {service} の CPU 上限とオートスケールを設定する。",
        "memory": "{service} のメモリ増加を修正し、枯渇前に検知するアラートを追加する。",
        "disk": "{service} のディスク残量にアラートを設け、削除作業を自動化する。",
        "network-delay": "{service} への呼び出しにタイムアウトと上限付きリトライを設ける。",
        "network-loss": "{service} への呼び出しにタイムアウトと上限付きリトライを設ける。",
        "code-exception": "{service} の失敗するコード経路を修正し、回帰テストを追加する。",
        "code-error-return": "{service} のエラー経路を修正し、回帰テストを追加する。",
        "dependency-down": "{service} の依存先にフォールバックまたはサーキットブレーカーを設ける。",
        "database": "{service} のデータベース容量と遅いクエリを見直す。",
        "resource-exhaustion": "計測したピークに基づき {service} のプールと上限を見直す。",
        "traffic-surge": "{service} にレート制限を設け、急増時の負荷試験を行う。",
        "security": "CSIRT とともに {service} のセキュリティ対応を完了する。",
    },
    remedy_default="{service} の障害を特定して修正し、回帰確認を追加する。",
    act_detection="{service} 自身の指標でアラートを設け、発生をより早く検知する。",
    act_telemetry="調査に必要な {kinds} のテレメトリへのアクセスを復旧する。",
    act_need="対応者が必要としたことをフォローする：{text}",
    act_ranking="最初の分析が {service} より {top} を上位にした理由を確認する。",
    roles={
        "duty": "障害対応当番",
        "leader": "障害対応当番リーダー",
        "senior_ic": "シニアインシデントコマンダー",
        "csirt": "CSIRT",
    },
    templates={"full": "完全版ポストモーテム", "light": "簡易版の振り返り"},
    kinds=draft_phrases("ja").kind_name,  # the names the drafts and the war room use
    until={"mitigated": "緩和", "resolved": "解決"},
    day="{d.year}年{d.month}月{d.day}日",
)

WORDS: Mapping[Language, Words] = {"en": EN, "ja": JA}
