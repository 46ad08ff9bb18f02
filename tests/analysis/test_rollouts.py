"""Rollouts judged by their instances: a bad version shows on its own pods, a benign one not."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from tools.analysis.rollouts import compare_rollout
from tools.telemetry.models import Change, Series, SeriesKey, to_epoch

STARTED = datetime(2026, 5, 11, 12, 0, tzinfo=UTC)
T0 = to_epoch(STARTED)
TS = np.arange(T0 - 3600.0, T0 + 1200.0, 60.0)
OLD = ("checkout-7d9f8b6c5d-x2k4p", "checkout-7d9f8b6c5d-m3n8q")
NEW = ("checkout-5b6c7d8e9f-q8r2m", "checkout-5b6c7d8e9f-z7c1v")


def rollout(service: str = "checkout") -> Change:
    return Change(
        id="chg-1",
        ts=STARTED,
        service=service,
        kind="deploy",
        from_version="v1.4.2",
        to_version="v1.4.3",
    )


def pods(error_on_new: float, seed: int = 0, version: bool = False) -> list[Series]:
    """Old pods serve until the rollout ends (T0 + 300 s); new ones from T0 + 60 s."""
    rng = np.random.default_rng(seed)
    out = []
    for name in OLD:
        values = 0.5 + 0.05 * rng.standard_normal(len(TS))
        values[TS > T0 + 300] = np.nan
        out.append(_series(name, values, "v1.4.2" if version else ""))
    for name in NEW:
        values = error_on_new + 0.05 * rng.standard_normal(len(TS))
        values[TS < T0 + 60] = np.nan
        out.append(_series(name, values, "v1.4.3" if version else ""))
    return out


def _series(instance: str, values: np.ndarray, version: str) -> Series:
    return Series(SeriesKey("checkout", instance, "error_rate_pct", version), TS, values)


def test_a_new_version_that_fails_on_its_own_pods_is_worse() -> None:
    reading = compare_rollout(rollout(), pods(error_on_new=25.0), T0, T0 + 900)
    assert reading.verdict == "worse" and reading.z >= 5
    assert (reading.new_instances, reading.old_instances) == (2, 2)
    assert "new version's instances are worse" in reading.reason


def test_a_new_version_that_looks_like_the_old_is_exonerated() -> None:
    reading = compare_rollout(rollout(), pods(error_on_new=0.5), T0, T0 + 900)
    assert reading.verdict == "alike" and reading.z < 2
    assert "look like the old ones" in reading.reason


def test_version_labels_tell_new_from_old_when_the_store_has_them() -> None:
    labelled = [
        Series(SeriesKey(s.key.service, f"host-{i}", s.key.metric, s.key.version), s.ts, s.values)
        for i, s in enumerate(pods(error_on_new=25.0, seed=1, version=True))
    ]
    reading = compare_rollout(rollout(), labelled, T0, T0 + 900)
    assert reading.verdict == "worse"


def test_without_instances_of_both_versions_nothing_is_claimed() -> None:
    only_old = [s for s in pods(error_on_new=25.0) if s.key.instance in OLD]
    assert compare_rollout(rollout(), only_old, T0, T0 + 900).verdict == "unknown"
    other = compare_rollout(rollout("cart"), pods(error_on_new=25.0), T0, T0 + 900)
    assert other.verdict == "unknown"


def test_a_rollout_healthy_before_the_fault_is_not_blamed_for_what_the_fault_did() -> None:
    """A benign rollout done minutes before the onset: its new pods fail only once the
    fault (elsewhere) hits every instance; compared before the onset, they look alike."""
    done = [s for s in pods(error_on_new=0.5) if s.key.instance in NEW] + [
        s for s in pods(error_on_new=0.5) if s.key.instance in OLD
    ]
    onset = T0 + 600
    for s in done:
        s.values[s.ts >= onset] = 30.0  # the fault, felt by every pod still serving
    reading = compare_rollout(rollout(), done, onset, T0 + 900)
    assert reading.verdict == "alike"
