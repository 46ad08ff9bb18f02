"""search_logs on the synthetic shop: finds the planted error, hides the future, masks secrets."""

from __future__ import annotations

import pytest

from tests.support.synthetic import FUTURE_MARKER, NEW_ERROR, SECRETS_AT, SyntheticDataset
from tools import logs as logs_module
from tools.bounds import ToolInputError
from tools.logs import SCAN_CAP, SearchLogsInput, search_logs
from tools.telemetry.replay.backend import ReplayBackend
from tools.toolset import run


def test_regex_finds_the_planted_error_newest_first(
    synthetic: SyntheticDataset, backend: ReplayBackend
) -> None:
    out = search_logs(backend, SearchLogsInput(regex=r"Timeout acquiring .* pool", limit=5))
    assert out.lines
    assert all(NEW_ERROR in line.message for line in out.lines)
    assert {line.service for line in out.lines} == {synthetic.spec.fault_service}
    assert {line.level for line in out.lines} == {"ERROR"}
    stamps = [line.ts for line in out.lines]
    assert stamps == sorted(stamps, reverse=True)
    assert stamps[0] == synthetic.spec.now
    # Four a minute since the fault began, both ends included.
    assert out.matched == 21 and not out.matched_is_lower_bound
    assert out.truncated and out.omitted == 16
    assert out.lines[0].trace_id


def test_never_returns_lines_after_now(synthetic: SyntheticDataset, backend: ReplayBackend) -> None:
    params = SearchLogsInput(contains=FUTURE_MARKER, start="-3h", end=synthetic.spec.end)
    assert search_logs(backend, params).matched == 0
    later = synthetic.backend(synthetic.spec.end)
    assert search_logs(later, SearchLogsInput(contains=FUTURE_MARKER)).matched == 1
    recent = search_logs(backend, SearchLogsInput(limit=200))
    assert all(line.ts <= synthetic.spec.now for line in recent.lines)


def test_contains_is_case_insensitive_and_regex_is_not(backend: ReplayBackend) -> None:
    loud = search_logs(backend, SearchLogsInput(contains="TIMEOUT ACQUIRING"))
    assert loud.matched == 21
    assert search_logs(backend, SearchLogsInput(regex="TIMEOUT ACQUIRING")).matched == 0
    assert search_logs(backend, SearchLogsInput(regex="(?i)TIMEOUT ACQUIRING")).matched == 21


def test_levels_and_services_filter(backend: ReplayBackend) -> None:
    warn = search_logs(backend, SearchLogsInput(levels=["warning"], last="10m", limit=200))
    assert warn.by_level == {"WARN": warn.matched}
    assert set(warn.by_service) == {"checkout"}
    unlevelled = search_logs(backend, SearchLogsInput(levels=[""], service="ca*", last="10m"))
    assert set(unlevelled.by_service) == {"cart"}
    both = search_logs(backend, SearchLogsInput(levels="ERROR,FATAL", service="payment,checkout"))
    assert set(both.by_level) == {"ERROR"}


def test_lines_are_redacted(backend: ReplayBackend) -> None:
    at = SECRETS_AT.isoformat()
    out = search_logs(backend, SearchLogsInput(start=at, end=at, levels=["WARN"]))
    text = " ".join(line.message for line in out.lines)
    assert len(out.lines) == 4
    for secret in ("sk_live", "hunter2", "4111", "jane.doe", "AKIA"):
        assert secret not in text
    for mask in ("<TOKEN>", "<REDACTED>", "<CARD>", "<EMAIL>", "<AWS_KEY>"):
        assert mask in text
    assert out.redactions == 6


def test_messages_are_cut_to_max_chars(backend: ReplayBackend) -> None:
    out = search_logs(backend, SearchLogsInput(contains="Timeout", max_chars=40, limit=1))
    (line,) = out.lines
    assert line.message.startswith(NEW_ERROR[:40])
    assert line.message.endswith("chars]")


def test_the_match_count_is_a_lower_bound_past_the_scan_cap(
    backend: ReplayBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = search_logs(backend, SearchLogsInput(last="3h", limit=10))
    assert everything.matched < SCAN_CAP and not everything.matched_is_lower_bound
    monkeypatch.setattr(logs_module, "SCAN_CAP", 100)
    out = search_logs(backend, SearchLogsInput(last="3h", limit=10))
    assert out.matched == 100
    assert out.matched_is_lower_bound and out.truncated
    assert len(out.lines) == 10


@pytest.mark.parametrize(
    ("regex", "words"),
    [("a(b", "not a valid regular expression"), ("(?<=x)y", "look-arounds"), (r"(a)\1", "back")],
)
def test_invalid_regex_is_a_clear_error(backend: ReplayBackend, regex: str, words: str) -> None:
    with pytest.raises(ToolInputError) as caught:
        run("search_logs", backend, {"regex": regex})
    assert caught.value.field == "regex"
    assert words in str(caught.value)


def test_regex_the_store_rejects_is_still_an_input_error(backend: ReplayBackend) -> None:
    # Python accepts possessive quantifiers; RE2 (DuckDB) does not.
    with pytest.raises(ToolInputError, match="'regex': the log store rejected it"):
        search_logs(backend, SearchLogsInput(regex="a*+b"))


def test_unknown_level_names_the_field(backend: ReplayBackend) -> None:
    with pytest.raises(ToolInputError) as caught:
        run("search_logs", backend, {"levels": ["LOUD"]})
    assert caught.value.field == "levels.0"
