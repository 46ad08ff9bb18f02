"""Metric shifts as evidence: one series moved against its own baseline."""

from __future__ import annotations

from agent.isolation.evidence import Evidence, EvidenceQuery, make_evidence, window_args
from tools.analysis.harm import HarmReading, measure
from tools.analysis.metric_shifts import MetricShift, metric_shifts
from tools.analysis.robust import log_squash
from tools.analysis.split import Split
from tools.telemetry.models import Series

MIN_Z = 3.0


def read(
    series: list[Series], split: Split, services: set[str]
) -> tuple[list[MetricShift], dict[str, HarmReading]]:
    """Shifts of every series, and each service's health before and during."""
    return metric_shifts(series, split, services), measure(series, split, services)


def evidence(shift: MetricShift, split: Split) -> Evidence:
    """One sentence for a moved series, its strength a log-squashed z times how strongly
    its family indicts the service."""
    key, fam = shift.key, shift.family
    where = f"{key.service} ({key.instance})" if key.instance else key.service
    verb = {"up": "rose to", "down": "fell to"}.get(fam.direction, "moved to")
    owner = "" if shift.service == key.service else f", which points at {shift.service}"
    summary = (
        f"{key.metric} of {where} {verb} {shift.current:.4g} against a normal of "
        f"{shift.baseline.median:.4g} (robust z {shift.z:.1f}){owner}."
    )
    verb_ja = {"up": "上昇", "down": "低下"}.get(fam.direction, "変化")
    owner_ja = "" if shift.service == key.service else f"。{shift.service}が疑われます"
    summary_ja = (
        f"{where}の{key.metric}が平常時の{shift.baseline.median:.4g}から{shift.current:.4g}に"
        f"{verb_ja}しました（ロバストz {shift.z:.1f}）{owner_ja}。"
    )
    args = {"service": key.service, "metric": key.metric, "instance": key.instance or None}
    return make_evidence(
        "metric",
        EvidenceQuery(tool="summarize_metric", args={**args, **window_args(split)}),
        service=shift.service,
        summary=summary,
        summary_ja=summary_ja,
        strength=log_squash(shift.z) * fam.weight,
        signal=fam.name,
        values={"z": shift.z, "current": shift.current, "baseline": shift.baseline.median},
        instance=key.instance if shift.service == key.service else "",
        peer="" if shift.service == key.service else key.service,
    )
