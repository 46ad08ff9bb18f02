"""The engine's evidence sentences on the bundled demo incident read as English: they are
quoted in pages, updates and postmortems."""

from __future__ import annotations

import re

from agent.cli import DEMO_CASE, DEMO_DATASET
from agent.isolation.engine import isolate
from evals.alert_intake import case_alerts
from tools.telemetry.replay.backend import ReplayDataset


def test_log_evidence_uses_the_right_article_before_a_level() -> None:
    dataset = ReplayDataset.open(DEMO_DATASET.resolve())
    case = next(c for c in dataset.cases() if c.id == DEMO_CASE)
    isolation = isolate(dataset.at(case.now), case_alerts(case))
    logs = [e.summary for e in isolation.evidence if e.kind == "log"]
    assert any("surge" in s for s in logs), logs
    assert not [s for s in logs if re.search(r"\ba (?:ERROR|INFO|unlevelled)\b", s)], logs
