"""Concurrent rollouts with one bad: new pods get new names (a pod-template
hash per version) in metrics, logs and traces alike; only the bad rollout's
new pods fail; the others' new pods look like their old ones."""

from __future__ import annotations

import json

import numpy as np

from evals.simulator.case import CaseOutput
from evals.simulator.estate import Estate, pod_names
from evals.simulator.state import Change
from tests.simulator.conftest import Cases
from tests.simulator.reading import by_instance, onset


def _rollouts(output: CaseOutput) -> list[Change]:
    """The case's deploys that replace pods inside its window, oldest first."""
    start = output.window[0]
    return sorted(
        (c for c in output.changes if c.kind == "deploy" and c.ts > start),
        key=lambda c: c.ts,
    )


def _new_pods(output: CaseOutput, change: Change) -> dict[str, dict[float, float]]:
    """Error rate by pod of the pods that first report during the rollout."""
    pods = by_instance(output, change.service, "error_rate_pct")
    first = output.window[0]
    return {name: rates for name, rates in pods.items() if min(rates) > first}


def _hash(instance: str) -> str:
    return instance.rsplit("-", 2)[-2]


def test_truth_names_the_bad_rollout(rollouts: Cases) -> None:
    for output in rollouts.outputs:
        truth = output.truth
        bad = next(c for c in output.changes if c.id == truth["change_id"])
        assert truth["root_cause"]["fault_type"] == "bad-deploy"
        assert bad.service == truth["root_cause"]["service"] and bad.kind == "deploy"
        assert bad.from_version and bad.to_version and bad.done_ts and bad.done_ts > bad.ts
        assert set(truth["decoy_changes"]) >= {
            c.id for c in _rollouts(output) if c.id != bad.id and c.service != bad.service
        }


def test_rollouts_overlap_and_vary(rollouts: Cases) -> None:
    """Several rollouts at about the same time; sometimes a benign one comes
    after the bad one, sometimes one lands right at the onset; bad versions
    throw, fail quietly or run slow."""
    details = " ".join(o.truth["root_cause"]["detail"] for o in rollouts.outputs)
    assert "throws" in details and ("usual error" in details or "slow" in details)
    later, at_onset, crowded = 0, 0, 0
    for output in rollouts.outputs:
        start = onset(output)
        bad = next(c for c in output.changes if c.id == output.truth["change_id"])
        near = [c for c in _rollouts(output) if abs(c.ts - start) < 15 * 60 and c.id != bad.id]
        crowded += len(near) >= 2
        later += any(c.ts > bad.ts for c in near)
        at_onset += any(abs(c.ts - start) < 60 for c in near)
    assert crowded and later and at_onset


def test_new_pods_have_new_names_per_version(rollouts: Cases, estate: Estate) -> None:
    for output in rollouts.outputs:
        for change in _rollouts(output):
            new = _new_pods(output, change)
            component = estate[change.service]
            if not new or component.behaviour.stateful:
                continue
            # One pod-template hash per version, whatever the case.
            expected = _hash(pod_names(component, "any case", change.to_version or "")[0])
            assert {_hash(name) for name in new} == {expected}, change
            for rates in new.values():
                # Each new pod comes up during the rollout.
                assert change.ts - 60 <= min(rates) <= (change.done_ts or 0.0)


def test_only_the_bad_rollouts_new_pods_fail(rollouts: Cases, estate: Estate) -> None:
    """The bad version's new pods fail (or, for a slow regression, run slow)
    well past the old pods; a benign version's new pods do not."""
    for output in rollouts.outputs:
        start, culprit = onset(output), output.truth["root_cause"]["service"]
        for change in _rollouts(output):
            worse = [
                _worse(output, change, metric, start)
                for metric in ("error_rate_pct", "server_latency_p50_s")
            ]
            if change.id == output.truth["change_id"]:
                assert worse[0] > 4.0 or worse[1] > 2.0, change
            elif change.service not in estate.ancestors(culprit) and not np.isnan(worse[0]):
                assert worse[0] < 2.0 and worse[1] < 1.5, change


def _worse(output: CaseOutput, change: Change, metric: str, start: float) -> float:
    """How much worse the new pods are than the old ones were before the
    onset: points of error rate, or a ratio of latency."""
    pods = by_instance(output, change.service, metric)
    new = _new_pods(output, change)
    after = [v for name in new for ts, v in pods[name].items() if ts > start + 60]
    before = [v for name, r in pods.items() if name not in new for ts, v in r.items() if ts < start]
    if not after:
        return float("nan")
    if metric == "error_rate_pct":
        return float(np.mean(after) - np.mean(before))
    return float(np.median(after) / np.median(before))


def test_the_new_exception_is_logged_by_the_bad_new_pods_only(rollouts: Cases) -> None:
    throwing = [o for o in rollouts.outputs if "throws" in o.truth["root_cause"]["detail"]]
    assert throwing
    for output in throwing:
        bad = next(c for c in output.changes if c.id == output.truth["change_id"])
        new = set(_new_pods(output, bad))
        records = [json.loads(line) for _, line in output.logs]
        errors = [r for r in records if r["service"] == bad.service and r["level"] == "ERROR"]
        on_new = {str(r["message"])[:80] for r in errors if r["instance"] in new}
        on_old = {str(r["message"])[:80] for r in errors if r["instance"] not in new}
        assert on_new - on_old, output.truth["id"]


def test_instances_agree_across_metrics_logs_and_traces(rollouts: Cases) -> None:
    for output in rollouts.outputs:
        for change in _rollouts(output):
            service = change.service
            metric_pods = set(by_instance(output, service, "cpu_usage_pct"))
            log_pods = {
                r["instance"]
                for _, line in output.logs
                if (r := json.loads(line))["service"] == service
            }
            span_pods = {
                parts[5]
                for _, line in output.spans
                if (parts := line.split(","))[4] == service and parts[5]
            }
            assert log_pods <= metric_pods and span_pods <= metric_pods
            assert set(_new_pods(output, change)) & log_pods
