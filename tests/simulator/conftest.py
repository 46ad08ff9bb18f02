"""Small simulated datasets, generated once per test session in tmp folders.

Volume is turned down (fewer log lines and sampled traces; metrics are whole)
so the suite stays fast; what the tests check does not depend on volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from evals.simulator.case import CaseOutput
from evals.simulator.estate import Estate
from evals.simulator.faults import CATALOGUE
from evals.simulator.generate import Options, generate

VOLUME = 0.2
SLOW_SEED, ROLLOUT_SEED, LATE_SEED = 5, 7, 5
LATE_LAG_MIN = (5.0, 12.0)
LATE_FAULTS = ("cpu", "slow-callee", "network-delay", "bad-deploy")


@dataclass
class Simulated:
    """A dataset written to disk plus each case's in-memory output by fault kind."""

    root: Path
    outputs: dict[str, CaseOutput]


@pytest.fixture(scope="session")
def estate() -> Estate:
    return Estate.from_policy()


@dataclass
class Cases:
    """A dataset written to disk and each case's in-memory output, in order."""

    root: Path
    outputs: list[CaseOutput]


def _simulate(factory: pytest.TempPathFactory, estate: Estate, name: str, **options: Any) -> Cases:
    root = factory.mktemp(name) / "dataset"
    summary = generate(Options(out=root, volume=VOLUME, **options), estate, keep=True)
    return Cases(root, summary.outputs)


@pytest.fixture(scope="session")
def every_fault(tmp_path_factory: pytest.TempPathFactory, estate: Estate) -> Simulated:
    """One case of every fault kind (written, and kept in memory)."""
    cases = _simulate(tmp_path_factory, estate, "sim-all", seed=11, cases=len(CATALOGUE))
    return Simulated(cases.root, {o.truth["fault"]: o for o in cases.outputs})


@pytest.fixture(scope="session")
def slow_callees(tmp_path_factory: pytest.TempPathFactory, estate: Estate) -> Cases:
    """Slow callees, traced and not, slowed on the wire and in their own work
    (the seed gives both variants of both kinds)."""
    return _simulate(
        tmp_path_factory,
        estate,
        "sim-slow",
        seed=SLOW_SEED,
        cases=8,
        faults=("slow-callee", "slow-callee-untraced"),
    )


@pytest.fixture(scope="session")
def rollouts(tmp_path_factory: pytest.TempPathFactory, estate: Estate) -> Cases:
    """Bad deploys among concurrent benign rollouts."""
    return _simulate(
        tmp_path_factory,
        estate,
        "sim-rollouts",
        seed=ROLLOUT_SEED,
        cases=6,
        faults=("rollout-decoys",),
    )


@pytest.fixture(scope="session")
def late_alerts(tmp_path_factory: pytest.TempPathFactory, estate: Estate) -> Cases:
    """Alerts 5-12 minutes after the onset; half the faults that can end are
    over before the triage runs."""
    return _simulate(
        tmp_path_factory,
        estate,
        "sim-late",
        seed=LATE_SEED,
        cases=6,
        faults=LATE_FAULTS,
        alert_lag_min=LATE_LAG_MIN,
        fault_over=0.5,
    )
