"""Metric shifts on hand-made series: a real jump, an edge metric, a routine hop."""

from __future__ import annotations

import numpy as np

from tools.analysis.metric_shifts import metric_shifts
from tools.analysis.split import Split
from tools.telemetry.models import Series, SeriesKey

ALERT = 100_000.0
SPLIT = Split.around(alert_s=ALERT, now_s=ALERT + 240.0)
TS = np.arange(ALERT - 3600.0, ALERT + 241.0, 60.0)
AFTER = SPLIT.onset_s + 60 <= TS
SERVICES = {"cart", "checkout"}


def series(service: str, metric: str, values: np.ndarray, instance: str = "") -> Series:
    return Series(SeriesKey(service, instance, metric), TS, values.astype(np.float64))


def noisy(level: float, seed: int) -> np.ndarray:
    return level * (1 + 0.03 * np.random.default_rng(seed).standard_normal(len(TS)))


def z_of(found: list, service: str, metric: str) -> float:
    return next(s.z for s in found if s.key.service == service and s.key.metric == metric)


def test_a_cpu_jump_is_scored_on_its_service() -> None:
    cpu = np.where(AFTER, 80.0, noisy(20.0, 1))
    found = metric_shifts([series("cart", "cpu_usage_pct", cpu, "cart-0")], SPLIT, SERVICES)
    (shift,) = found
    assert shift.service == "cart" and shift.z > 10 and shift.current == 80.0


def test_a_per_edge_latency_indicts_the_callee() -> None:
    edge = np.where(AFTER, 0.5, noisy(0.01, 2))
    (shift,) = metric_shifts([series("checkout", "to_cart_latency_p50_s", edge)], SPLIT, SERVICES)
    assert shift.service == "cart" and shift.z > 3


def test_a_quantised_percentile_hopping_as_usual_is_no_incident() -> None:
    hops = np.where(np.arange(len(TS)) % 7 == 0, 0.0235, 0.00975)
    hops[AFTER] = [0.0235, 0.00975, 0.0235, 0.00975, 0.00975, 0.0235]
    found = metric_shifts([series("cart", "latency_p95_s", hops, "cart-0")], SPLIT, SERVICES)
    assert z_of(found, "cart", "latency_p95_s") < 3


def test_one_slow_request_moves_p99_alone_and_is_capped() -> None:
    flat = noisy(0.05, 3)
    p99 = np.where(AFTER, 5.0, noisy(0.05, 4))
    found = metric_shifts(
        [
            series("cart", "latency_p90_s", flat, "cart-0"),
            series("cart", "latency_p95_s", flat, "cart-0"),
            series("cart", "latency_p99_s", p99, "cart-0"),
        ],
        SPLIT,
        SERVICES,
    )
    assert z_of(found, "cart", "latency_p99_s") < 3


def test_series_without_a_baseline_are_skipped() -> None:
    young = np.where(SPLIT.onset_s - 60 <= TS, 50.0, np.nan)
    assert metric_shifts([series("cart", "cpu_usage_pct", young, "cart-0")], SPLIT, SERVICES) == []


def test_a_share_of_few_requests_counts_as_its_failures_not_its_percentage() -> None:
    """80 % available out of 5 requests a minute (one failed each minute) is a big move
    of a share but, as counts, weak; 97.5 % out of 2,000 a minute (50 failed each
    minute) is strong. Neither service ever failed before."""
    quiet_share = np.where(AFTER, 80.0, 100.0)
    busy_share = np.where(AFTER, 97.5, 100.0)
    found = metric_shifts(
        [
            series("cart", "availability_pct", quiet_share, "cart-0"),
            series("cart", "requests_per_s", np.full(len(TS), 5 / 60), "cart-0"),
            series("checkout", "availability_pct", busy_share, "checkout-0"),
            series("checkout", "requests_per_s", np.full(len(TS), 2000 / 60), "checkout-0"),
        ],
        SPLIT,
        SERVICES,
    )
    assert z_of(found, "cart", "availability_pct") < 7
    assert z_of(found, "checkout", "availability_pct") > 3
    alone = metric_shifts(
        [series("cart", "availability_pct", quiet_share, "cart-0")], SPLIT, SERVICES
    )
    assert z_of(alone, "cart", "availability_pct") > z_of(found, "cart", "availability_pct")
