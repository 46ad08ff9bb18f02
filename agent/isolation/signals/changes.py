"""Recent changes as evidence: a deploy or config push just before the onset.

Most incidents follow a change. A change to a service shortly before the fault
began is evidence against that service; the closer to the onset, the stronger.
Changes after the onset are usually the response (a rollback, a scale-up) and
count for little. Timing alone cannot tell which of several concurrent
rollouts is bad, so a deploy is also judged by its instances
(tools.analysis.rollouts): a new version worse than the old one decides, and
one that looks like the old one is exonerated, and the evidence says which.
"""

from __future__ import annotations

from agent.isolation.evidence import Evidence, EvidenceQuery
from tools.analysis.robust import log_squash
from tools.analysis.rollouts import RolloutReading, compare_rollout
from tools.analysis.split import Split
from tools.redact import redact
from tools.telemetry.models import Change, Series, TimeWindow, from_epoch, to_epoch

LOOKBACK_S = 2 * 3600.0
# A rollout whose new instances are worse is strong evidence whatever its timing;
# one whose new instances look like the old keeps this share of its timing's strength.
WORSE_FLOOR = 0.6
EXONERATED = 0.1
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


def change_evidence(
    changes: list[Change], split: Split, series: list[Series] | None = None
) -> list[Evidence]:
    """One evidence item per change to a service within LOOKBACK_S before the onset (of
    the snapshot's, which reach further back); a rollout is also judged by its new
    version's instances against its old ones (`series`)."""
    window = TimeWindow.of(split.onset_s - LOOKBACK_S, split.now_s)
    return [
        _evidence(c, split, window, _rollout(c, series or [], split))
        for c in changes
        if window.start_s <= to_epoch(c.ts) <= window.end_s
    ]


def strength(change: Change, split: Split) -> float:
    """How strongly the timing alone points at a change: close before the onset is
    strong, long before weak, after the alert little (usually the response)."""
    started = to_epoch(change.ts)
    if started > split.alert_s:
        return KIND_WEIGHT[change.kind] * AFTER_ONSET
    before = max(0.0, split.onset_s - started)
    return KIND_WEIGHT[change.kind] * 0.5 ** (before / HALF_LIFE_S)


def _rollout(change: Change, series: list[Series], split: Split) -> RolloutReading | None:
    """The new-vs-old comparison of a deploy that began before the fault window ended."""
    if change.kind != "deploy" or to_epoch(change.ts) > split.until_s:
        return None
    return compare_rollout(change, series, split.onset_s, split.until_s)


def judged(base: float, reading: RolloutReading | None) -> float:
    """A change's strength once its rollout is judged: a worse new version decides, one
    that looks like the old is exonerated, an unknown keeps the timing's word."""
    if reading is None or reading.verdict == "unknown":
        return base
    if reading.verdict == "worse":
        return max(base, WORSE_FLOOR + (1.0 - WORSE_FLOOR) * log_squash(reading.z))
    return base * EXONERATED


def _evidence(
    change: Change, split: Split, window: TimeWindow, reading: RolloutReading | None
) -> Evidence:
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
    if reading is not None and reading.verdict != "unknown":
        summary = f"{summary.rstrip('.')}; {reading.reason}"
        summary_ja = f"{summary_ja.rstrip('。')}。{_reason_ja(reading)}"
    return Evidence(
        id=Evidence.make_id("change", query, change.id),
        kind="change",
        service=change.service,
        summary=summary.rstrip(".") + ".",
        summary_ja=summary_ja.rstrip("。.") + "。",
        query=query,
        strength=judged(strength(change, split), reading),
        signal=f"change_{change.kind}",
        values={"minutes_before_onset": minutes, **_values(reading)},
    )


def _values(reading: RolloutReading | None) -> dict[str, float]:
    if reading is None or reading.verdict == "unknown":
        return {}
    return {"rollout_z": reading.z, "rollout_worse": float(reading.verdict == "worse")}


def _reason_ja(reading: RolloutReading) -> str:
    if reading.verdict == "worse":
        return (
            f"新バージョンのインスタンスが悪化しています（{reading.metric}："
            f"旧{reading.old_value:.4g}に対し新{reading.new_value:.4g}、ロバストz {reading.z:.1f}）"
        )
    return f"新バージョンのインスタンス{reading.new_instances}台は旧バージョンと同様に動いています"
