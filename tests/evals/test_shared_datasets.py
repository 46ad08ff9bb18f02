"""The harness and baselines on the real dev datasets (skipped where shared/ is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.alert_intake import case_alerts
from evals.baselines.rcaeval_runner import rank_with_rcaeval, rcaeval_problem
from evals.harness import run_eval
from evals.scoring import ENGINES, ac_at_k, rank_of, service_ranking
from tests.evals.conftest import REPLAY, make_fixed_engine
from tools.telemetry.replay.backend import ReplayDataset
from tools.telemetry.replay.format import load_truth

pytestmark = pytest.mark.dataset

needs_shared = pytest.mark.skipif(
    not (REPLAY / "petshop-dev").is_dir(), reason=f"no shared datasets at {REPLAY}"
)
needs_rcaeval = pytest.mark.skipif(rcaeval_problem() is not None, reason="RCAEval not importable")


@needs_shared
def test_petshop_cases_replay_with_baselines(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_eval(
        [REPLAY / "petshop-dev"], out, with_baselines=True, limit=2, engine=make_fixed_engine()
    )
    dataset = ReplayDataset.open(REPLAY / "petshop-dev")
    assert result.scores is not None
    assert {r.method for r in result.scores.summary} == set(result.run.methods)
    for method in (m for m in result.run.methods if m not in ENGINES):
        path = out / "baselines" / f"{method}.predictions.jsonl"
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert len(lines) == 2 and all(line["error"] is None for line in lines)
        for line in lines:
            assert {r["service"] for r in line["ranking"]} <= set(dataset.services)


@needs_shared
@needs_rcaeval
def test_baro_on_nezha_ob_matches_the_published_level() -> None:
    """Guards the table construction: BARO on this split scored AC@1 = 8/24 when the
    input matched RCAEval's expectations; a broken table drops it to chance (0.1)."""
    dataset = ReplayDataset.open(REPLAY / "nezha-ob-dev")
    truth = load_truth(dataset.root)
    assert truth is not None
    ranks = []
    for case in dataset.cases():
        alert_at = case_alerts(case)[0].starts_at
        output = rank_with_rcaeval("baro", dataset.at(case.now), alert_at)
        ranks.append(rank_of(service_ranking(output.ranking), truth[case.id].root_cause.service))
    assert ac_at_k(ranks, 1) == pytest.approx(8 / 24)
