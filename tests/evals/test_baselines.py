"""Baselines on the tiny dataset, whose faulty service is known for every case."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evals.baselines import Baseline, load_baselines
from evals.baselines.baro import BaroBaseline
from evals.baselines.metric_table import column_names, metric_table
from evals.baselines.nsigma import NSigmaBaseline
from evals.baselines.rcaeval_runner import rcaeval_problem
from evals.baselines.simple import MostErrorsBaseline, RandomBaseline
from evals.harness import run_eval
from tests.evals.conftest import make_fixed_engine
from tests.evals.tiny_dataset import FAULTS, SERVICES
from tools.telemetry.models import Series, SeriesKey
from tools.telemetry.replay.backend import ReplayDataset

needs_rcaeval = pytest.mark.skipif(
    rcaeval_problem() is not None,
    reason=f"RCAEval not importable ({rcaeval_problem()}); python -m evals.baselines.install",
)


def series(
    service: str, metric: str, ts: list[float], values: list[float], instance: str = ""
) -> Series:
    return Series(
        key=SeriesKey(service, instance, metric),
        ts=np.asarray(ts, dtype=float),
        values=np.asarray(values, dtype=float),
    )


def test_metric_table_snaps_offset_scrapes_onto_one_grid_and_fills_gaps() -> None:
    table = metric_table(
        [
            series("a", "cpu", [0, 60, 120, 180], [1, 2, 3, 4]),
            series("b", "cpu", [1, 61, 121, 181], [5, np.nan, 7, 8]),  # a second late, one gap
            series("b", "lat", [2, 182], [9, 10]),  # sparse
        ]
    )
    frame = table.frame
    assert list(frame.columns) == ["time", "a_cpu", "b_cpu", "b_lat"]
    assert frame["time"].tolist() == [0.0, 60.0, 120.0, 180.0]
    assert frame["b_cpu"].tolist() == [5, 5, 7, 8]  # forward-filled
    assert frame["b_lat"].tolist() == [9, 9, 9, 10]
    assert table.column_service == {"a_cpu": "a", "b_cpu": "b", "b_lat": "b"}
    ranked = table.services_ranked(["b_lat", "a_cpu", "b_cpu", "unknown"])
    assert [(r.service, r.score) for r in ranked] == [("b", 1.0), ("a", 0.5)]


def test_column_names_add_the_instance_only_where_a_service_repeats_a_metric() -> None:
    keys = [
        SeriesKey("svc", "pod-1", "cpu"),
        SeriesKey("svc", "pod-2", "cpu"),
        SeriesKey("svc", "", "to_db_latency"),
        SeriesKey("db", "db-0", "cpu"),
        SeriesKey("svc_pod-1", "", "cpu"),  # a service whose name looks like svc + instance
    ]
    assert column_names(keys) == [
        "svc_pod-1_cpu",
        "svc_pod-2_cpu",
        "svc_to_db_latency",
        "db_cpu",
        "svc_pod-1_cpu#2",
    ]


@needs_rcaeval
@pytest.mark.parametrize("baseline", [BaroBaseline(), NSigmaBaseline()], ids=["baro", "nsigma"])
def test_rcaeval_baselines_rank_the_faulty_service_first(tiny: Path, baseline: Baseline) -> None:
    dataset = ReplayDataset.open(tiny)
    for fault in FAULTS:
        output = baseline.rank(dataset.at(fault.now), fault.alert_at, fault.case_id)
        services = [r.service for r in output.ranking]
        assert sorted(services) == sorted(SERVICES)
        assert services[0] == fault.service, fault.case_id
        assert output.ranking[0].score == 1.0 and output.ranking[0].confidence is None


def test_random_baseline_is_a_seeded_permutation_per_case(tiny: Path) -> None:
    dataset = ReplayDataset.open(tiny)
    backend = dataset.at(FAULTS[0].now)
    first = [r.service for r in RandomBaseline().rank(backend, FAULTS[0].alert_at, "c1").ranking]
    again = [r.service for r in RandomBaseline().rank(backend, FAULTS[0].alert_at, "c1").ranking]
    assert first == again
    assert sorted(first) == sorted(SERVICES)
    orders = {
        tuple(
            r.service for r in RandomBaseline().rank(backend, FAULTS[0].alert_at, f"c{i}").ranking
        )
        for i in range(30)
    }
    assert len(orders) > 1  # the seed depends on the case


def test_most_errors_ranks_only_services_that_logged_errors(tiny: Path) -> None:
    dataset = ReplayDataset.open(tiny)
    fault = FAULTS[0]  # cart: 3 errors a minute; frontend: 1 a minute; db: none
    output = MostErrorsBaseline().rank(dataset.at(fault.now), fault.alert_at, fault.case_id)
    # Fault minutes 0..4 reach `now`: cart logs on the minute (5 x 3 lines); the
    # frontend logs two seconds later, so its minute-4 line is after `now` and unseen.
    assert [(r.service, r.score) for r in output.ranking] == [("cart", 15.0), ("frontend", 4.0)]


def test_without_rcaeval_the_simple_baselines_still_run(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "evals.baselines.rcaeval_runner.rcaeval_problem",
        lambda: "ModuleNotFoundError: No module named 'RCAEval'",
    )
    baselines, notes = load_baselines()
    assert [b.name for b in baselines] == ["random", "most-errors"]
    assert "python -m evals.baselines.install" in notes[0]

    out = tmp_path / "out"
    result = run_eval([tiny], out, with_baselines=True, engine=make_fixed_engine())
    assert result.run.methods == ["engine", "random", "most-errors"]
    assert "BARO and NSigma skipped" in (out / "report.md").read_text()
    assert (out / "baselines" / "most-errors.predictions.jsonl").exists()


@needs_rcaeval
def test_baselines_run_beside_the_engine_and_are_scored_side_by_side(
    tiny: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run_eval([tiny], out, with_baselines=True, engine=make_fixed_engine())
    assert result.run.methods == ["engine", "baro", "nsigma", "random", "most-errors"]
    for method in ("baro", "nsigma", "random", "most-errors"):
        lines = (out / "baselines" / f"{method}.predictions.jsonl").read_text().splitlines()
        assert [json.loads(line)["id"] for line in lines] == [f.case_id for f in FAULTS]
    # the engine's own file holds the engine only
    engine_lines = (out / "predictions.jsonl").read_text().splitlines()
    assert {json.loads(line)["method"] for line in engine_lines} == {"engine"}

    assert result.scores is not None
    rows = {r.method: r for r in result.scores.summary}
    assert rows["baro"].ac1 == 1.0 and rows["nsigma"].ac1 == 1.0
    assert rows["most-errors"].ac1 == 1.0
    assert rows["baro"].fault_type_acc is None  # baselines claim no fault type
    assert [c.method for c in result.scores.calibration] == ["engine"]
    md = (out / "report.md").read_text()
    assert "| tiny-shop | 0.33 / 1.00 / 0.80 | 1.00 / 1.00 / 1.00 |" in md


@needs_rcaeval
def test_importing_rcaeval_leaves_warnings_and_matplotlib_alone() -> None:
    import warnings

    import matplotlib

    from evals.baselines.rcaeval_runner import rcaeval_functions

    assert set(rcaeval_functions()) == {"baro", "nsigma"}
    # RCAEval's modules run warnings.filterwarnings("ignore") and a matplotlib
    # style at import time; neither may outlive the import.
    assert not any(f[0] == "ignore" and f[1] is None and f[2] is Warning for f in warnings.filters)
    assert matplotlib.rcParams["axes.facecolor"] == "white"
