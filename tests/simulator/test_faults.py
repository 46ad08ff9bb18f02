"""Each fault leaves its signature where a responder would look for it."""

from __future__ import annotations

import pytest

from evals.simulator.faults import CATALOGUE, KINDS
from evals.simulator.faults.security import LEAKED_KEY
from tests.simulator.conftest import Simulated
from tests.simulator.reading import before_after, logs_of, onset, series
from tools.telemetry.replay.format import FAULT_TYPES


def test_every_kind_maps_to_the_replay_taxonomy() -> None:
    assert all(kind.fault_type in FAULT_TYPES for kind in CATALOGUE)
    assert {k.fault_type for k in CATALOGUE} >= {
        "cpu",
        "memory",
        "disk",
        "network-delay",
        "network-loss",
        "resource-exhaustion",
        "database",
        "dependency-down",
        "bad-deploy",
        "config",
        "traffic-surge",
        "security",
    }


def test_cpu_rises_on_the_culprit(every_fault: Simulated) -> None:
    out = every_fault.outputs["cpu"]
    culprit = out.truth["root_cause"]["service"]
    before, after = before_after(out, culprit, "cpu_usage_pct")
    assert after > before + 60


def test_memory_leak_ends_in_oom_restarts(every_fault: Simulated) -> None:
    out = every_fault.outputs["memory-leak"]
    culprit = out.truth["root_cause"]["service"]
    _, restarts = before_after(out, culprit, "restarts")
    assert restarts >= 1
    messages = " ".join(str(r["message"]) for r in logs_of(out, culprit))
    assert "OutOfMemoryError" in messages or "heap out of memory" in messages


def test_disk_fills_up(every_fault: Simulated) -> None:
    out = every_fault.outputs["disk-full"]
    _, after = before_after(
        out,
        out.truth["root_cause"]["service"],
        "disk_usage_pct",
        out.truth["root_cause"]["instance"],
    )
    assert after >= 99.0


@pytest.mark.parametrize("key", ["network-delay", "packet-loss"])
def test_network_faults_slow_the_callers_edge(every_fault: Simulated, key: str) -> None:
    out = every_fault.outputs[key]
    culprit = out.truth["root_cause"]["service"]
    caller = next(s for s in every_fault_callers(culprit))
    before, after = before_after(out, caller, f"to_{culprit}_latency_p99_s")
    assert after > before * 1.5


def every_fault_callers(culprit: str) -> list[str]:
    from evals.simulator.estate import Estate

    return Estate.from_policy().callers(culprit)


def test_pool_exhaustion_fills_the_pool(every_fault: Simulated) -> None:
    out = every_fault.outputs["db-pool-exhaustion"]
    _ts, usage = series(out, out.truth["root_cause"]["service"], "db_pool_usage_pct")
    assert usage.max() >= 95 * 2  # every pod of the culprit at the top


def test_slow_query_slows_the_database(every_fault: Simulated) -> None:
    out = every_fault.outputs["slow-query"]
    before, after = before_after(out, "orders-db", "server_latency_p99_s")
    assert after > 10 * before


def test_cache_stampede_collapses_the_hit_ratio(every_fault: Simulated) -> None:
    out = every_fault.outputs["cache-stampede"]
    _ts, ratio = series(out, "cache", "cache_hit_ratio")
    pods = 3
    assert ratio.max() / pods > 0.9 and ratio.min() / pods < 0.6


def test_psp_outage_fails_the_probe_and_payments(every_fault: Simulated) -> None:
    out = every_fault.outputs["psp-outage"]
    ts, probe = series(out, "psp", "probe_success_pct")
    assert probe[ts > onset(out) + 180].mean() < 50
    _, errors = before_after(out, "payment", "error_rate_pct", "")
    assert errors > 20


def test_bad_deploy_has_its_change_and_a_new_error(every_fault: Simulated) -> None:
    out = every_fault.outputs["bad-deploy"]
    culprit = out.truth["root_cause"]["service"]
    change = next(c for c in out.changes if c.id == out.truth["change_id"])
    assert change.service == culprit and change.kind == "deploy"
    assert 0 <= onset(out) - change.ts <= 180
    assert len(out.truth["decoy_changes"]) >= 1
    new = {str(r["message"])[:60] for r in logs_of(out, culprit) if r["level"] == "ERROR"}
    old = {str(r["message"])[:60] for r in logs_of(out, culprit, after=False)}
    assert new - old


def test_bad_config_is_a_config_change(every_fault: Simulated) -> None:
    out = every_fault.outputs["bad-config"]
    change = next(c for c in out.changes if c.id == out.truth["change_id"])
    assert change.kind == "config" and change.service == out.truth["root_cause"]["service"]


def test_expired_certificate_breaks_handshakes(every_fault: Simulated) -> None:
    out = every_fault.outputs["tls-expired"]
    culprit = out.truth["root_cause"]["service"]
    assert out.truth["fault_start"].endswith(":00Z")
    handshakes = [r for r in logs_of(out, culprit) if "TLS handshake error" in str(r["message"])]
    assert handshakes
    before, _ = before_after(out, culprit, "requests_per_s", "")
    ts, rps = series(out, culprit, "requests_per_s", "")
    assert rps[ts > onset(out) + 60].mean() < 0.2 * before


def test_traffic_surge_multiplies_the_entry_traffic(every_fault: Simulated) -> None:
    out = every_fault.outputs["traffic-surge"]
    before, after = before_after(out, out.truth["root_cause"]["service"], "requests_per_s", "")
    assert after > 2.5 * before


def test_queue_backlog_grows_the_lag(every_fault: Simulated) -> None:
    out = every_fault.outputs["queue-backlog"]
    before, after = before_after(out, "notifications", "kafka_consumer_records_lag_max")
    assert after > 50 * before


@pytest.mark.parametrize(
    ("key", "service", "mark"),
    [
        ("credential-stuffing", "auth", "reason=invalid_password"),
        ("leaked-access-key", "aws-account", LEAKED_KEY),
        ("data-exfiltration", "object-storage", "sakuramart-exports"),
        ("web-attack", None, "etc"),
    ],
)
def test_security_cases_plant_attacklogs_of(
    every_fault: Simulated, key: str, service: str | None, mark: str
) -> None:
    out = every_fault.outputs[key]
    assert out.truth["root_cause"]["fault_type"] == "security"
    where = service or out.truth["root_cause"]["service"]
    after = [r for r in logs_of(out, where) if mark in str(r["message"])]
    before = [r for r in logs_of(out, where, after=False) if mark in str(r["message"])]
    # Background noise may carry the same words (customers mistype passwords);
    # the attack is a rate at least ten times the background.
    began, (start, end) = onset(out), out.window
    assert len(after) >= 5
    assert len(after) / (end - began) >= 10 * len(before) / (began - start)


def test_every_kind_is_registered() -> None:
    assert set(KINDS) == {k.key for k in CATALOGUE}
