"""How security findings and traffic surges become Evidence: stable ids, a
replayable query, one redacted human sentence; and where a surge enters the
estate (an entry service, a neighbour, never a datastore its callers hammer)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import numpy as np
import pytest

from agent.isolation.evidence import Evidence, EvidenceQuery
from agent.isolation.signals.security import (
    COMBINED,
    LIMIT,
    QUERIES,
    _lines,
    search_lines,
    security_evidence,
    security_findings,
)
from agent.isolation.signals.surge import FULL_RATIO, SURGE_RATIO, surge_evidence, traffic_ratios
from tools.analysis.security import SecurityFinding, is_auth_failure
from tools.analysis.split import Split
from tools.telemetry.backend import TelemetryBackend, TelemetryKind, empty_span_frame
from tools.telemetry.models import (
    Change,
    LogQuery,
    LogRecord,
    Series,
    SeriesKey,
    ServiceNode,
    SpanFrame,
    TemplateCounts,
    TimeWindow,
    Topology,
    from_epoch,
    to_epoch,
)

ALERT = 1_800_000_000.0
SPLIT = Split.around(alert_s=ALERT, now_s=ALERT + 180.0)


def finding(
    signal: str = "security_auth_failures",
    service: str = "auth",
    subject: str = "74 addresses",
    summary: str = "auth logged 75 failed logins in 3 minutes from 74 addresses.",
) -> SecurityFinding:
    return SecurityFinding(
        service=service,
        signal=signal,
        z=12.5,
        strength=0.8,
        current=75.0,
        expected=19.2,
        summary=summary,
        subject=subject,
        since_s=ALERT - 300.0,
    )


# -- security findings as evidence ------------------------------------------------------


def test_a_finding_becomes_log_evidence_on_the_service_that_logged_it() -> None:
    (item,) = security_evidence([finding()], SPLIT)
    assert item.kind == "log" and item.service == "auth"
    assert item.signal == "security_auth_failures"
    assert item.strength == 0.8
    assert item.values == {"z": 12.5, "current": 75.0, "expected": 19.2}
    assert item.summary == "auth logged 75 failed logins in 3 minutes from 74 addresses."
    assert item.id.startswith("ev-log-")


def test_the_query_searches_the_window_for_what_the_detector_reads() -> None:
    (item,) = security_evidence([finding()], SPLIT)
    assert item.query.tool == "search_logs"
    args = item.query.args
    assert args["service"] == "auth"
    assert args["regex"] == QUERIES["auth"]
    assert args["start"] == "2027-01-15T07:03:00Z"
    assert args["end"] == "2027-01-15T08:03:00Z"
    assert datetime.fromisoformat(args["start"]).timestamp() == SPLIT.start_s
    assert datetime.fromisoformat(args["end"]).timestamp() == SPLIT.now_s


@pytest.mark.parametrize(
    ("signal", "query"),
    [
        ("security_auth_failures", "auth"),
        ("security_web_attack", "web"),
        ("security_new_network", "audit"),
        ("security_rare_api", "audit"),
        ("security_denied_api", "audit"),
        ("security_exfiltration", "audit"),
    ],
)
def test_each_signal_replays_with_its_own_search(signal: str, query: str) -> None:
    (item,) = security_evidence([finding(signal=signal)], SPLIT)
    assert item.query.args["regex"] == QUERIES[query]


def test_ids_are_stable_across_runs_and_distinct_per_subject() -> None:
    first = security_evidence([finding()], SPLIT)[0].id
    again = security_evidence([finding(summary="worded differently")], SPLIT)[0].id
    assert first == again, "the id names the query and subject, not the wording"
    others = {
        security_evidence([finding(subject="12 addresses")], SPLIT)[0].id,
        security_evidence([finding(signal="security_web_attack")], SPLIT)[0].id,
        security_evidence([finding(service="api-gateway")], SPLIT)[0].id,
        security_evidence([finding()], replace(SPLIT, now_s=SPLIT.now_s + 60.0))[0].id,
    }
    assert first not in others and len(others) == 4


def test_the_id_is_the_documented_digest_of_kind_query_and_subject() -> None:
    (item,) = security_evidence([finding()], SPLIT)
    subject = "auth|security_auth_failures|74 addresses"
    assert item.id == Evidence.make_id("log", item.query, subject)


def test_secrets_and_personal_data_in_a_summary_are_masked() -> None:
    said = (
        "user/ci made 6 calls with key AKIA4QZ7EXAMPLE7Q3LM for bob@example.com"
        " password=hunter2 from 185.220.101.7."
    )
    (item,) = security_evidence([finding(signal="security_new_network", summary=said)], SPLIT)
    assert "AKIA4QZ7EXAMPLE7Q3LM" not in item.summary and "<AWS_KEY>" in item.summary
    assert "bob@example.com" not in item.summary and "<EMAIL>" in item.summary
    assert "hunter2" not in item.summary
    assert "185.220.101.7" in item.summary, "addresses help triage and stay"


def test_no_findings_no_evidence() -> None:
    assert security_evidence([], SPLIT) == []


# -- the detectors over a store ------------------------------------------------------------


class LogStore(TelemetryBackend):
    """Only logs, searched with Python's regex; newest first, like every backend."""

    name = "lines"

    def __init__(self, records: Sequence[LogRecord], now_s: float = SPLIT.now_s) -> None:
        super().__init__(from_epoch(now_s))
        self.records = sorted(records, key=lambda r: r.ts, reverse=True)
        self.searches: list[str | None] = []

    def kinds(self) -> set[TelemetryKind]:
        return {"logs"}

    def services(self) -> list[str]:
        return sorted({r.service for r in self.records})

    def _metric_series(
        self,
        window: TimeWindow,
        services: Sequence[str] | None,
        metrics: Sequence[str] | None,
        instances: Sequence[str] | None,
    ) -> list[Series]:
        return []

    def _metric_keys(self, window: TimeWindow) -> list[SeriesKey]:
        return []

    def _logs(self, query: LogQuery) -> list[LogRecord]:
        self.searches.append(query.regex)
        pattern = re.compile(query.regex) if query.regex else None
        window = query.window
        found = [
            r
            for r in self.records
            if window.start_s <= to_epoch(r.ts) <= window.end_s
            and (pattern is None or pattern.search(r.message))
        ]
        return found[: query.limit]

    def _log_template_counts(
        self,
        window: TimeWindow,
        bucket_s: float,
        services: Sequence[str] | None,
        levels: Sequence[str] | None,
    ) -> TemplateCounts:
        raise NotImplementedError

    def _spans(self, window: TimeWindow, services: Sequence[str] | None) -> SpanFrame:
        return empty_span_frame()

    def _changes(self, window: TimeWindow) -> list[Change]:
        return []

    def topology(self) -> Topology:
        return Topology()


def log(ts: float, service: str, message: str) -> LogRecord:
    return LogRecord(ts=from_epoch(ts), service=service, message=message)


def shop_logs() -> list[LogRecord]:
    """An hour of ordinary lines, a trickle of mistyped passwords, then stuffing."""
    records = [
        log(t, "checkout", f"order {int(t)} placed total=4200")
        for t in np.arange(SPLIT.start_s, SPLIT.now_s, 10.0)
    ]
    records += [
        log(t, "auth", f"login failed user=c{int(t)}@example.com ip=126.1.{int(t) % 200}.9")
        for t in np.arange(SPLIT.start_s, SPLIT.now_s, 300.0)
    ]
    records += [
        log(t, "auth", f"login failed user=u{i}@example.com ip=45.155.205.{i % 250 + 1}")
        for i, t in enumerate(np.arange(ALERT - 300.0, SPLIT.now_s, 1.0))
    ]
    return records


def test_one_search_feeds_every_detector() -> None:
    store = LogStore(shop_logs())
    found = security_findings(search_lines(store, SPLIT.window), SPLIT)
    assert store.searches == [COMBINED]
    assert [(f.service, f.signal) for f in found] == [("auth", "security_auth_failures")]
    (item,) = security_evidence(found, SPLIT)
    assert "failed logins" in item.summary and item.strength > 0.5


def test_the_combined_search_keeps_only_lines_a_detector_can_use() -> None:
    pattern = re.compile(COMBINED)
    wanted = [
        "login failed user=a@example.com ip=45.155.205.1",
        '1.2.3.4 - - [x] "POST /login HTTP/1.1" 401 61 "-" "curl"',
        '{"eventName": "ListUsers", "sourceIPAddress": "185.220.101.7"}',
        '1.2.3.4 - - [x] "GET /search?q=1%27+OR+1=1-- HTTP/1.1" 200 61 "-" "curl"',
        '1.2.3.4 - - [x] "GET /../../etc/passwd HTTP/1.1" 404 61 "-" "curl"',
        "owner bucket [x] 1.2.3.4 arn requester REST.GET.OBJECT key",
    ]
    unwanted = [
        "order 42 placed total=4200",
        '1.2.3.4 - - [x] "GET /products/42 HTTP/1.1" 200 61 "-" "curl"',
        "login ok user_id=42",
    ]
    assert all(pattern.search(m) for m in wanted)
    assert not any(pattern.search(m) for m in unwanted)
    assert is_auth_failure(wanted[0]) and is_auth_failure(wanted[1])


def test_a_search_cut_at_its_limit_reads_oldest_first_from_where_coverage_starts() -> None:
    """At the limit the store kept the newest lines; failures before the oldest
    kept are unknown, not absent, so a steady trickle must not look like a burst."""
    steady = [
        log(t, "auth", f"login failed user=u{i}@x.jp ip=45.{i % 200}.{i % 101}.1")
        for i, t in enumerate(np.arange(SPLIT.start_s, SPLIT.now_s, 1 / 6))
    ]
    assert len(steady) > LIMIT
    store = LogStore(steady)
    lines, first = _lines(store, SPLIT.window, COMBINED)
    assert len(lines) == LIMIT
    assert [ln.ts for ln in lines] == sorted(ln.ts for ln in lines)
    assert first == lines[0].ts == pytest.approx(to_epoch(steady[-LIMIT].ts))
    assert security_findings(search_lines(store, SPLIT.window), SPLIT) == []
    whole, none = _lines(LogStore(steady[-100:]), SPLIT.window, COMBINED)
    assert len(whole) == 100 and none is None


# -- traffic surges -------------------------------------------------------------------------


def traffic(
    service: str,
    ratio: float,
    *,
    instance: str = "",
    peer: str = "",
    strength: float = 0.5,
    baseline: float = 100.0,
    z: float = 40.0,
) -> Evidence:
    query = EvidenceQuery(
        tool="summarize_metric",
        args={"service": peer or service, "metric": "requests_per_s", "instance": instance},
    )
    return Evidence(
        id=Evidence.make_id("metric", query, f"{service}|traffic|{instance}"),
        kind="metric",
        service=service,
        instance=instance,
        summary=f"requests_per_s of {service} rose",
        query=query,
        strength=strength,
        signal="traffic",
        peer=peer,
        values={"current": baseline * ratio, "baseline": baseline, "z": z},
    )


SHOP = Topology(
    services=[
        ServiceNode(name="web-frontend", depends_on=["api-gateway"]),
        ServiceNode(name="api-gateway", depends_on=["auth", "checkout", "search"]),
        ServiceNode(name="auth", depends_on=["orders-db"]),
        ServiceNode(name="checkout", depends_on=["orders-db", "payment"]),
        ServiceNode(name="search"),
        ServiceNode(name="payment"),
        ServiceNode(name="orders-db", kind="database"),
    ]
)


def test_traffic_ratios_read_each_services_own_rise() -> None:
    evidence = [
        traffic("checkout", 3.0),
        traffic("checkout", 9.0, instance="checkout-1"),  # the service-level series wins
        traffic("payment", 2.0, instance="payment-0"),
        traffic("payment", 4.0, instance="payment-1"),
        traffic("payment", 5.0, instance="payment-2"),  # else the median of its pods
        traffic("search", 0.5),  # a fall is not a surge
        traffic("auth", 6.0, peer="api-gateway"),  # a caller's view is not auth's own
        traffic("orders-db", 3.0, baseline=0.0),  # nothing before: no ratio
    ]
    assert traffic_ratios(evidence) == {"checkout": 3.0, "payment": 4.0}


def test_traffic_ratios_ignore_other_signals_and_kinds() -> None:
    cpu = traffic("auth", 3.0).model_copy(update={"signal": "cpu"})
    as_log = traffic("auth", 3.0).model_copy(update={"kind": "log"})
    assert traffic_ratios([cpu, as_log]) == {}


def test_a_surge_enters_at_the_service_nobody_calls() -> None:
    evidence = [
        traffic("web-frontend", 4.0, strength=0.9),
        traffic("web-frontend", 4.0, instance="web-frontend-0", strength=0.4),
        traffic("api-gateway", 4.0),
        traffic("checkout", 3.5),
        traffic("orders-db", 3.0),
    ]
    (surge,) = surge_evidence(evidence, SHOP)
    assert surge.service == "web-frontend" and surge.signal == "surge"
    assert surge.kind == "metric"
    assert surge.values == {"ratio": 4.0, "entering": 4.0, "upstream": 1.0}
    assert surge.strength == pytest.approx(1.0)
    assert "nothing calls it" in surge.summary and "(api-gateway)" in surge.summary
    assert surge.query == evidence[0].query, "the strongest traffic series is the query"
    assert surge.id == Evidence.make_id("metric", evidence[0].query, "web-frontend|surge")
    assert surge.id not in {e.id for e in evidence}


def test_a_surge_entering_at_a_neighbour_is_placed_there_not_at_its_caller() -> None:
    """The gateway took twice its traffic while the frontend barely moved: an app
    release retrying without backoff calls the gateway directly."""
    evidence = [
        traffic("web-frontend", 1.2),
        traffic("api-gateway", 2.4),
        traffic("auth", 2.4),
        traffic("checkout", 1.1),
    ]
    (surge,) = surge_evidence(evidence, SHOP)
    assert surge.service == "api-gateway"
    assert surge.values["upstream"] == pytest.approx(1.2)
    assert surge.values["entering"] == pytest.approx(2.0)
    assert surge.strength == pytest.approx(0.5)
    assert "its callers' traffic rose at most 1.2x" in surge.summary
    assert "1 service(s) it calls are busier too (auth)" in surge.summary


def test_load_passed_down_from_a_busier_caller_is_not_an_entry() -> None:
    evidence = [traffic("api-gateway", 3.0), traffic("checkout", 3.0), traffic("payment", 3.0)]
    assert [e.service for e in surge_evidence(evidence, SHOP)] == ["api-gateway"]


def test_a_datastore_hammered_by_its_callers_is_not_where_a_surge_enters() -> None:
    """orders-db sees five times its queries (cache misses, retries) while its
    callers' traffic is flat; it calls nothing, so nothing it passes on."""
    evidence = [traffic("orders-db", 5.0), traffic("checkout", 1.0), traffic("auth", 1.0)]
    assert surge_evidence(evidence, SHOP) == []


def test_a_rise_that_reaches_nothing_behind_it_is_not_a_surge() -> None:
    assert surge_evidence([traffic("api-gateway", 4.0)], SHOP) == []
    below = [traffic("api-gateway", 4.0), traffic("search", SURGE_RATIO - 0.1)]
    assert surge_evidence(below, SHOP) == []


def test_a_rise_below_the_surge_ratio_is_not_a_surge() -> None:
    evidence = [
        traffic("web-frontend", SURGE_RATIO - 0.1),
        traffic("api-gateway", 3.0),
        traffic("checkout", 3.0),
    ]
    assert [e.service for e in surge_evidence(evidence, SHOP)] == ["api-gateway"]


def test_surge_strength_grows_with_the_entering_ratio_up_to_full() -> None:
    def strength(ratio: float) -> float:
        evidence = [traffic("web-frontend", ratio), traffic("api-gateway", ratio)]
        return surge_evidence(evidence, SHOP)[0].strength

    assert strength(2.0) == pytest.approx(0.5)
    assert strength(2.0) < strength(3.0) < strength(FULL_RATIO) == pytest.approx(1.0)
    assert strength(FULL_RATIO * 3) == 1.0


def test_a_handful_of_requests_become_six_is_no_surge_at_full_strength() -> None:
    """A function that sees one request in five minutes sees six: a ratio of 6 whose
    rise barely stands out (z 3.4) is weak evidence of a surge, not a decision."""
    quiet = [
        traffic("web-frontend", 1.0, baseline=1.0, z=0.0),
        traffic("api-gateway", 6.0, baseline=1.0, z=3.4),
        traffic("auth", 6.0, baseline=1.0, z=3.4),
    ]
    (surge,) = surge_evidence(quiet, SHOP)
    assert surge.strength == pytest.approx(0.34)


def test_surge_ids_are_stable() -> None:
    evidence = [traffic("web-frontend", 3.0), traffic("api-gateway", 3.0)]
    assert surge_evidence(evidence, SHOP)[0].id == surge_evidence(list(evidence), SHOP)[0].id
