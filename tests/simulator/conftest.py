"""Small simulated datasets, generated once per test session in tmp folders.

Volume is turned down (fewer log lines and sampled traces; metrics are whole)
so the suite stays fast; what the tests check does not depend on volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from evals.simulator.case import CaseOutput
from evals.simulator.estate import Estate
from evals.simulator.faults import CATALOGUE
from evals.simulator.generate import Options, generate

VOLUME = 0.2


@dataclass
class Simulated:
    """A dataset written to disk plus each case's in-memory output by fault kind."""

    root: Path
    outputs: dict[str, CaseOutput]


@pytest.fixture(scope="session")
def estate() -> Estate:
    return Estate.from_policy()


@pytest.fixture(scope="session")
def every_fault(tmp_path_factory: pytest.TempPathFactory, estate: Estate) -> Simulated:
    """One case of every fault kind (written, and kept in memory)."""
    root = tmp_path_factory.mktemp("sim-all") / "dataset"
    options = Options(out=root, seed=11, cases=len(CATALOGUE), volume=VOLUME)
    summary = generate(options, estate, keep=True)
    return Simulated(root, {o.truth["fault"]: o for o in summary.outputs})
