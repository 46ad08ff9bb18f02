"""The Datadog store against the fake Datadog: each kind equals the replay files it was
loaded from, the guards hold (page cap, volume guard, rate limits, time budgets) and a
failing kind degrades the triage with a note."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from agent.alert.parse import parse_alert
from agent.isolation.engine import isolate
from tests.support.synthetic import SyntheticDataset
from tests.telemetry.conftest import datadog_config
from tests.telemetry.support.datadog import (
    APP_KEY,
    ENV,
    Estate,
    FakeDatadog,
    estate_from,
    fake_datadog,
)
from tools.telemetry.backend import TelemetryBackend, TelemetryError
from tools.telemetry.composite import CompositeBackend, load_topology
from tools.telemetry.config import DatadogConfig, TelemetryConfigError
from tools.telemetry.datadog.backend import DatadogBackend, DatadogStore
from tools.telemetry.datadog.client import configuration
from tools.telemetry.models import TimeWindow, to_epoch

TIMESERIES = "/api/v2/query/timeseries"


def backend_of(fake: FakeDatadog, synthetic: SyntheticDataset, **overrides: Any) -> DatadogBackend:
    return DatadogStore(datadog_config(fake.url, **overrides)).at(synthetic.spec.now)


@pytest.fixture(scope="module")
def replay(synthetic: SyntheticDataset) -> TelemetryBackend:
    return synthetic.backend()


@pytest.fixture(scope="module")
def estate(synthetic: SyntheticDataset, datadog_keys: None) -> Estate:
    return estate_from(synthetic.open())


def private(estate: Estate, **changes: Any) -> Iterator[FakeDatadog]:
    """A fake of this test's own (its state changed), over the same estate."""
    with fake_datadog(dataclasses.replace(estate, **changes)) as fake:
        yield fake


@pytest.fixture
def own(estate: Estate) -> Iterator[FakeDatadog]:
    yield from private(estate)


# -- metrics --------------------------------------------------------------------------


def test_series_equal_the_replay_store_s(
    datadog: FakeDatadog, synthetic: SyntheticDataset, replay: TelemetryBackend
) -> None:
    backend = backend_of(datadog, synthetic)
    window = TimeWindow.of(backend.now_s - 7200, backend.now_s)
    ours = {s.key: s for s in backend.metric_series(window)}
    theirs = {s.key: s for s in replay.metric_series(window)}
    assert ours.keys() == theirs.keys() and len(ours) == 71
    gaps = 0
    for key, series in ours.items():
        # Datadog stores no NaN: a replay gap is a missing point there.
        stored = ~np.isnan(theirs[key].values)
        gaps += int((~stored).sum())
        np.testing.assert_array_equal(series.ts, theirs[key].ts[stored])
        np.testing.assert_allclose(series.values, theirs[key].values[stored], rtol=1e-12)
    assert gaps == 2
    args = {"services": ["payment"], "metrics": ["cpu_usage_pct"], "instances": ["payment-1"]}
    assert [s.key.label() for s in backend.metric_series(window, **args)] == [
        "payment/payment-1:cpu_usage_pct"
    ]


def test_the_roll_up_follows_the_window_and_queries_are_batched(
    own: FakeDatadog, synthetic: SyntheticDataset
) -> None:
    backend = backend_of(own, synthetic, queries_per_request=2, max_points=100)
    hour = TimeWindow.of(backend.now_s - 3600, backend.now_s)
    day = TimeWindow.of(backend.now_s - 86400, backend.now_s)
    backend.metric_series(hour)
    backend.metric_series(day)
    sent = [body["data"]["attributes"] for _, path, body in own.requests if path == TIMESERIES]
    assert [len(a["queries"]) for a in sent] == [2, 2, 1, 2, 2, 1]  # 5 metrics, 2 a request
    assert {a["interval"] for a in sent[:3]} == {60_000}  # an hour: 60 points a series
    assert {a["interval"] for a in sent[3:]} == {1_200_000}  # a day in <= 100 points
    assert all(f"env:{ENV}" in q["query"] and " by {service,host,version}" in q["query"]
               for a in sent for q in a["queries"])  # fmt: skip


def test_version_tags_fill_the_key_and_a_new_version_is_a_deploy(
    estate: Estate, synthetic: SyntheticDataset
) -> None:
    """payment's metrics carry v1.4.2, then v1.5.0 from the deploy on; without the deploy
    event the version change alone says there was one."""
    deploy = next(c for c in synthetic.open().changes if c.id == "chg-0003")
    points = [
        (m, tags | ({"version": "v1.5.0" if ts >= to_epoch(deploy.ts) else "v1.4.2"}
                    if tags["service"] == "payment" else {}), ts, v)
        for m, tags, ts, v in estate.points
    ]  # fmt: skip
    events = [e for e in estate.events if e["id"] != deploy.id]
    for fake in private(estate, points=points, events=events):
        backend = backend_of(fake, synthetic)
        window = TimeWindow.of(backend.now_s - 3 * 3600, backend.now_s)
        keys = {s.key for s in backend.metric_series(window, services=["payment"])}
        assert {k.version for k in keys} == {"v1.4.2", "v1.5.0"}
        derived = [c for c in backend.changes(window) if c.service == "payment"]
        assert [(c.kind, c.from_version, c.to_version) for c in derived] == [
            ("deploy", "v1.4.2", "v1.5.0")
        ]
        assert abs(to_epoch(derived[0].ts) - to_epoch(deploy.ts)) <= 60
    for fake in private(estate, points=points):  # the event is there: no second deploy
        backend = backend_of(fake, synthetic)
        window = TimeWindow.of(backend.now_s - 3 * 3600, backend.now_s)
        assert [c.id for c in backend.changes(window) if c.service == "payment"] == [deploy.id]


# -- logs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"services": ["payment", "checkout"]},
        {"levels": ["ERROR", "WARN"]},
        {"contains": "TIMEOUT acquiring"},
        {"regex": r"order \d+ placed", "limit": 7},
    ],
)
def test_lines_equal_the_replay_store_s(
    datadog: FakeDatadog, synthetic: SyntheticDataset, replay: TelemetryBackend,
    query: dict[str, Any],
) -> None:  # fmt: skip
    backend = backend_of(datadog, synthetic)
    window = TimeWindow.of(backend.now_s - 3600, backend.now_s)
    args = {"limit": 1000} | query
    ours = backend.logs(window, **args)
    theirs = replay.logs(window, **args)
    seen = Counter((r.ts, r.service, r.instance, r.message, r.template, r.trace_id) for r in ours)
    assert seen == Counter(
        (r.ts, r.service, r.instance, r.message, r.template, r.trace_id) for r in theirs
    )
    assert len(ours) == min(args["limit"], len(theirs))


def test_template_counts_equal_the_replay_store_s_and_reuse_the_window(
    own: FakeDatadog, synthetic: SyntheticDataset, replay: TelemetryBackend
) -> None:
    backend = backend_of(own, synthetic)
    window = TimeWindow.of(backend.now_s - 3600, backend.now_s)

    def table(counts: Any) -> Counter[tuple[Any, ...]]:
        # Datadog gives a line without a level its default status, info.
        levels = [lv or "INFO" for lv in counts.level]
        rows = zip(counts.bucket_s, counts.service, levels, counts.template, strict=True)
        return Counter({row: int(n) for row, n in zip(rows, counts.count, strict=True)})

    assert table(backend.log_template_counts(window, 60.0)) == table(
        replay.log_template_counts(window, 60.0)
    )
    backend.logs(window, regex="Timeout", limit=100)  # the security scan's kind of search
    assert own.count("/api/v2/logs/events/search") == 1
    assert own.count("/api/v2/logs/analytics/aggregate") == 1


def test_the_page_cap_and_the_volume_guard(own: FakeDatadog, synthetic: SyntheticDataset) -> None:
    capped = backend_of(own, synthetic, logs={"page_size": 100, "max_pages": 2})
    window = TimeWindow.of(capped.now_s - 3600, capped.now_s)
    with pytest.raises(TelemetryError, match=r"more than 2 pages of 100 lines"):
        capped.logs(window, limit=1000)
    assert own.count("/api/v2/logs/events/search") == 2
    guarded = backend_of(own, synthetic, logs={"max_lines": 100})
    with pytest.raises(TelemetryError, match=r"\d+ lines in the window, more than .*max_lines"):
        guarded.log_template_counts(window, 60.0)
    assert own.count("/api/v2/logs/events/search") == 2  # refused before reading a page


# -- APM, topology, changes -----------------------------------------------------------


def _stats(stats: Any) -> dict[tuple[Any, ...], tuple[float, ...]]:
    return {
        (b, s, o, p): (c, round(d, 6), e)
        for b, s, o, p, c, d, e in zip(stats.bucket_s, stats.service, stats.operation,
                                       stats.peer, stats.count, stats.duration_ms, stats.errors,
                                       strict=True)
    }  # fmt: skip


def test_span_stats_equal_the_replay_store_s(
    datadog: FakeDatadog, synthetic: SyntheticDataset, replay: TelemetryBackend
) -> None:
    backend = backend_of(datadog, synthetic)
    window = TimeWindow.of(backend.now_s - 3600, backend.now_s)
    ours, theirs = backend.span_stats(window, 60.0), replay.span_stats(window, 60.0)
    assert _stats(ours) == _stats(theirs)
    np.testing.assert_allclose(np.sort(ours.self_ms), np.sort(theirs.self_ms))
    assert len(backend.spans(window, services=["payment"])) == len(
        replay.spans(window, services=["payment"])
    )


def test_past_max_spans_datadog_sums_them(
    own: FakeDatadog, synthetic: SyntheticDataset, replay: TelemetryBackend
) -> None:
    backend = backend_of(own, synthetic, apm={"max_spans": 10})
    window = TimeWindow.of(backend.now_s - 1800, backend.now_s - 60)
    ours, theirs = backend.span_stats(window, 60.0), replay.span_stats(window, 60.0)
    assert own.count("/api/v2/spans/events/search") == 0

    def per_operation(stats: Any) -> Counter[tuple[Any, ...]]:
        out: Counter[tuple[Any, ...]] = Counter()
        for b, s, o, c, e in zip(stats.bucket_s, stats.service, stats.operation, stats.count,
                                 stats.errors, strict=True):  # fmt: skip
            out[(b, s, o, "n")] += int(c)
            out[(b, s, o, "errors")] += int(e)
        return out

    assert per_operation(ours) == per_operation(theirs)
    with pytest.raises(TelemetryError, match=r"more than datadog\.apm\.max_spans"):
        backend.spans(window)


def test_the_service_map_is_the_declared_call_graph(
    datadog: FakeDatadog, synthetic: SyntheticDataset
) -> None:
    backend = backend_of(datadog, synthetic)
    declared = load_topology(synthetic.root / "topology.json")
    assert {s.name: s.depends_on for s in backend.topology().services} == {
        s.name: sorted(s.depends_on) for s in declared.services
    }
    assert backend.services() == sorted(s.name for s in declared.services)


def test_changes_equal_the_replay_store_s(
    datadog: FakeDatadog, synthetic: SyntheticDataset, replay: TelemetryBackend
) -> None:
    backend = backend_of(datadog, synthetic)
    window = TimeWindow.of(backend.now_s - 4 * 3600, backend.now_s)
    fields = ("id", "ts", "service", "kind", "summary", "from_version", "to_version")
    assert [c.model_dump(include=set(fields)) for c in backend.changes(window)] == [
        c.model_dump(include=set(fields)) for c in replay.changes(window)
    ]


# -- Cloud SIEM -----------------------------------------------------------------------


def _signal(
    sid: str, at: float, service: str, severity: str, state: str = "open"
) -> dict[str, Any]:
    return {
        "id": sid, "ts": at, "tags": [f"service:{service}", f"env:{ENV}", "source:cloudtrail"],
        "message": "Credential stuffing attack on login",
        "attributes": {"status": severity, "title": "Credential stuffing attack",
                       "workflow": {"rule": {"id": "r1", "name": "Credential stuffing"},
                                    "first_seen": int(at * 1000), "triage": {"state": state}}},
    }  # fmt: skip


def test_siem_signals_become_security_evidence(estate: Estate, synthetic: SyntheticDataset) -> None:
    now = to_epoch(synthetic.spec.now)
    signals = [
        _signal("sig-high", now - 120, "checkout", "high"),
        _signal("sig-low", now - 100, "payment", "low"),  # below min_severity
        _signal("sig-archived", now - 90, "cart", "critical", state="archived"),
        _signal("sig-old", now - 3000, "catalog", "high"),  # long before the onset
    ]
    for fake in private(estate, signals=signals):
        backend = backend_of(fake, synthetic)
        window = TimeWindow.of(now - 3600, now)
        assert [s.id for s in backend.security_signals(window)] == ["sig-old", "sig-high"]
        case = synthetic.open().cases()[0]
        isolation = isolate(backend, parse_alert(case.alert.payload, case.alert.source))
        siem = [e for e in isolation.evidence if e.signal == "security_siem"]
        assert [(e.service, e.query.tool, e.query.args["id"]) for e in siem] == [
            ("checkout", "security_signals", "sig-high")
        ]
        assert "Credential stuffing" in siem[0].summary


# -- failures -------------------------------------------------------------------------


def test_a_429_waits_for_the_reset_then_reads(
    own: FakeDatadog, synthetic: SyntheticDataset
) -> None:
    backend = backend_of(own, synthetic)
    own.throttled, own.reset_s = 1, 1
    started = time.monotonic()
    assert backend.topology().services
    assert time.monotonic() - started >= 1.0
    assert own.count("/api/v1/service_dependencies") == 2


def test_a_reset_beyond_max_wait_fails_at_once(
    own: FakeDatadog, synthetic: SyntheticDataset
) -> None:
    backend = backend_of(own, synthetic, max_wait_s=5)
    own.throttled, own.reset_s = 5, 3600
    with pytest.raises(TelemetryError, match=r"rate limited \(resets in 3600 s\)"):
        backend.topology()
    assert own.count("/api/v1/service_dependencies") == 1


def test_a_slow_site_is_a_telemetry_error(own: FakeDatadog, synthetic: SyntheticDataset) -> None:
    backend = backend_of(own, synthetic, timeout_s=0.3)
    own.delay_s = 1.0
    with pytest.raises(TelemetryError, match="unreachable or too slow"):
        backend.topology()


def test_a_kind_that_fails_is_left_out_and_named(
    own: FakeDatadog, synthetic: SyntheticDataset
) -> None:
    """The application key lacks logs_read_data: logs are left out, the rest counts."""
    own.scopes = {APP_KEY: frozenset({"timeseries_query", "metrics_read", "apm_read",
                                      "events_read"})}  # fmt: skip
    backend = backend_of(own, synthetic, siem=None)
    topology = load_topology(synthetic.root / "topology.json")
    composite = CompositeBackend(backend.now, dict.fromkeys(backend.kinds(), backend), topology)
    case = synthetic.open().cases()[0]
    isolation = isolate(composite, parse_alert(case.alert.payload, case.alert.source))
    assert isolation.notes == [
        "logs unavailable: Datadog aggregate_logs: forbidden: the application key lacks scope"
        " logs_read_data (or is not valid)"
    ]
    assert isolation.hypotheses[0].service == "payment"
    assert not [e for e in isolation.evidence if e.kind == "log"]


def test_a_siem_that_cannot_be_read_is_a_note_and_the_logs_still_count(
    own: FakeDatadog, synthetic: SyntheticDataset
) -> None:
    """The application key lacks security_monitoring_signals_read: the triage says the
    SIEM was not read (a responder must not take silence for "no signals"), and the
    log, metric and trace evidence is all there."""
    own.scopes = {APP_KEY: frozenset({"timeseries_query", "metrics_read", "apm_read",
                                      "events_read", "logs_read_data"})}  # fmt: skip
    backend = backend_of(own, synthetic)
    case = synthetic.open().cases()[0]
    isolation = isolate(backend, parse_alert(case.alert.payload, case.alert.source))
    assert [n for n in isolation.notes if n.startswith("siem unavailable: ")] == [
        "siem unavailable: Datadog search_security_monitoring_signals: forbidden: the"
        " application key lacks scope security_monitoring_signals_read (or is not valid)"
    ]
    assert isolation.hypotheses[0].service == "payment"
    assert {e.kind for e in isolation.evidence} >= {"metric", "log"}


# -- the site and keys ----------------------------------------------------------------


def test_the_site_comes_from_the_config_or_dd_site(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DD_SITE", "ap1.datadoghq.com")
    assert configuration(DatadogConfig()).host == "https://api.ap1.datadoghq.com"
    assert configuration(DatadogConfig(site="datadoghq.eu")).host == "https://api.datadoghq.eu"
    monkeypatch.setenv("DD_SITE", "datadog.example.com")
    with pytest.raises(TelemetryConfigError, match=r"DD_SITE=datadog\.example\.com: not a Datadog"):
        configuration(DatadogConfig())
    with pytest.raises(ValueError, match="not a Datadog site"):
        DatadogConfig(site="ap9.datadoghq.com")
    with pytest.raises(ValueError, match="the APM service map is read per env"):
        DatadogConfig.model_validate({"apm": {}})
    monkeypatch.delenv("DD_SITE")
    monkeypatch.setenv("SHOP_DD_KEY", "k1")
    config = DatadogConfig(api_key_env="SHOP_DD_KEY")
    assert configuration(config).api_key["apiKeyAuth"] == "k1"


def test_a_missing_key_fails_before_a_request(
    own: FakeDatadog, synthetic: SyntheticDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DD_APP_KEY")
    with pytest.raises(TelemetryError, match="no key in DD_APP_KEY"):
        backend_of(own, synthetic).topology()
    assert own.requests == []
