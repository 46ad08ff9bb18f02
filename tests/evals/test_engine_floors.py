"""The engine's agreed floors on the shared dev sets: out of sample, on time and late.

The isolation engine alone (no graph, to stay fast) replays every dev case at
its alert's own time and with the alert 300 s late, each dataset ranked by the
model fitted without it, as `triage eval` headlines it. Raise the floors when
the engine improves; never lower them to make a change pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.alert_intake import ON_TIME, AlertLag
from evals.harness import run_eval
from evals.models import ALL_DATASETS
from evals.triage import engine_only
from tests.evals.conftest import REPLAY

pytestmark = pytest.mark.dataset

DATASETS = ("nezha-ob-dev", "nezha-tt-dev", "petshop-dev")
LATE = AlertLag.parse("300")

# THE FLOORS: the engine's held-out figures with the fault window read from the data
# (`triage eval ... --alert-lag 0 --alert-lag 300`), less 0.05 (one or two cases).
# TrainTicket on time is below what the engine showed before issue 10 (0.82): that
# figure leaned on an onset put exactly 120 s before every alert, which is where the
# dataset's alerts sit after each injection; onsets now come from the data, on clock
# minutes, as they would for a real alert.
# (dataset, alert lag) -> lowest acceptable out-of-sample AC@1.
AC1_FLOORS = {
    ("nezha-ob-dev", "0 s"): 0.91,  # measured 0.96
    ("nezha-ob-dev", "300 s"): 0.87,  # 0.92
    ("nezha-tt-dev", "0 s"): 0.70,  # 0.75
    ("nezha-tt-dev", "300 s"): 0.56,  # 0.61
    ("petshop-dev", "0 s"): 0.74,  # 0.79
    ("petshop-dev", "300 s"): 0.74,  # 0.79
}
# Alert lag -> highest acceptable ECE of out-of-sample top-1 confidence, all dev cases:
# the 0.10 (measured 0.07 on time and 0.04 at 300 s; the calibration is
# fitted on the averaged probabilities, with alerts on time and late).
ECE_CEILINGS = {"0 s": 0.10, "300 s": 0.10}


@pytest.mark.skipif(
    not all((REPLAY / d).is_dir() for d in DATASETS), reason=f"no shared datasets at {REPLAY}"
)
def test_the_engine_holds_its_floors_out_of_sample_on_time_and_late(tmp_path: Path) -> None:
    result = run_eval(
        [REPLAY / d for d in DATASETS],
        tmp_path / "eval",
        triage=engine_only(),
        lags=[ON_TIME, LATE],
        in_sample=False,
    )
    assert result.scores is not None
    assert not [p.error for p in result.run.predictions if p.error]
    headline = {(h.dataset, h.lag): h for h in result.scores.headline}
    assert {headline[key].ranking_model for key in AC1_FLOORS} == {"held out"}

    below = [
        f"{dataset} at {lag}: AC@1 {headline[(dataset, lag)].score.ac1:.2f} < {floor:.2f}"
        for (dataset, lag), floor in AC1_FLOORS.items()
        if headline[(dataset, lag)].score.ac1 < floor
    ]
    for lag, ceiling in ECE_CEILINGS.items():
        calibration = headline[(ALL_DATASETS, lag)].calibration
        assert calibration is not None and calibration.ece is not None
        if calibration.ece > ceiling:
            below.append(f"all dev cases at {lag}: ECE {calibration.ece:.3f} > {ceiling:.2f}")
    assert not below, "below the agreed floors:\n" + "\n".join(below)
