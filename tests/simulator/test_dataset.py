"""The simulator writes valid replay/1, the same bytes for the same seed, and
nothing a case would need from after its `now`."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

from agent.alert.parse import parse_alert
from agent.policy.load import default_policy
from evals.simulator.faults import CATALOGUE
from evals.simulator.generate import Options, generate
from tests.simulator.conftest import VOLUME, Simulated
from tools.telemetry.models import to_epoch
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import FAULT_TYPES, load_cases, load_truth


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((first, 3), (second, 3), (other, 4)):
        generate(Options(out=out, seed=seed, cases=2, faults=("cpu", "bad-deploy"), volume=0.1))
    assert _digest(first) == _digest(second)
    assert _digest(first) != _digest(other)


def test_replay_backend_opens_it(every_fault: Simulated) -> None:
    dataset = ReplayDataset.open(every_fault.root)
    assert {"metrics", "logs", "traces", "changes", "topology"} <= dataset.kinds()
    assert "aws-account" in dataset.services
    assert len(dataset.cases()) == len(CATALOGUE)


def test_every_alert_parses_and_names_a_known_service(every_fault: Simulated) -> None:
    services = {s.name for s in default_policy().services} | {"aws-account"}
    for case in load_cases(every_fault.root):
        alerts = parse_alert(case.alert.payload, case.alert.source)
        assert alerts, case.id
        assert alerts[0].service in services, (case.id, alerts[0].service)
        assert alerts[0].starts_at <= case.now


def test_truth_is_complete_and_valid(every_fault: Simulated) -> None:
    policy = default_policy()
    teams = {t.name for t in policy.teams}
    truth = load_truth(every_fault.root)
    assert truth is not None
    cases = {c.id: c for c in load_cases(every_fault.root)}
    changes = {
        json.loads(line)["id"]: json.loads(line)
        for line in (every_fault.root / "changes.jsonl").read_text().splitlines()
    }
    for case_id, record in truth.items():
        assert record.root_cause.fault_type in FAULT_TYPES
        assert record.severity in {"SEV1", "SEV2", "SEV3", "SEV4"}
        assert record.page_team in teams
        assert record.fault_start is not None and record.fault_start < cases[case_id].now
        if record.change_id:
            assert changes[record.change_id]["service"] == record.root_cause.service
        if record.root_cause.fault_type == "security":
            assert record.severity == "SEV1"


def test_no_telemetry_after_a_case_now(every_fault: Simulated) -> None:
    for output in every_fault.outputs.values():
        start, now = output.window
        for rows in (output.metrics, output.logs, output.spans):
            assert rows
            assert all(start <= ts <= now for ts, _ in rows)
        assert to_epoch(_now(output.case)) == now


def test_windows_do_not_overlap(every_fault: Simulated) -> None:
    windows = sorted(o.window for o in every_fault.outputs.values())
    assert all(a[1] < b[0] for a, b in itertools.pairwise(windows))


def test_volume_is_modest(every_fault: Simulated) -> None:
    size = sum(p.stat().st_size for p in every_fault.root.rglob("*") if p.is_file())
    per_case = size / len(CATALOGUE)
    assert per_case < 1.2e6 * max(VOLUME, 0.5)


def _now(case: dict[str, object]):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(str(case["now"]).replace("Z", "+00:00"))
