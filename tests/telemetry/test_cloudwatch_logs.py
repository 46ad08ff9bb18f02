"""CloudWatch Logs: the FilterLogEvents path against moto, Logs Insights with Stubber.

moto serves FilterLogEvents for real (plain terms), so that path is compared
line for line with the replay store. Logs Insights queries are checked with
botocore's Stubber and the response shapes AWS documents for StartQuery and
GetQueryResults: the query text we build, the polling, the byte cap and the
parsing of rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from botocore.stub import ANY, Stubber

from tests.telemetry.conftest import REGION, Shifted, cloudwatch_config
from tools.telemetry.backend import TelemetryError
from tools.telemetry.cloudwatch.backend import CloudWatchStore
from tools.telemetry.cloudwatch.clients import AwsClients
from tools.telemetry.cloudwatch.insights import (
    InsightsRunner,
    Limits,
    Query,
    literal_regex,
    parse_rows,
    parse_time,
)
from tools.telemetry.cloudwatch.logs import CloudWatchLogs, LineParser, LogGroup, plain_term
from tools.telemetry.config import AwsConfig, CloudWatchLogsConfig
from tools.telemetry.metering import QueryCounter
from tools.telemetry.models import LogQuery, TemplateCounts, TimeWindow, from_epoch

# -- FilterLogEvents against moto -----------------------------------------------------


@pytest.fixture(scope="module")
def live(loaded_moto: str, shifted: Shifted) -> tuple[Any, Any]:
    """(CloudWatch backend, replay backend) at the case's clock."""
    store = CloudWatchStore(cloudwatch_config(loaded_moto, query="filter"))
    now = shifted.case.now
    return store.at(now), shifted.dataset.at(now)


def window_of(backend: Any, minutes: float = 60) -> TimeWindow:
    return TimeWindow.of(backend.now_s - minutes * 60, backend.now_s)


def sorted_counts(counts: TemplateCounts) -> list[tuple[Any, ...]]:
    return sorted(
        zip(counts.bucket_s.tolist(), counts.service, counts.level, counts.template,
            counts.count.tolist(), strict=True)
    )  # fmt: skip


def test_template_counts_equal_the_replay_store_s(live: tuple[Any, Any]) -> None:
    cloudwatch, replay = live
    window = window_of(cloudwatch)
    for bucket in (1.0, 60.0):
        ours = cloudwatch.log_template_counts(window, bucket)
        theirs = replay.log_template_counts(window, bucket)
        assert sorted_counts(ours) == sorted_counts(theirs)
        assert len(ours.count) > 0


def test_filtered_counts_equal_the_replay_store_s(live: tuple[Any, Any]) -> None:
    cloudwatch, replay = live
    window = window_of(cloudwatch)
    args = {"services": ["payment", "checkout"], "levels": ["error", "WARN"]}
    ours = cloudwatch.log_template_counts(window, 60.0, **args)
    assert sorted_counts(ours) == sorted_counts(replay.log_template_counts(window, 60.0, **args))
    assert set(ours.service) == {"payment", "checkout"}


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"services": ["payment"], "limit": 7},
        {"levels": ["ERROR"], "contains": "acquiring connection"},
        {"contains": "TIMEOUT"},  # case-insensitive, as the replay store's
        {"regex": r"order \d+ placed", "limit": 5},
    ],
)
def test_lines_equal_the_replay_store_s(live: tuple[Any, Any], query: dict[str, Any]) -> None:
    cloudwatch, replay = live
    window = window_of(cloudwatch, 30)
    ours = cloudwatch.logs(window, **query)
    theirs = replay.logs(window, **query)
    assert ours and [r.ts for r in ours] == [r.ts for r in theirs]
    # Lines of the same instant come in any order (in both stores): compare all lines
    # newer than the oldest one returned, which a limit cannot cut.
    oldest = ours[-1].ts
    assert sorted(_line(r) for r in ours if r.ts > oldest) == sorted(
        _line(r) for r in theirs if r.ts > oldest
    )


def _line(record: Any) -> tuple[Any, ...]:
    return (record.ts, record.service, record.instance, record.level, record.message,
            record.template, record.trace_id)  # fmt: skip


def test_no_line_after_now_is_returned(live: tuple[Any, Any], shifted: Shifted) -> None:
    cloudwatch, _ = live
    reaching = TimeWindow.of(cloudwatch.now_s - 600, cloudwatch.now_s + 3600)
    assert cloudwatch.logs(reaching, contains="FUTURE_MARKER") == []
    later = CloudWatchStore(cloudwatch.store.config).at(shifted.case.now + timedelta(minutes=10))
    assert later.logs(reaching, contains="FUTURE_MARKER")


def test_log_groups_name_the_services(live: tuple[Any, Any]) -> None:
    cloudwatch, _ = live
    assert cloudwatch.store.logs.services(cloudwatch.now_s) == {
        "frontend", "checkout", "payment", "cart", "catalog"
    }  # fmt: skip


def test_too_many_lines_stop_the_filter_path(loaded_moto: str, shifted: Shifted) -> None:
    config = cloudwatch_config(loaded_moto, query="filter")
    assert config.logs is not None
    capped = config.model_copy(update={"logs": config.logs.model_copy(update={"max_events": 10})})
    backend = CloudWatchStore(capped).at(shifted.case.now)
    with pytest.raises(TelemetryError, match="max_events"):
        backend.log_template_counts(window_of(backend), 1.0)


# -- Logs Insights with Stubber -------------------------------------------------------

NOW_S = 1_700_000_000.0


def insights_config(**extra: Any) -> CloudWatchLogsConfig:
    return CloudWatchLogsConfig.model_validate(
        {"groups": [{"prefix": "/ecs/"}, {"name": "/shared/app", "service_field": "svc"}],
         "poll_s": 0.001, "timeout_s": 5, **extra}
    )  # fmt: skip


@pytest.fixture
def stubbed(aws_env: None) -> Iterator[tuple[CloudWatchLogs, Stubber]]:
    clients = AwsClients(_aws(), QueryCounter())
    logs = CloudWatchLogs(clients, insights_config())
    with Stubber(clients.client("logs")) as stub:
        yield logs, stub


def describe(stub: Stubber, names: list[str]) -> None:
    stub.add_response(
        "describe_log_groups",
        {"logGroups": [{"logGroupName": n} for n in names]},
        {"logGroupNamePrefix": "/ecs/"},
    )


def row(**fields: str) -> list[dict[str, str]]:
    return [{"field": k, "value": v} for k, v in fields.items()] + [
        {"field": "@ptr", "value": "CmAKJ..."}
    ]


def results(rows: list[list[dict[str, str]]], scanned: float = 1024.0) -> dict[str, Any]:
    return {
        "results": rows,
        "statistics": {"recordsMatched": float(len(rows)), "recordsScanned": 100.0,
                       "bytesScanned": scanned},
        "status": "Complete",
    }  # fmt: skip


def running(scanned: float) -> dict[str, Any]:
    return {
        "results": [],
        "statistics": {"recordsMatched": 0.0, "recordsScanned": 10.0, "bytesScanned": scanned},
        "status": "Running",
    }


def test_lines_through_insights(stubbed: tuple[CloudWatchLogs, Stubber]) -> None:
    logs, stub = stubbed
    logs.config = logs.config.model_copy(update={"groups": logs.config.groups[:1]})
    describe(stub, ["/ecs/payment", "/ecs/cart"])
    window = TimeWindow.of(NOW_S - 600, NOW_S)
    expected = {
        "logGroupNames": ["/ecs/cart", "/ecs/payment"],
        "startTime": int(NOW_S - 600),
        "endTime": int(NOW_S),
        "queryString": (
            "fields @timestamp, @message, @logStream, @log\n"
            '| filter toupper(level) in ["ERROR"]\n'
            "| filter (message like /(?i)pool timeout/ or @message like /(?i)pool timeout/)\n"
            "| sort @timestamp desc\n| limit 20"
        ),
        "limit": 20,
    }
    stub.add_response("start_query", {"queryId": "q-1"}, expected)
    stub.add_response("get_query_results", running(10.0), {"queryId": "q-1"})
    line = '{"level": "error", "message": "pool timeout after 5000 ms", "instance": "payment-1"}'
    stub.add_response(
        "get_query_results",
        results([
            row(**{"@timestamp": "2023-11-14 22:13:10.250", "@message": line,
                   "@logStream": "ecs/payment/abc", "@log": "123456789012:/ecs/payment"}),
        ]),
        {"queryId": "q-1"},
    )  # fmt: skip
    found = logs.records(
        LogQuery(window=window, levels=("ERROR",), contains="pool timeout", limit=20)
    )
    stub.assert_no_pending_responses()
    assert len(found) == 1
    record = found[0]
    assert (record.service, record.instance, record.level) == ("payment", "payment-1", "ERROR")
    assert record.template == "pool timeout after <N> ms"
    assert record.ts == from_epoch(parse_time("2023-11-14 22:13:10.250"))
    assert logs.clients.counter.usage().bytes_scanned == 1024


def test_template_counts_through_insights(stubbed: tuple[CloudWatchLogs, Stubber]) -> None:
    logs, stub = stubbed
    describe(stub, ["/ecs/payment"])
    window = TimeWindow.of(NOW_S - 120, NOW_S)
    for members, query_id, rows in (
        (["/ecs/payment"], "q-static", [
            row(**{"bin(1s)": "2023-11-14 22:12:00.000", "@log": "1:/ecs/payment", "n": "3",
                   "@message": '{"level": "INFO", "message": "charged order 17"}'}),
            row(**{"bin(1s)": "2023-11-14 22:12:00.000", "@log": "1:/ecs/payment", "n": "2",
                   "@message": '{"level": "INFO", "message": "charged order 18"}'}),
        ]),
        (["/shared/app"], "q-field", [
            row(**{"bin(1s)": "2023-11-14 22:12:01.000", "@log": "1:/shared/app", "n": "4",
                   "@message": '{"svc": "cart", "level": "WARN", "message": "slow 12 ms"}'}),
        ]),
    ):  # fmt: skip
        stub.add_response(
            "start_query",
            {"queryId": query_id},
            {"logGroupNames": members, "startTime": ANY, "endTime": ANY,
             "queryString": ANY, "limit": 10_000},
        )  # fmt: skip
        stub.add_response("get_query_results", results(rows), {"queryId": query_id})
    counts = logs.template_counts(window, 1.0, services=["payment", "cart"], levels=None)
    stub.assert_no_pending_responses()
    assert sorted_counts(counts) == [
        (parse_time("2023-11-14 22:12:00.000"), "payment", "INFO", "charged order <N>", 5),
        (parse_time("2023-11-14 22:12:01.000"), "cart", "WARN", "slow <N> ms", 4),
    ]


def test_the_count_query_text() -> None:
    query = Query(
        fields=("@timestamp", "@message", "@log"),
        filters=('svc in ["cart", "payment"]',),
        stats="count(*) as n by bin(1s), @log, @message",
        sort=None,
    )
    assert query.text() == (
        "fields @timestamp, @message, @log\n"
        '| filter svc in ["cart", "payment"]\n'
        "| stats count(*) as n by bin(1s), @log, @message\n"
        "| limit 10000"
    )
    assert literal_regex("a/b.c") == r"/(?i)a\/b\.c/"


def runner(client: Any, cap: int = 10_000, timeout: float = 60.0) -> InsightsRunner:
    ticks = iter(range(1_000_000))
    return InsightsRunner(
        client,
        Limits(max_bytes_scanned=cap, poll_s=1.0, timeout_s=timeout),
        QueryCounter(),
        sleep=lambda _: None,
        clock=lambda: float(next(ticks)),
    )


def test_a_query_past_the_byte_cap_is_stopped(aws_env: None) -> None:
    client = AwsClients(_aws()).client("logs")
    with Stubber(client) as stub:
        stub.add_response("start_query", {"queryId": "q-big"}, None)
        stub.add_response("get_query_results", running(5_000.0), {"queryId": "q-big"})
        stub.add_response("get_query_results", running(50_000.0), {"queryId": "q-big"})
        stub.add_response("stop_query", {"success": True}, {"queryId": "q-big"})
        with pytest.raises(TelemetryError, match=r"scanning 50000 bytes.*max_bytes_scanned"):
            runner(client).run(Query(), ["/ecs/payment"], NOW_S - 60, NOW_S)
        stub.assert_no_pending_responses()


def test_a_query_past_its_timeout_is_stopped(aws_env: None) -> None:
    client = AwsClients(_aws()).client("logs")
    with Stubber(client) as stub:
        stub.add_response("start_query", {"queryId": "q-slow"}, None)
        for _ in range(3):
            stub.add_response("get_query_results", running(1.0), {"queryId": "q-slow"})
        stub.add_response("stop_query", {"success": True}, {"queryId": "q-slow"})
        with pytest.raises(TelemetryError, match="timeout_s"):
            runner(client, timeout=2.5).run(Query(), ["/ecs/payment"], NOW_S - 60, NOW_S)
        stub.assert_no_pending_responses()


def test_a_failed_query_is_an_error(aws_env: None) -> None:
    client = AwsClients(_aws()).client("logs")
    with Stubber(client) as stub:
        stub.add_response("start_query", {"queryId": "q-bad"}, None)
        failed = running(1.0) | {"status": "Failed"}
        stub.add_response("get_query_results", failed, {"queryId": "q-bad"})
        with pytest.raises(TelemetryError, match="failed"):
            runner(client).run(Query(), ["/ecs/payment"], NOW_S - 60, NOW_S)


def test_more_than_50_groups_take_several_queries(aws_env: None) -> None:
    client = AwsClients(_aws()).client("logs")
    groups = [f"/ecs/s{i}" for i in range(120)]
    with Stubber(client) as stub:
        for i, size in enumerate((50, 50, 20)):
            stub.add_response(
                "start_query",
                {"queryId": f"q{i}"},
                {"logGroupNames": groups[i * 50 : i * 50 + size], "startTime": ANY,
                 "endTime": ANY, "queryString": ANY, "limit": ANY},
            )  # fmt: skip
            stub.add_response("get_query_results", results([]), {"queryId": f"q{i}"})
        assert runner(client).run(Query(), groups, NOW_S - 60, NOW_S) == []
        stub.assert_no_pending_responses()


def test_a_count_that_hits_the_row_cap_is_split(stubbed: tuple[CloudWatchLogs, Stubber]) -> None:
    logs, stub = stubbed
    describe(stub, ["/ecs/payment"])
    full = [
        row(**{"bin(1s)": "2023-11-14 22:12:00.000", "@log": "1:/ecs/payment", "n": "1",
               "@message": f'{{"level": "INFO", "message": "line {i}"}}'})
        for i in range(10_000)
    ]  # fmt: skip
    halves = [
        [row(**{"bin(1s)": "2023-11-14 22:10:00.000", "@log": "1:/ecs/payment", "n": "6",
                "@message": '{"level": "INFO", "message": "early 1"}'})],
        [row(**{"bin(1s)": "2023-11-14 22:12:00.000", "@log": "1:/ecs/payment", "n": "9",
                "@message": '{"level": "INFO", "message": "late 2"}'})],
    ]  # fmt: skip
    start, end = parse_time("2023-11-14 22:08:00"), parse_time("2023-11-14 22:13:00")
    middle = (start + end) // 2
    windows = [(start, end), (start, middle), (middle, end)]
    for i, (rows, (lo, hi)) in enumerate(zip([full, *halves], windows, strict=True)):
        stub.add_response(
            "start_query",
            {"queryId": f"q{i}"},
            {"logGroupNames": ["/ecs/payment"], "startTime": int(lo), "endTime": int(hi),
             "queryString": ANY, "limit": 10_000},
        )  # fmt: skip
        stub.add_response("get_query_results", results(rows), {"queryId": f"q{i}"})
    logs.config = logs.config.model_copy(update={"groups": logs.config.groups[:1]})
    counts = logs.template_counts(TimeWindow.of(start, end), 1.0, services=None, levels=None)
    stub.assert_no_pending_responses()
    assert counts.count.tolist() == [6, 9]


def test_rows_and_times_parse() -> None:
    assert parse_rows([row(a="1")]) == [{"a": "1"}]
    assert parse_time("2023-11-14 22:13:20.000") == 1_700_000_000.0
    assert parse_time("2023-11-14 22:13:20") == 1_700_000_000.0


def test_text_lines_take_their_level_from_the_line() -> None:
    parser = LineParser(insights_config(format="text"))
    group = LogGroup("/ecs/cart", "cart", None)
    line = parser.parse(group, "cart-7", "2023-11-14 WARNING retry 3 of 5", 1.0)
    assert line is not None
    assert (line.service, line.instance, line.level) == ("cart", "cart-7", "WARN")
    assert parser.parse(LogGroup("/shared", None, "svc"), "s", "plain text", 1.0) is None


def test_json_lines_without_a_service_field_are_dropped() -> None:
    parser = LineParser(insights_config())
    group = LogGroup("/shared/app", None, "svc")
    assert parser.parse(group, "s", '{"level": "INFO", "message": "x"}', 1.0) is None
    kept = parser.parse(group, "s", '{"svc": "cart", "message": "x", "trace_id": "t1"}', 1.0)
    assert kept is not None and kept.service == "cart" and kept.trace_id == "t1"


def _aws() -> AwsConfig:
    return AwsConfig(region=REGION, max_attempts=1)


def test_an_empty_store_counts_nothing(stubbed: tuple[CloudWatchLogs, Stubber]) -> None:
    logs, stub = stubbed
    stub.add_response("describe_log_groups", {"logGroups": []}, {"logGroupNamePrefix": "/ecs/"})
    logs.config = logs.config.model_copy(update={"groups": logs.config.groups[:1]})
    counts = logs.template_counts(TimeWindow.of(NOW_S - 60, NOW_S), 1.0, None, None)
    assert len(counts.count) == 0 and counts.bucket_s.dtype == np.float64


def test_filter_terms_cover_the_usual_casings() -> None:
    assert plain_term("timeout") == '?"timeout" ?"TIMEOUT" ?"Timeout"'
    assert plain_term("5000") == '"5000"'
    assert plain_term('say "hi"') is None
