"""Late alerts: the alert fires within the requested lag after the fault
began, the clock moves with it, and some faults are over before the triage."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import typer
from typer.testing import CliRunner

from agent.alert.parse import parse_alert
from evals.simulator.case import CaseOutput, simulate
from evals.simulator.cli import register
from evals.simulator.estate import Estate
from evals.simulator.generate import Options, plan
from tests.simulator.conftest import LATE_FAULTS, LATE_LAG_MIN, LATE_SEED, VOLUME, Cases
from tests.simulator.reading import by_instance, onset, series, stamp
from tools.telemetry.models import to_epoch
from tools.telemetry.replay.format import load_cases


def test_alerts_fire_within_the_requested_lag(late_alerts: Cases) -> None:
    low, high = (60.0 * m for m in LATE_LAG_MIN)
    cases = {c.id: c for c in load_cases(late_alerts.root)}
    for output in late_alerts.outputs:
        case = cases[output.truth["id"]]
        alert = parse_alert(case.alert.payload, case.alert.source)[0]
        lag = to_epoch(alert.starts_at) - onset(output)
        assert low - 1 <= lag <= high + 1, (case.id, lag)
        # The triage runs a few minutes after the alert, as it would.
        assert 150 <= to_epoch(case.now) - to_epoch(alert.starts_at) <= 420 + 180


def test_some_faults_are_over_before_the_triage(late_alerts: Cases, estate: Estate) -> None:
    over = [o for o in late_alerts.outputs if o.truth["fault_end"]]
    lasting = [o for o in late_alerts.outputs if not o.truth["fault_end"]]
    assert over and lasting
    for output in over:
        start, end, now = onset(output), stamp(output.truth["fault_end"]), output.window[1]
        fired = start + output.truth["alert"]["fired_after_s"]
        assert fired < end <= now - 120
        # What moved most during the fault is back near its baseline before the triage.
        moved = []
        for ts, values in _fault_series(output, estate):
            before = np.median(values[ts < start - 120])
            during = np.mean(values[(ts > start + 120) & (ts < end)])
            after = np.mean(values[ts >= end + 60])
            moved.append((during / max(before, 1e-9), (after - before) / (during - before)))
        rise, left = max(moved)
        assert rise > 2 and left < 0.3, output.truth["id"]


def _fault_series(output: CaseOutput, estate: Estate) -> list[tuple[np.ndarray, np.ndarray]]:
    """The culprit's busiest pod's CPU and latency, and its callers' waits on it."""
    culprit = output.truth["root_cause"]["service"]
    out = [_busiest(output, culprit, m) for m in ("cpu_usage_pct", "server_latency_p99_s")]
    out += [
        series(output, caller, f"to_{culprit}_latency_p99_s", "")
        for caller in estate.callers(culprit)
    ]
    return out


def _busiest(output: CaseOutput, service: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    pods = by_instance(output, service, metric)
    ts = np.array(sorted({t for rates in pods.values() for t in rates}))
    return ts, np.array([max(r.get(t, 0.0) for r in pods.values()) for t in ts])


def test_lags_are_drawn_apart_from_the_rest_of_the_plan(tmp_path: Path, estate: Estate) -> None:
    """Asking for late alerts changes when alerts fire, not which faults strike
    where: the same seed plans the same cases."""
    base = Options(out=tmp_path, seed=4, cases=5)
    late = Options(out=tmp_path, seed=4, cases=5, alert_lag_min=(1.0, 15.0), fault_over=1.0)
    plain, lagged = plan(base, estate), plan(late, estate)
    assert [(p.kind, p.culprit, p.fault_s) for p in plain] == [
        (p.kind, p.culprit, p.fault_s) for p in lagged
    ]
    assert all(p.alert_lag_s is None for p in plain)
    assert all(60.0 <= (p.alert_lag_s or 0) <= 900.0 for p in lagged)
    assert [p.fault_ends for p in lagged] == [p.kind.ends for p in lagged]
    assert [p.alert_lag_s for p in lagged] == [p.alert_lag_s for p in plan(late, estate)]


def test_the_same_seed_plants_the_same_faults_with_or_without_a_lag(
    late_alerts: Cases, estate: Estate
) -> None:
    options = Options(
        out=late_alerts.root,
        seed=LATE_SEED,
        cases=6,
        faults=LATE_FAULTS,
        volume=VOLUME,
        alert_lag_min=LATE_LAG_MIN,
        fault_over=0.5,
    )
    for case_plan, late in list(zip(plan(options, estate), late_alerts.outputs, strict=True))[:2]:
        prompt = simulate(replace(case_plan, alert_lag_s=None, fault_ends=False), estate)
        for key in ("root_cause", "fault_start"):
            assert prompt.truth[key] == late.truth[key]
        assert prompt.truth["alert"]["fired_after_s"] < late.truth["alert"]["fired_after_s"]


def test_cli_checks_the_lag(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    for args, says in (
        (["--alert-lag", "12-4"], "need 0 <= MIN <= MAX"),
        (["--alert-lag", "soon"], "expected MIN-MAX or N minutes"),
        (["--fault-over", "0.5"], "--fault-over needs --alert-lag"),
    ):
        result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "x"), *args])
        assert result.exit_code == 2 and says in result.output, result.output
