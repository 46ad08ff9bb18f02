"""Brier score, ECE and reliability bins against values worked out by hand."""

from __future__ import annotations

import pytest

from evals.calibration import (
    bin_index,
    brier_score,
    expected_calibration_error,
    reliability_bins,
    summarize_calibration,
)


def test_brier_score_is_the_mean_squared_gap() -> None:
    assert brier_score([1.0, 0.0], [True, False]) == 0.0
    assert brier_score([1.0, 0.0], [False, True]) == 1.0
    # (0.8-1)^2 = 0.04, (0.6-0)^2 = 0.36, (0.5-1)^2 = 0.25 -> 0.65 / 3
    assert brier_score([0.8, 0.6, 0.5], [True, False, True]) == pytest.approx(0.65 / 3)
    with pytest.raises(ValueError):
        brier_score([], [])


def test_bins_are_equal_width_and_one_falls_in_the_last() -> None:
    assert bin_index(0.0) == 0
    assert bin_index(0.05) == 0
    assert bin_index(0.1) == 1
    assert bin_index(0.95) == 9
    assert bin_index(1.0) == 9


def test_ece_weights_each_bin_gap_by_its_share_of_cases() -> None:
    # bin 9: conf 0.9, 0.9, hits 1, 0 -> gap |0.5 - 0.9| = 0.4, weight 2/4
    # bin 2: conf 0.25, 0.25, hits 0, 0 -> gap 0.25, weight 2/4
    confidences = [0.9, 0.9, 0.25, 0.25]
    outcomes = [True, False, False, False]
    assert expected_calibration_error(confidences, outcomes) == pytest.approx(
        0.5 * 0.4 + 0.5 * 0.25
    )
    bins = reliability_bins(confidences, outcomes)
    assert len(bins) == 10
    assert [b.n for b in bins] == [0, 0, 2, 0, 0, 0, 0, 0, 0, 2]
    assert bins[9].accuracy == 0.5 and bins[9].mean_confidence == pytest.approx(0.9)
    assert bins[0].accuracy is None


def test_ece_of_a_perfectly_calibrated_set_is_zero() -> None:
    confidences = [0.75] * 4 + [0.05] * 20
    outcomes = [True, True, True, False] + [True] + [False] * 19
    assert expected_calibration_error(confidences, outcomes) == pytest.approx(0.0)


def test_summarize_calibration_of_nothing_has_no_figures() -> None:
    empty = summarize_calibration([], "d", "engine")
    assert empty.n == 0 and empty.brier is None and empty.ece is None
    full = summarize_calibration([(0.7, True), (0.7, False)], "d", "engine")
    assert full.n == 2
    assert full.brier == pytest.approx((0.09 + 0.49) / 2)
    assert full.ece == pytest.approx(0.2)
