"""The kill test: 2,000 alerts to an API and two worker processes on the real PostgreSQL
and Redis, one worker SIGKILLed halfway. None is lost, no incident is opened twice, no
page is sent twice (`triage bench scale --kill-worker`, the same code)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.bench.scale import Plan, run_scale
from agent.config.engines import EnginesConfig
from agent.engines.errors import EngineUnavailable
from tests.engines.conftest import POSTGRES_URL, REDIS_URL

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"


def test_two_thousand_alerts_two_workers_one_killed(tmp_path: Path) -> None:
    engines = EnginesConfig(database_url=POSTGRES_URL, queue_url=REDIS_URL)
    plan = Plan(alerts=2000, workers=2, threads=2, kill_worker=True, claim_after_s=5.0)
    try:
        result = run_scale(plan, engines, tmp_path)
    except EngineUnavailable as error:
        pytest.fail(f"{error} (the kill test needs it running)", pytrace=False)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "scale-kill.json").write_text(result.model_dump_json(), encoding="utf-8")
    print(f"\n{json.dumps(result.model_dump())}")
    assert result.accepted == 2000 and result.triaged == 2000 and result.failed == 0
    assert result.lost == 0
    assert result.incidents == plan.groups and result.duplicate_incidents == 0
    assert result.pages == plan.groups and result.duplicate_pages == 0
