"""The engine end to end on the synthetic shop: the planted payment fault comes first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.isolation.engine import (
    MAX_ALERT_AGE_S,
    MAX_CONFIDENCE,
    NO_SIGNAL_CAP,
    isolate,
    judge,
    shown,
)
from agent.isolation.evidence import Evidence, EvidenceKind, EvidenceQuery
from agent.isolation.models import Hypothesis
from agent.isolation.window import ASSUMED_LEADS_S
from evals.alert_intake import AlertLag, case_alerts
from tests.evals.conftest import REPLAY
from tests.support.synthetic import CULPRIT_CHANGE_ID, NEW_ERROR, SyntheticDataset
from tools.telemetry.backend import TelemetryError
from tools.telemetry.models import LogQuery, LogRecord, TemplateCounts
from tools.telemetry.replay.backend import ReplayBackend, ReplayDataset


def test_the_planted_fault_ranks_first_with_cited_evidence(
    synthetic: SyntheticDataset, backend: ReplayBackend
) -> None:
    (case,) = synthetic.open().cases()
    isolation = isolate(backend, case_alerts(case))
    top = isolation.top()
    assert top is not None and top.service == synthetic.spec.fault_service
    assert isolation.verdict == "conclusive" and top.confidence >= 0.5
    evidence = isolation.evidence_by_id()
    cited = [evidence[i] for i in top.evidence_ids]
    assert cited and all(top.service in (e.service, e.peer) for e in cited)
    assert {"metric", "log", "trace", "change"} <= {e.kind for e in cited}
    assert top.change_id is not None and CULPRIT_CHANGE_ID in evidence[top.change_id].summary
    assert top.fault_type == "bad-deploy"
    new_errors = [e for e in isolation.evidence if e.signal == "log_new_error"]
    assert [e.service for e in new_errors] == [top.service]
    assert NEW_ERROR.split()[0] in new_errors[0].query.args["template"]


def test_confidences_are_a_distribution_and_every_service_is_ranked(
    synthetic: SyntheticDataset, backend: ReplayBackend
) -> None:
    (case,) = synthetic.open().cases()
    isolation = isolate(backend, case_alerts(case))
    assert {h.service for h in isolation.hypotheses} == set(backend.services())
    assert 0.98 <= sum(h.confidence for h in isolation.hypotheses) <= 1.0 + 1e-6
    backed = [h for h in isolation.hypotheses if h.evidence_ids]
    assert isolation.hypotheses[: len(backed)] == backed  # suspects with evidence lead
    scores = [h.score for h in backed]
    assert scores == sorted(scores, reverse=True)


class _LogsDown(ReplayBackend):
    """The replay store whose log store fails, as a SIEM outage would."""

    def _logs(self, query: LogQuery) -> list[LogRecord]:
        raise TelemetryError("logs store timed out")

    def _log_template_counts(self, *args: object, **kwargs: object) -> TemplateCounts:
        raise TelemetryError("logs store timed out")


def test_a_failing_log_store_leaves_the_other_signals_and_says_so(
    synthetic: SyntheticDataset, backend: ReplayBackend
) -> None:
    (case,) = synthetic.open().cases()
    degraded = _LogsDown(backend.dataset, backend.now)
    isolation = isolate(degraded, case_alerts(case))
    top = isolation.top()
    assert top is not None and top.service == synthetic.spec.fault_service
    assert not [e for e in isolation.evidence if e.kind == "log"]
    assert {"metric", "trace"} <= {e.kind for e in isolation.evidence}
    assert any("logs store timed out" in note for note in isolation.notes)


def test_evidence_is_worded_in_japanese_too(
    synthetic: SyntheticDataset, backend: ReplayBackend
) -> None:
    (case,) = synthetic.open().cases()
    isolation = isolate(backend, case_alerts(case))
    worded = [e for e in isolation.evidence if e.kind in {"metric", "log", "trace", "change"}]
    assert {"metric", "log", "trace", "change"} <= {e.kind for e in worded}
    for item in worded:
        assert item.summary_ja.endswith("。"), item
        assert item.service in item.summary_ja or (item.peer and item.peer in item.summary_ja)


def test_an_alert_ten_minutes_late_still_finds_the_fault_where_it_began(
    synthetic: SyntheticDataset,
) -> None:
    """Alerts fire late (`for: 10m`): the onset comes from the data, the alert only
    bounds it, and the culprit is the same."""
    (case,) = synthetic.open().cases()
    late = timedelta(minutes=10)
    alerts = [a.model_copy(update={"starts_at": a.starts_at + late}) for a in case_alerts(case)]
    isolation = isolate(synthetic.backend(synthetic.spec.now + late), alerts)
    top = isolation.top()
    assert top is not None and top.service == synthetic.spec.fault_service
    assert isolation.onset_from_data and isolation.onset is not None
    assert abs(isolation.onset - synthetic.spec.fault_start) <= timedelta(minutes=1)
    assert synthetic.spec.fault_service in isolation.service_onsets


def test_an_alert_that_began_long_ago_is_read_from_a_bounded_past_and_says_so(
    synthetic: SyntheticDataset, backend: ReplayBackend
) -> None:
    """An alert re-sent after 400 days of firing (or a sender's wrong clock) must not make
    the engine read 400 days of telemetry: it reads as if the alert began 6 h ago."""
    (case,) = synthetic.open().cases()
    old = timedelta(days=400)
    alerts = [a.model_copy(update={"starts_at": a.starts_at - old}) for a in case_alerts(case)]
    isolation = isolate(backend, alerts)
    assert isolation.baseline_start is not None and isolation.now is not None
    reach = isolation.now - isolation.baseline_start
    assert timedelta(seconds=MAX_ALERT_AGE_S) < reach <= timedelta(seconds=MAX_ALERT_AGE_S, hours=2)
    (note,) = [n for n in isolation.notes if "more than 6 h ago" in n]
    assert f"{alerts[0].starts_at:%Y-%m-%d}" in note


def test_confidence_is_never_certain_and_no_signal_names_no_one_with_confidence(
    synthetic: SyntheticDataset, backend: ReplayBackend
) -> None:
    (case,) = synthetic.open().cases()
    isolation = isolate(backend, case_alerts(case))
    assert max(h.confidence for h in isolation.hypotheses) <= MAX_CONFIDENCE
    quiet = isolate(synthetic.backend(synthetic.spec.fault_start - timedelta(minutes=30)), [])
    assert quiet.verdict == "no-signal"
    assert all(h.confidence <= NO_SIGNAL_CAP for h in quiet.hypotheses)
    # Nothing began: the fault may have begun anywhere in the search range, and it says so.
    (note,) = [n for n in quiet.notes if n.startswith("No onset stands out")]
    assert note.count(" UTC (") == len(ASSUMED_LEADS_S) and not quiet.onset_from_data


def _suspect(service: str, confidence: float, *evidence: str) -> Hypothesis:
    return Hypothesis(service=service, confidence=confidence, evidence_ids=list(evidence))


def _fact(id_: str, kind: EvidenceKind, service: str, strength: float) -> Evidence:
    query = EvidenceQuery(tool="t")
    return Evidence(id=id_, kind=kind, service=service, summary="s", query=query, strength=strength)


def test_a_close_call_or_signals_pointing_elsewhere_are_inconclusive() -> None:
    facts = [_fact("m1", "metric", "cart", 0.9), _fact("l1", "log", "cart", 0.8)]
    clear = [_suspect("cart", 0.8, "m1", "l1"), _suspect("redis", 0.1)]
    assert judge(clear, facts)[0] == "conclusive"
    close = [_suspect("cart", 0.5, "m1"), _suspect("redis", 0.4, "l1")]
    verdict, reason = judge(close, facts)
    assert verdict == "inconclusive" and "Too close to call" in reason
    elsewhere = [*facts, _fact("t1", "trace", "redis", 0.9)]
    verdict, reason = judge(clear, elsewhere)
    assert verdict == "inconclusive" and "trace evidence points at redis" in reason
    assert shown(1.0) == "99%"


@pytest.mark.dataset
@pytest.mark.skipif(
    not (REPLAY / "nezha-tt-dev").is_dir(), reason=f"no shared datasets at {REPLAY}"
)
def test_a_late_alert_after_faults_in_quick_succession_averages_over_the_onsets() -> None:
    """Five minutes late, the alert follows several faults (this dataset injects one
    every few minutes): the isolation says which onsets it weighed, every suspect cites
    evidence it carries, and the confidences still sum to one."""
    dataset = ReplayDataset.open(REPLAY / "nezha-tt-dev")
    for case in dataset.cases()[:8]:
        late = AlertLag.parse("300").apply(case)
        isolation = isolate(dataset.at(late.now), case_alerts(late))
        note = next((n for n in isolation.notes if n.startswith("Several onsets")), None)
        if note is not None:
            break
    assert note is not None, "no late case weighed several onsets"
    assert isolation.onset is not None and f"{isolation.onset:%H:%M} UTC" in note
    assert note.count("%") >= 2
    shown = isolation.evidence_by_id()
    assert all(i in shown for h in isolation.hypotheses for i in h.evidence_ids)
    assert sum(h.confidence for h in isolation.hypotheses) == pytest.approx(1.0, abs=0.02)
    confidences = [h.confidence for h in isolation.hypotheses if h.evidence_ids]
    assert confidences == sorted(confidences, reverse=True)
