"""Recent changes as evidence: a deploy or config push just before the onset.

Most incidents follow a change. A change to a service shortly before the fault
began is strong evidence against that service; the closer to the onset, the
stronger. Changes after the onset are usually the response (a rollback, a
scale-up) and count for little.
"""

from __future__ import annotations

from agent.isolation.evidence import Evidence, EvidenceQuery
from tools.analysis.split import Split
from tools.redact import redact
from tools.telemetry.backend import TelemetryBackend
from tools.telemetry.models import Change, TimeWindow, from_epoch, to_epoch

LOOKBACK_S = 2 * 3600.0
HALF_LIFE_S = 20 * 60.0
AFTER_ONSET = 0.3
KIND_WEIGHT = {
    "deploy": 1.0,
    "config": 1.0,
    "feature_flag": 0.9,
    "secret_rotation": 0.8,
    "infra": 0.7,
    "scale": 0.4,
    "other": 0.5,
}
KIND_JA = {
    "deploy": "デプロイ",
    "config": "設定変更",
    "feature_flag": "フィーチャーフラグ変更",
    "secret_rotation": "シークレットのローテーション",
    "infra": "インフラ変更",
    "scale": "スケール変更",
    "other": "変更",
}


def change_evidence(backend: TelemetryBackend, split: Split) -> list[Evidence]:
    """One evidence item per change to a service within the lookback."""
    if "changes" not in backend.kinds():
        return []
    window = TimeWindow.of(split.onset_s - LOOKBACK_S, split.now_s)
    return [_evidence(c, split, window) for c in backend.changes(window)]


def strength(change: Change, split: Split) -> float:
    started = to_epoch(change.ts)
    if started > split.alert_s:
        return KIND_WEIGHT[change.kind] * AFTER_ONSET
    before = max(0.0, split.onset_s - started)
    return KIND_WEIGHT[change.kind] * 0.5 ** (before / HALF_LIFE_S)


def _evidence(change: Change, split: Split, window: TimeWindow) -> Evidence:
    minutes = (split.onset_s - to_epoch(change.ts)) / 60
    when = f"{minutes:.0f} min before the onset" if minutes >= 0 else f"{-minutes:.0f} min after it"
    query = EvidenceQuery(
        tool="recent_changes",
        args={"service": change.service, "start": window.start, "end": from_epoch(split.now_s)},
    )
    summary = (
        f"{change.kind.replace('_', ' ').capitalize()} {change.id} to {change.service}, {when}"
    )
    when_ja = f"異常開始の{minutes:.0f}分前" if minutes >= 0 else f"異常開始の{-minutes:.0f}分後"
    summary_ja = f"{change.service}への{KIND_JA[change.kind]} {change.id}（{when_ja}）"
    if change.summary:
        summary += f": {redact(change.summary[:160])}"
        summary_ja += f"：{redact(change.summary[:160])}"
    return Evidence(
        id=Evidence.make_id("change", query, change.id),
        kind="change",
        service=change.service,
        summary=summary.rstrip(".") + ".",
        summary_ja=summary_ja.rstrip("。.") + "。",
        query=query,
        strength=strength(change, split),
        signal=f"change_{change.kind}",
        values={"minutes_before_onset": minutes},
    )
