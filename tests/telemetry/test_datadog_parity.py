"""Datadog gives the engine the same answer as the replay files it was loaded from.

The synthetic shop (its planted payment fault after a deploy) is served by the
fake Datadog (tests/telemetry/support/datadog.py) and read through the
official client: metrics (timeseries queries), logs (search, aggregate), APM
spans and events, every kind the replay side reads. Only the call graph is
declared on both sides, because the APM service map says who calls whom but
not what each service is (a database, a cache), which the engine weighs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.synthetic import SyntheticDataset
from tests.telemetry.conftest import datadog_config
from tests.telemetry.support.datadog import FakeDatadog
from tests.telemetry.support.parity import Run, assert_same, ranking, triage
from tools.telemetry.config import TelemetryConfig
from tools.telemetry.replay.format import CaseRecord


@dataclass(frozen=True)
class Case:
    dataset: SyntheticDataset
    record: CaseRecord


@pytest.fixture(scope="module")
def case(synthetic: SyntheticDataset) -> Case:
    return Case(synthetic, synthetic.open().cases()[0])


@pytest.fixture(scope="module")
def replayed(case: Case) -> Run:
    run = triage(TelemetryConfig(path=case.dataset.root), case.record)
    assert ranking(run.isolation)[0] == "payment"
    print(f"\nreplay files (every kind): triage {run.seconds:.2f} s")
    return run


def test_datadog_ranks_as_the_replay_files(datadog: FakeDatadog, case: Case, replayed: Run) -> None:
    config = TelemetryConfig(
        backend="datadog",
        datadog=datadog_config(datadog.url),
        topology_file=case.dataset.root / "topology.json",
    )
    before = len(datadog.requests)
    run = triage(config, case.record)
    assert run.isolation.notes == replayed.isolation.notes
    assert_same(run, replayed, "datadog metrics+logs+traces+changes")
    kinds = {e.kind for e in run.isolation.evidence}
    assert {"metric", "log", "trace", "change"} <= kinds
    calls = run.usage["datadog"].calls
    # the services (over a day, a point a series), the window, the version tags
    assert calls["datadog.query_timeseries_data"] == 3
    assert calls["datadog.list_logs"] == 1  # the window read once, reused by the security scan
    assert len(datadog.requests) - before == run.usage["datadog"].total


def test_datadog_metrics_and_logs_rank_as_the_replay_files(
    datadog: FakeDatadog, case: Case
) -> None:
    """The kinds the CloudWatch parity test reads, for a like-for-like cost."""
    only = {"traces": "none", "changes": "none"}
    replay = triage(TelemetryConfig(path=case.dataset.root, **only), case.record)
    config = TelemetryConfig(
        backend="datadog",
        datadog=datadog_config(datadog.url),
        topology_file=case.dataset.root / "topology.json",
        **only,
    )
    run = triage(config, case.record)
    assert_same(run, replay, "datadog metrics+logs")
    assert "datadog.list_spans" not in run.usage["datadog"].calls
