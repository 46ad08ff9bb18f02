"""Onset-aligned buckets and candidate onsets."""

from __future__ import annotations

import numpy as np

from tools.analysis.split import Split


def test_buckets_are_aligned_on_the_onset_not_the_clock() -> None:
    split = Split.around(alert_s=1_000.0, now_s=1_200.0)
    assert split.onset_s == 880.0
    index = split.bucket_of(np.array([879.0, 880.0, 885.0, 939.9, 940.0, 820.0]), 60.0)
    assert index.tolist() == [-1, 0, 0, 0, 1, -1]


def test_onset_candidates_run_from_the_onset_to_the_alert() -> None:
    split = Split.around(alert_s=1_000.0, now_s=1_200.0)
    assert split.onset_buckets(60.0) == [0, 1, 2]
    late = Split.around(alert_s=1_000.0, now_s=900.0)
    assert late.onset_buckets(60.0) == [0]
