"""Onset-aligned buckets and candidate onsets."""

from __future__ import annotations

import numpy as np

from tools.analysis.split import Split


def test_the_fallback_onset_falls_on_a_clock_bucket_before_the_lead() -> None:
    """Counts are fetched per clock minute, so onsets sit on minute boundaries."""
    split = Split.around(alert_s=1_000.0, now_s=1_200.0)
    assert split.onset_s == 840.0
    index = split.bucket_of(np.array([839.0, 840.0, 885.0, 899.9, 900.0, 820.0]), 60.0)
    assert index.tolist() == [-1, 0, 0, 0, 1, -1]


def test_onset_candidates_run_from_the_onset_to_the_alert() -> None:
    split = Split.around(alert_s=1_000.0, now_s=1_200.0)
    assert split.onset_buckets(60.0) == [0, 1, 2]
    late = Split.around(alert_s=1_000.0, now_s=900.0)
    assert late.onset_buckets(60.0) == [0, 1]


def test_a_fault_window_from_the_data_ends_where_the_fault_went_quiet() -> None:
    split = Split.at_onset(600.0, alert_s=900.0, now_s=1_500.0, end_s=840.0, slack_s=120.0)
    assert (split.onset_s, split.until_s, split.start_s) == (600.0, 840.0, 600.0 - 3600.0)
    assert split.onset_buckets(60.0) == [0, 1, 2]
    assert split.last_bucket(60.0) == 3
    assert split.is_current(np.array([599.0, 600.0, 840.0, 841.0])).tolist() == [
        False,
        True,
        True,
        False,
    ]
    ongoing = Split.at_onset(600.0, alert_s=900.0, now_s=1_500.0, end_s=1_600.0)
    assert ongoing.end_s is None and ongoing.until_s == 1_500.0
