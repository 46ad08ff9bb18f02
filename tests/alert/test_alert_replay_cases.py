"""Every case alert of the shared replay datasets parses, with its start and source.

The datasets live beside the checkout (`../shared`, or $TRIAGE_SHARED_DIR);
users of the product do not have them, so these tests only run where they do.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from agent.alert import detect_source, parse_alert
from tools.telemetry.replay.format import CaseRecord, read_jsonl

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("TRIAGE_SHARED_DIR", REPO_ROOT.parent / "shared"))
CASE_FILES = sorted((SHARED / "replay").glob("*/cases.jsonl"))


@pytest.mark.dataset
@pytest.mark.skipif(not CASE_FILES, reason=f"no replay datasets under {SHARED}")
@pytest.mark.parametrize("cases_file", CASE_FILES, ids=lambda path: path.parent.name)
def test_every_case_alert_parses(cases_file: Path) -> None:
    cases = read_jsonl(cases_file, CaseRecord)
    assert cases
    for case in cases:
        alerts = parse_alert(case.alert.payload, source=case.alert.source)
        assert alerts, case.id
        assert detect_source(case.alert.payload) == case.alert.source, case.id
        for alert in alerts:
            assert alert.source == case.alert.source, case.id
            assert alert.starts_at.utcoffset() == timedelta(0), case.id
            # The alert fired before the triage ran, and not long before.
            assert case.now - timedelta(days=1) <= alert.starts_at <= case.now, case.id
            assert alert.name and alert.fingerprint, case.id
