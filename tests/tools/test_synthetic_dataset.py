"""The shared synthetic dataset keeps its promises to the tests built on it."""

from __future__ import annotations

from tests.support.synthetic import SERVICES, SyntheticDataset
from tools.telemetry.models import TimeWindow
from tools.telemetry.replay.format import load_cases, load_truth


def test_covers_the_format_variants(synthetic: SyntheticDataset) -> None:
    for table in ("metrics", "logs", "traces"):
        names = sorted(p.name for p in (synthetic.root / table).iterdir())
        assert names[0].endswith(".gz") and not names[-1].endswith(".gz"), table


def test_case_and_truth_describe_the_planted_fault(synthetic: SyntheticDataset) -> None:
    (case,) = load_cases(synthetic.root)
    truth = load_truth(synthetic.root)
    assert truth is not None
    assert case.id == synthetic.case_id and case.now == synthetic.spec.now
    assert truth[case.id].root_cause.service == synthetic.spec.fault_service
    assert truth[case.id].fault_start == synthetic.spec.fault_start


def test_holds_every_kind_and_service(synthetic: SyntheticDataset) -> None:
    backend = synthetic.backend()
    assert backend.kinds() == {"metrics", "logs", "traces", "changes", "topology"}
    assert backend.services() == sorted(name for name, *_ in SERVICES)


def test_data_runs_past_now_so_leaks_would_show(synthetic: SyntheticDataset) -> None:
    spec = synthetic.spec
    after = TimeWindow(start=spec.now, end=spec.end)
    later = synthetic.backend(spec.end)
    assert len(later.spans(after)) > 0
    assert later.metric_series(after, metrics=["cpu_usage_pct"])
    assert len(synthetic.backend().spans(after)) == 0


def test_the_fault_grows_the_fault_service_self_time(synthetic: SyntheticDataset) -> None:
    spec = synthetic.spec
    backend = synthetic.backend()
    before = backend.spans(
        TimeWindow(start=spec.fault_start.replace(hour=11), end=spec.fault_start)
    )
    during = backend.spans(TimeWindow(start=spec.fault_start, end=spec.now))
    mine = before.service == spec.fault_service
    assert before.self_ms[mine].max() < 20
    assert during.self_ms[during.service == spec.fault_service].min() > 500
    assert (during.status[during.service == spec.fault_service] == "error").any()
