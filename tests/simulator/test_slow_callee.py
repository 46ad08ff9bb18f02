"""A slow callee: its callers time out and look loudest; the truth is the
callee, `network-delay` when the wire got slow (its own time and CPU flat),
`cpu` when its own work did; an untraced callee has no spans of its own."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from evals.simulator.case import CaseOutput
from evals.simulator.estate import Estate
from evals.simulator.faults.slow_callee import budget_ms
from tests.simulator.conftest import Cases
from tests.simulator.reading import before_after, onset, stamp

Span = list[str]


def _culprit(output: CaseOutput) -> str:
    return str(output.truth["root_cause"]["service"])


def _spans(output: CaseOutput) -> list[Span]:
    return [line.split(",") for _, line in output.spans]


def test_both_variants_of_both_kinds(slow_callees: Cases) -> None:
    seen = {(o.truth["fault"], o.truth["root_cause"]["fault_type"]) for o in slow_callees.outputs}
    assert seen == {
        (kind, fault_type)
        for kind in ("slow-callee", "slow-callee-untraced")
        for fault_type in ("network-delay", "cpu")
    }


def test_callers_time_out_on_the_callee(slow_callees: Cases, estate: Estate) -> None:
    for output in slow_callees.outputs:
        culprit = _culprit(output)
        waits = [
            before_after(output, caller, f"to_{culprit}_latency_p99_s", "")
            for caller in estate.callers(culprit)
        ]
        # Every caller waits longer on its calls to the culprit, its p99 about
        # as long as the first timeout the slowness meets.
        assert all(after > 4 * before for before, after in waits), output.truth["id"]
        assert max(after for _, after in waits) >= 0.5 * budget_ms(estate, culprit) / 1000.0
        errors = [
            before_after(output, caller, f"to_{culprit}_error_rate_pct", "")
            for caller in estate.callers(culprit)
        ]
        if budget_ms(estate, culprit) == estate[culprit].behaviour.timeout_ms:
            assert max(after for _, after in errors) > 10.0, output.truth["id"]


def test_the_callers_are_loudest(slow_callees: Cases, estate: Estate) -> None:
    for output in slow_callees.outputs:
        culprit, start = _culprit(output), onset(output)
        errors: Counter[str] = Counter()
        for ts, line in output.logs:
            if ts >= start and '"level":"ERROR"' in line:
                errors[line.split('"service":"', 1)[1].split('"', 1)[0]] += 1
        callers = set(estate.callers(culprit)) | estate.ancestors(culprit)
        assert sum(errors[c] for c in callers) > 3 * errors[culprit], output.truth["id"]
        # Callers fail their own requests; the callee's own error rate stays flat.
        if estate[culprit].traced:
            assert before_after(output, culprit, "error_rate_pct", "")[1] < 5.0


def test_network_delay_leaves_the_callees_own_time_and_cpu_flat(
    slow_callees: Cases, estate: Estate
) -> None:
    for output in slow_callees.outputs:
        culprit = _culprit(output)
        if output.truth["root_cause"]["fault_type"] != "network-delay":
            continue
        latency = _pod_medians(output, culprit, "server_latency_p99_s")
        assert latency[1] < 1.5 * latency[0], output.truth["id"]
        cpu = _pod_medians(output, culprit, "cpu_usage_pct")
        assert cpu[1] < cpu[0] + 15.0, output.truth["id"]


def test_cpu_raises_the_callees_own_time_and_cpu(slow_callees: Cases) -> None:
    for output in slow_callees.outputs:
        culprit = _culprit(output)
        if output.truth["root_cause"]["fault_type"] != "cpu":
            continue
        latency = _pod_peaks(output, culprit, "server_latency_p99_s")
        assert latency[1] > 20 * latency[0], output.truth["id"]
        cpu = _pod_peaks(output, culprit, "cpu_usage_pct")
        assert cpu[1] > 90.0 > cpu[0] + 40, output.truth["id"]


def _pod_medians(output: CaseOutput, service: str, metric: str) -> tuple[float, float]:
    """Median over time of the busiest pod, before and after the onset."""
    before, after = _by_time(output, service, metric)
    return float(np.median(before)), float(np.median(after))


def _pod_peaks(output: CaseOutput, service: str, metric: str) -> tuple[float, float]:
    before, after = _by_time(output, service, metric)
    return float(np.median(before)), float(np.max(after))


def _by_time(output: CaseOutput, service: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Per minute, the highest pod's value, before the onset and from two
    minutes after it."""
    worst: dict[float, float] = defaultdict(float)
    for ts, line in output.metrics:
        _, svc, inst, name, value = line.split(",")
        if svc == service and name == metric and inst:
            worst[ts] = max(worst[ts], float(value))
    start = onset(output)
    ts = np.array(sorted(worst))
    values = np.array([worst[t] for t in ts])
    return values[ts < start - 120], values[ts > start + 120]


def test_untraced_callees_have_no_spans_of_their_own(slow_callees: Cases, estate: Estate) -> None:
    untraced = [o for o in slow_callees.outputs if o.truth["fault"] == "slow-callee-untraced"]
    assert untraced
    for output in untraced:
        culprit = _culprit(output)
        assert not estate[culprit].traced
        spans = _spans(output)
        by_id = {s[2]: s for s in spans}
        parents = {s[3] for s in spans}
        mine = [s for s in spans if s[4] == culprit]
        assert mine, output.truth["id"]
        # Only its callers' client spans, named after it: never a parent, always a child
        # of a caller's span.
        assert all(s[2] not in parents for s in mine)
        assert all(by_id[s[3]][4] in estate.callers(culprit) for s in mine if s[3] in by_id)


def test_traced_callees_show_where_the_time_went(slow_callees: Cases, estate: Estate) -> None:
    """Under a caller's client span that timed out sits the callee's server
    span: on a slow wire the server was quick; with a slow CPU the server span
    itself is long (sampled traces of one slow pod of three may miss it)."""
    shown = set()
    for output in slow_callees.outputs:
        if output.truth["fault"] != "slow-callee":
            continue
        culprit = _culprit(output)
        timeout = estate[culprit].behaviour.timeout_ms
        servers = [s for c, s in _client_server(output, estate) if c >= 0.99 * timeout]
        if not servers:
            continue
        fault_type = output.truth["root_cause"]["fault_type"]
        shown.add(fault_type)
        if fault_type == "network-delay":
            assert np.median(servers) < 0.1 * timeout, output.truth["id"]
        else:
            assert np.median(servers) > 0.3 * timeout, output.truth["id"]
    assert shown == {"network-delay", "cpu"}


def _client_server(output: CaseOutput, estate: Estate) -> list[tuple[float, float]]:
    """(client ms, server ms) of callers' calls to the culprit after the onset."""
    culprit, start = _culprit(output), onset(output)
    spans = _spans(output)
    children = defaultdict(list)
    for span in spans:
        children[span[3]].append(span)
    return [
        (float(client[7]), float(kids[0][7]))
        for client in spans
        if client[4] in estate.callers(culprit)
        and stamp(client[0]) > start + 120
        and len(kids := children[client[2]]) == 1
        and kids[0][4] == culprit
    ]


def test_budget_is_the_first_timeout_met(estate: Estate) -> None:
    # A cache is given 500 ms; a database 30 s, but its callers' callers give up at 2 s.
    assert budget_ms(estate, "cache") == estate["cache"].behaviour.timeout_ms
    assert budget_ms(estate, "orders-db") < estate["orders-db"].behaviour.timeout_ms
