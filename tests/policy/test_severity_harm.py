"""Harm, the one definition severity counts: errors up 2 points and doubled, or
median latency x1.8 and +100 ms; and how it is measured from metric series
(each service's own error rate and most typical latency, never a caller's view)."""

from __future__ import annotations

import numpy as np
import pytest

from tools.analysis.harm import (
    HarmReading,
    Health,
    harmed_services,
    is_harmed,
    measure,
)
from tools.analysis.split import Split
from tools.telemetry.models import Series, SeriesKey

ALERT = 1_800_000_000.0
SPLIT = Split.around(alert_s=ALERT, now_s=ALERT + 180.0)
SERVICES = {"checkout", "payment", "search", "psp", "cart"}


# -- the definition ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "during"),
    [
        (0.01, 0.03),  # exactly +2 points (0.019999999999999997 in floats), tripled
        (0.02, 0.04),  # exactly +2 points and exactly doubled
        (0.0, 0.02),  # from nothing to 2 %
        (0.05, 0.40),
    ],
)
def test_errors_up_two_points_and_doubled_are_harm(before: float, during: float) -> None:
    assert is_harmed(Health(error_share=before), Health(error_share=during))


@pytest.mark.parametrize(
    ("before", "during"),
    [
        (0.001, 0.003),  # tripled, but a quiet service's noise
        (0.10, 0.13),  # +3 points on a service that always fails a lot
        (0.03, 0.02),  # better
        (0.01, 0.0299),  # just short of two points
    ],
)
def test_small_or_relative_only_error_moves_are_not_harm(before: float, during: float) -> None:
    assert not is_harmed(Health(error_share=before), Health(error_share=during))


@pytest.mark.parametrize(
    ("before", "during"), [(50.0, 150.0), (125.0, 225.0), (200.0, 360.0), (400.0, 2000.0)]
)
def test_latency_up_1_8x_and_100ms_is_harm(before: float, during: float) -> None:
    assert is_harmed(Health(latency_ms=before), Health(latency_ms=during))


@pytest.mark.parametrize(
    ("before", "during"),
    [
        (2.0, 6.0),  # tripled, but only 4 ms
        (60.0, 150.0),  # 2.5x, +90 ms
        (100.0, 180.0),  # 1.8x, +80 ms
        (300.0, 500.0),  # +200 ms, only 1.67x
        (0.0, 500.0),  # no baseline latency cannot be judged
        (500.0, 100.0),
    ],
)
def test_small_or_relative_only_latency_moves_are_not_harm(before: float, during: float) -> None:
    assert not is_harmed(Health(latency_ms=before), Health(latency_ms=during))


def test_unknown_health_is_never_harm() -> None:
    assert not is_harmed(Health(), Health(error_share=0.5, latency_ms=5000.0))
    assert not is_harmed(Health(error_share=0.0), Health(latency_ms=5000.0))
    assert not is_harmed(Health(latency_ms=10.0), Health())


def test_either_half_is_enough() -> None:
    slower = HarmReading(Health(0.01, 100.0), Health(0.011, 300.0))
    failing = HarmReading(Health(0.01, 100.0), Health(0.05, 101.0))
    fine = HarmReading(Health(0.01, 100.0), Health(0.012, 120.0))
    assert slower.harmed and failing.harmed and not fine.harmed


def test_harmed_services_are_named_in_order() -> None:
    readings = {
        "search": HarmReading(Health(0.0, 40.0), Health(0.1, 40.0)),
        "cart": HarmReading(Health(0.0, 40.0), Health(0.0, 41.0)),
        "auth": HarmReading(Health(latency_ms=40.0), Health(latency_ms=400.0)),
    }
    assert harmed_services(readings) == ["auth", "search"]
    assert harmed_services({}) == []


def test_a_reading_describes_what_moved() -> None:
    reading = HarmReading(Health(0.004, 42.0), Health(0.083, 950.0))
    assert reading.describe() == "errors 0.4% -> 8.3%, median latency 42 -> 950 ms"
    assert HarmReading(Health(latency_ms=10.0), Health(latency_ms=12.0)).describe() == (
        "median latency 10 -> 12 ms"
    )
    assert HarmReading(Health(), Health()).describe() == ""


# -- measured from series -------------------------------------------------------------------

MINUTES = np.arange(SPLIT.start_s, SPLIT.now_s + 1.0, 60.0)


def series(service: str, metric: str, before: float, during: float, instance: str = "") -> Series:
    """One sample a minute: `before` up to the onset, `during` from it."""
    values = np.where(SPLIT.is_current(MINUTES), during, before).astype(np.float64)
    return Series(SeriesKey(service, instance, metric), MINUTES.copy(), values)


def test_error_rate_in_percent_is_read_as_a_share() -> None:
    readings = measure([series("checkout", "error_rate_pct", 0.5, 8.0)], SPLIT, SERVICES)
    reading = readings["checkout"]
    assert reading.before.error_share == pytest.approx(0.005)
    assert reading.during.error_share == pytest.approx(0.08)
    assert reading.before.latency_ms is None
    assert harmed_services(readings) == ["checkout"]


def test_latency_in_seconds_is_read_in_milliseconds() -> None:
    readings = measure([series("search", "latency_p50_s", 0.05, 0.4)], SPLIT, SERVICES)
    assert readings["search"].before.latency_ms == pytest.approx(50.0)
    assert readings["search"].during.latency_ms == pytest.approx(400.0)
    assert readings["search"].harmed


def test_the_median_is_preferred_over_the_tail() -> None:
    """A p99 that triples while the median holds is a tail, not harm."""
    tail = [
        series("search", "latency_p50_s", 0.050, 0.060),
        series("search", "latency_p99_s", 0.300, 0.900),
        series("search", "latency_p90_s", 0.100, 0.500),
    ]
    reading = measure(tail, SPLIT, SERVICES)["search"]
    assert reading.during.latency_ms == pytest.approx(60.0)
    assert not reading.harmed


def test_a_success_rate_counts_its_complement_as_errors() -> None:
    readings = measure([series("psp", "probe_success_pct", 100.0, 90.0)], SPLIT, SERVICES)
    assert readings["psp"].before.error_share == pytest.approx(0.0)
    assert readings["psp"].during.error_share == pytest.approx(0.1)
    assert readings["psp"].harmed


def test_the_service_level_series_wins_over_its_pods() -> None:
    pods = [
        series("checkout", "error_rate_pct", 0.5, 30.0, instance="checkout-0"),
        series("checkout", "error_rate_pct", 0.5, 0.5),
    ]
    assert not measure(pods, SPLIT, SERVICES)["checkout"].harmed


def test_without_a_service_level_series_the_pods_are_averaged() -> None:
    pods = [
        series("cart", "error_rate_pct", 0.0, 9.0, instance="cart-0"),
        series("cart", "error_rate_pct", 0.0, 0.0, instance="cart-1"),
        series("cart", "error_rate_pct", 0.0, 0.0, instance="cart-2"),
    ]
    reading = measure(pods, SPLIT, SERVICES)["cart"]
    assert reading.during.error_share == pytest.approx(0.03)
    assert reading.harmed


def test_a_callers_view_of_an_edge_is_not_its_own_harm() -> None:
    """checkout's client-side view of payment failing says nothing about checkout."""
    edges = [
        series("checkout", "to_payment_error_rate_pct", 0.0, 40.0),
        series("checkout", "to_payment_latency_p99_s", 0.1, 3.0),
        series("payment", "from_checkout_error_rate_pct", 0.0, 40.0),
        series("checkout", "error_rate_pct", 0.2, 0.2),
    ]
    readings = measure(edges, SPLIT, SERVICES)
    assert set(readings) == {"checkout"}
    assert not readings["checkout"].harmed


def test_metrics_without_a_known_unit_or_of_other_families_are_ignored() -> None:
    other = [
        series("checkout", "errors_total", 10.0, 5000.0),  # a counter, not a share
        series("checkout", "login_failures_per_s", 0.4, 60.0),
        series("checkout", "cpu_usage_pct", 10.0, 100.0),
        series("checkout", "requests_per_s", 100.0, 400.0),
        series("checkout", "latency_p50", 0.05, 5.0),  # no unit
    ]
    assert measure(other, SPLIT, SERVICES) == {}


def test_gaps_are_skipped_and_an_unjudgeable_window_stays_unknown() -> None:
    gappy = series("search", "error_rate_pct", 0.2, 6.0)
    gappy.values[::2] = np.nan
    assert measure([gappy], SPLIT, SERVICES)["search"].harmed
    new = series("cart", "error_rate_pct", np.nan, 50.0)
    reading = measure([new], SPLIT, SERVICES)["cart"]
    assert reading.before.error_share is None and reading.during.error_share is None
    assert not reading.harmed


def test_samples_after_now_do_not_count() -> None:
    late = series("search", "error_rate_pct", 0.2, 0.2)
    late.ts = np.append(late.ts, SPLIT.now_s + 60.0)
    late.values = np.append(late.values, 100.0)
    assert not measure([late], SPLIT, SERVICES)["search"].harmed


def test_errors_and_latency_of_one_service_make_one_reading() -> None:
    both = [
        series("payment", "error_rate_pct", 0.1, 0.2),
        series("payment", "latency_p50_ms", 80.0, 400.0),
    ]
    reading = measure(both, SPLIT, SERVICES)["payment"]
    assert reading.before == Health(error_share=pytest.approx(0.001), latency_ms=80.0)
    assert reading.during.latency_ms == 400.0
    assert reading.harmed
