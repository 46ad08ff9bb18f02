"""recent_changes: newest first, bounded, redacted, and nothing from after `now`."""

from __future__ import annotations

import pytest

from tests.support.synthetic import CULPRIT_CHANGE_ID, FUTURE_CHANGE_ID, SyntheticDataset
from tools.bounds import ToolInputError
from tools.changes import RecentChangesInput, recent_changes
from tools.telemetry.replay.backend import ReplayBackend


def test_lists_changes_newest_first_with_their_age(
    synthetic: SyntheticDataset, backend: ReplayBackend
) -> None:
    out = recent_changes(backend, RecentChangesInput())
    assert [c.id for c in out.changes] == [CULPRIT_CHANGE_ID, "chg-0002", "chg-0001"]
    culprit = out.changes[0]
    assert culprit.service == synthetic.spec.fault_service
    assert culprit.kind == "deploy"
    assert (culprit.from_version, culprit.to_version) == ("v1.4.2", "v1.5.0")
    assert culprit.minutes_before_now == 7.0
    assert out.window.seconds == 24 * 3600


def test_never_returns_changes_after_now(
    synthetic: SyntheticDataset, backend: ReplayBackend
) -> None:
    out = recent_changes(backend, RecentChangesInput(end=synthetic.spec.end))
    assert FUTURE_CHANGE_ID not in {c.id for c in out.changes}
    later = recent_changes(synthetic.backend(synthetic.spec.end), RecentChangesInput())
    assert FUTURE_CHANGE_ID in {c.id for c in later.changes}


def test_filters_by_service_and_kind(backend: ReplayBackend) -> None:
    payment = recent_changes(backend, RecentChangesInput(service="pay*"))
    assert [c.id for c in payment.changes] == [CULPRIT_CHANGE_ID]
    configs = recent_changes(backend, RecentChangesInput(kinds=["config", "feature_flag"]))
    assert [c.id for c in configs.changes] == ["chg-0002"]


def test_the_range_narrows_the_list(backend: ReplayBackend) -> None:
    out = recent_changes(backend, RecentChangesInput(last="10m"))
    assert [c.id for c in out.changes] == [CULPRIT_CHANGE_ID]


def test_limit_truncates_and_counts(backend: ReplayBackend) -> None:
    out = recent_changes(backend, RecentChangesInput(limit=1))
    assert [c.id for c in out.changes] == [CULPRIT_CHANGE_ID]
    assert out.truncated and out.omitted == 2


def test_summaries_are_redacted(backend: ReplayBackend) -> None:
    config = recent_changes(backend, RecentChangesInput(kinds=["config"])).changes[0]
    assert "abc123secret" not in config.summary
    assert "api_key=<REDACTED>" in config.summary


def test_unknown_service_is_an_input_error(backend: ReplayBackend) -> None:
    with pytest.raises(ToolInputError, match="'service'"):
        recent_changes(backend, RecentChangesInput(service="billing"))
