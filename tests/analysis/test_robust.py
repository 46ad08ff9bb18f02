"""Robust scoring primitives on small arrays with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from tools.analysis.robust import (
    Baselines,
    count_dispersion,
    deviations,
    poisson_z,
    rolling_sustained,
    routine_excess,
    row_quantiles,
    sustained,
    with_routine,
)

NAN = np.nan


def test_poisson_z_is_honest_in_the_tails() -> None:
    z = poisson_z(np.array([0.0, 9.0, 20.0]), np.array([9.0, 9.0, 9.0]))
    assert z[0] == pytest.approx(-np.sqrt(18.0))  # nine usual lines, none seen
    assert z[1] == 0.0
    assert z[2] > 3.0
    assert poisson_z(np.array([3.0]), np.array([0.0]))[0] > 10  # expected nothing at all


def test_row_quantiles_match_numpy_and_skip_gaps() -> None:
    values = np.array(
        [[1.0, 2.0, 3.0, 4.0, NAN], [NAN, NAN, NAN, NAN, NAN], [5.0, NAN, 1.0, 3.0, 2.0]]
    )
    q1, median, q3 = row_quantiles(values, (0.25, 0.5, 0.75))
    for row in (0, 2):
        expected = np.nanpercentile(values[row], [25, 50, 75])
        assert [q1[row], median[row], q3[row]] == pytest.approx(expected)
    assert np.isnan(median[1])


def test_baselines_floor_their_spread() -> None:
    flat = np.full((1, 10), 100.0)
    found = Baselines.of(flat, abs_floor=np.array([0.5]), rel_floor=np.array([0.0]))
    assert found.median[0] == 100.0 and found.scale[0] == 0.5 and found.count[0] == 10
    relative = Baselines.of(flat, abs_floor=np.array([0.0]), rel_floor=np.array([0.1]))
    assert relative.scale[0] == pytest.approx(10.0)


def test_sustained_takes_the_second_most_harmful_sample() -> None:
    values = np.array([[1.0, 9.0, 5.0, NAN], [4.0, NAN, NAN, NAN], [NAN, NAN, NAN, NAN]])
    up = sustained(values, "up")
    assert up[0] == 5.0 and up[1] == 4.0 and np.isnan(up[2])
    assert sustained(values, "down")[0] == 5.0


def test_rolling_sustained_ignores_one_off_spikes() -> None:
    values = np.array([[1.0, 1.0, 50.0, 1.0, 3.0, 2.0]])
    windows = rolling_sustained(values, 3, "up")
    assert windows.tolist() == [[1.0, 1.0, 3.0, 2.0]]
    gappy = np.array([[1.0, NAN, NAN, 4.0]])
    assert np.isnan(rolling_sustained(gappy, 2, "up")).all()  # no window holds two samples
    assert rolling_sustained(values, 1, "up") is values


def test_routine_excess_needs_three_separate_episodes() -> None:
    two = np.array([[0, 5, 6, 0, 0, 7, 0, 0, 0, 0]], dtype=float)
    three = np.array([[0, 5, 6, 0, 0, 7, 0, 4, 0, 0]], dtype=float)
    assert routine_excess(two, 2.0)[0] == 0.0
    assert routine_excess(three, 2.0)[0] == 4.0  # the third largest episode peak


def test_with_routine_widens_the_spread_of_a_hopping_series() -> None:
    hopping = np.array([[1.0, 1, 1, 2.5, 1, 1, 2.5, 1, 1, 2.5, 1, 1]])
    steady = np.array([[1.0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]])
    for values, widened in ((hopping, True), (steady, False)):
        base = Baselines.of(values, np.array([0.1]), np.array([0.0]))
        found = with_routine(base, values, "up")
        assert (found.scale[0] > base.scale[0]) == widened
    base = Baselines.of(hopping, np.array([0.1]), np.array([0.0]))
    z = deviations(np.array([2.5]), with_routine(base, hopping, "up"), "up")
    assert z[0] < 3.0  # hopping to the usual level again is no incident


def test_deviations_count_only_the_harmful_direction() -> None:
    base = Baselines(np.array([10.0, 10.0]), np.array([1.0, 1.0]), np.array([5, 0]))
    assert deviations(np.array([14.0, 14.0]), base, "up").tolist() == [4.0, 0.0]
    assert deviations(np.array([14.0, 14.0]), base, "down").tolist() == [0.0, 0.0]


def test_count_dispersion_separates_fixed_paths_from_the_request_mix() -> None:
    totals = np.full(8, 100.0)
    fixed = np.array([[50.0, 52, 48, 51, 49, 50, 53, 47]])
    mixed = np.array([[10.0, 90, 20, 80, 15, 85, 50, 50]])
    share = np.array([0.5])
    assert count_dispersion(fixed, totals, share, 0.5)[0] == pytest.approx(1.0)
    assert count_dispersion(mixed, totals, share, 0.5)[0] > 10
