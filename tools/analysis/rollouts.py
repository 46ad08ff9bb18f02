"""Did this rollout bring the fault? New-version instances against old ones.

Several services often roll out at once and at most one of them is bad, so a
deploy just before the onset proves little. What does: during a rollout the
instances on the new version serve beside the ones still on the old version
(or after it, beside what the old ones did before). A bad version shows on its
own instances (errors, failures, latency, restarts); a benign one looks like
the version it replaced, and is exonerated. Which instance runs which version
comes from a version label where the store has one, else from the instance
names (pods of a new version get new names: a new ReplicaSet hash, a new task
id), else from when each instance first reported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tools.analysis.metric_families import MetricFamily, family_of
from tools.telemetry.models import Change, Series, to_epoch

# The families whose move on the new instances says the version itself is bad.
HARM_FAMILIES = frozenset({"errors", "availability", "latency", "restarts", "memory", "cpu"})
# An instance that first reported this close to the rollout's start came with it.
APPEARED_SLACK_S = 60.0
# Before the rollout, the old instances' reference reaches this far back.
REFERENCE_S = 1800.0
MIN_SAMPLES = 3
# A sample every minute is assumed when spacing comparisons in time.
SAMPLE_S = 60.0
# A rollout that began this close before the fault began with it.
WITH_THE_FAULT_S = 180.0
WORSE_Z = 5.0
ALIKE_Z = 2.0
MAD_TO_SIGMA = 1.4826

RolloutVerdict = Literal["worse", "alike", "unknown"]


@dataclass(frozen=True, slots=True)
class RolloutReading:
    """How the new version's instances compare with the old version's."""

    change_id: str
    verdict: RolloutVerdict
    z: float
    metric: str
    new_instances: int
    old_instances: int
    new_value: float | None = None
    old_value: float | None = None

    @property
    def reason(self) -> str:
        if self.verdict == "unknown":
            return "no instance of the new version could be told from the old ones"
        what = f"{self.metric} {self.new_value:.4g} on the new version against {self.old_value:.4g}"
        if self.verdict == "worse":
            return f"the new version's instances are worse: {what} (robust z {self.z:.1f})"
        return (
            f"the new version's {self.new_instances} instance(s) look like the old ones"
            f" (largest difference: {what})"
        )


@dataclass(frozen=True, slots=True)
class _Sides:
    """Which instances run the new and the old version, over which stretch of time."""

    change_id: str
    new: set[str]
    old: set[str]
    started: float
    onset_s: float
    until_s: float


@dataclass(frozen=True, slots=True)
class _Instance:
    name: str
    first_s: float
    version: str


def compare_rollout(
    change: Change, series: list[Series], onset_s: float, until_s: float
) -> RolloutReading:
    """Compare the new version's instances of `change.service` with the old ones, over
    the rollout up to `until_s` (the fault began at `onset_s`)."""
    mine = [s for s in series if s.key.service == change.service and s.key.instance]
    instances = _instances(mine)
    started = to_epoch(change.ts)
    new = {i.name for i in instances.values() if _is_new(i, change, started)}
    old = {i.name for i in instances.values() if i.name not in new and _is_old(i, change, started)}
    if not new or not old:
        return RolloutReading(change.id, "unknown", 0.0, "", len(new), len(old))
    sides = _Sides(change.id, new, old, started, onset_s, until_s)
    readings = [
        reading
        for metric, rows in _by_metric(mine).items()
        if (reading := _compare(sides, metric, rows)) is not None
    ]
    if not readings:
        return RolloutReading(change.id, "unknown", 0.0, "", len(new), len(old))
    worst = max(readings, key=lambda r: r.z)
    if worst.z >= WORSE_Z:
        return worst
    if worst.z < ALIKE_Z:
        return RolloutReading(
            change.id, "alike", worst.z, worst.metric, len(new), len(old),
            worst.new_value, worst.old_value,
        )  # fmt: skip
    return RolloutReading(change.id, "unknown", worst.z, worst.metric, len(new), len(old))


def _instances(series: list[Series]) -> dict[str, _Instance]:
    """Each instance with when it first reported and its version label ('' if none)."""
    out: dict[str, _Instance] = {}
    for s in series:
        finite = s.ts[np.isfinite(s.values)]
        if finite.size == 0:
            continue
        first = float(finite[0])
        known = out.get(s.key.instance)
        if known is None or first < known.first_s:
            out[s.key.instance] = _Instance(s.key.instance, first, s.key.version)
    return out


def _is_new(instance: _Instance, change: Change, started: float) -> bool:
    if instance.version and change.to_version:
        return instance.version == change.to_version
    if change.to_version and _names(instance.name, change.to_version):
        return True
    if change.from_version and _names(instance.name, change.from_version):
        return False
    return instance.first_s >= started - APPEARED_SLACK_S


def _is_old(instance: _Instance, change: Change, started: float) -> bool:
    if instance.version and change.from_version:
        return instance.version == change.from_version
    if change.from_version and _names(instance.name, change.from_version):
        return True
    return instance.first_s < started - APPEARED_SLACK_S


def _names(instance: str, version: str) -> bool:
    """Whether an instance name carries a version string (as a whole token)."""
    token = version.lower().lstrip("v")
    return len(token) >= 2 and token in instance.lower().replace("_", "-").split("-")


def _by_metric(series: list[Series]) -> dict[str, list[Series]]:
    out: dict[str, list[Series]] = defaultdict(list)
    for s in series:
        if family_of(s.key.metric).name in HARM_FAMILIES:
            out[s.key.metric].append(s)
    return out


def _compare(sides: _Sides, metric: str, rows: list[Series]) -> RolloutReading | None:
    """New instances' typical value against the old ones', in the family's harmful
    direction, compared like with like:

    * while both versions serve, at the same time (the fault hits both alike);
    * else the new version before the fault began, against the old before the
      rollout (a version healthy for minutes before the onset did not bring it);
    * else, only for a rollout that began with the fault, the new version during it
      against the old before: any later comparison would blame the version for
      what the fault did to every instance.
    """
    family = family_of(metric)
    new = [s for s in rows if s.key.instance in sides.new]
    old = [s for s in rows if s.key.instance in sides.old]
    before = _samples(old, sides.started - REFERENCE_S, sides.started)
    together_old = _samples(old, sides.started, sides.until_s)
    if together_old.size >= MIN_SAMPLES:
        last_old = _last_time(old, sides.until_s)
        pairs = (_samples(new, sides.started, last_old), together_old)
    elif sides.onset_s - sides.started >= MIN_SAMPLES * SAMPLE_S:
        pairs = (_samples(new, sides.started, sides.onset_s - SAMPLE_S), before)
    elif sides.started >= sides.onset_s - WITH_THE_FAULT_S:
        pairs = (_samples(new, sides.started, sides.until_s), before)
    else:
        return None
    now_new, reference = pairs
    if now_new.size < MIN_SAMPLES or reference.size < MIN_SAMPLES:
        return None
    new_value, old_value = float(np.median(now_new)), float(np.median(reference))
    z = _harm_z(new_value, reference, family)
    count_new, count_old = len(sides.new), len(sides.old)
    return RolloutReading(
        sides.change_id, "worse", z, metric, count_new, count_old, new_value, old_value
    )


def _last_time(rows: list[Series], until_s: float) -> float:
    """The last moment any of `rows` reported (up to `until_s`)."""
    times = [s.ts[np.isfinite(s.values) & (s.ts <= until_s)] for s in rows]
    return max((float(t[-1]) for t in times if t.size), default=until_s)


def _samples(rows: list[Series], start: float, end: float) -> np.ndarray:
    values = [s.values[(s.ts >= start) & (s.ts <= end)] for s in rows]
    joined = np.concatenate(values) if values else np.array([])
    return joined[np.isfinite(joined)]


def _harm_z(value: float, reference: np.ndarray, family: MetricFamily) -> float:
    """How far `value` sits from the reference, in the family's harmful direction."""
    median = float(np.median(reference))
    mad = float(np.median(np.abs(reference - median))) * MAD_TO_SIGMA
    scale = max(mad, family.abs_floor, family.rel_floor * abs(median), 1e-9)
    z = (value - median) / scale
    if family.direction == "down":
        return -z
    if family.direction == "both":
        return abs(z)
    return z
