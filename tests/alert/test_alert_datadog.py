"""Datadog webhook payloads: the recommended template and Datadog's default one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.alert import AlertParseError, parse_alert
from agent.isolation.engine import alert_services

Load = Callable[[str], Any]


def test_triggered_monitor(load: Load) -> None:
    (alert,) = parse_alert(load("datadog_triggered.json"))
    assert (alert.source, alert.name, alert.status, alert.source_status) == (
        "datadog",
        "Checkout error rate high",  # without "[Triggered on {...}]"
        "firing",
        "Triggered",
    )
    assert alert.starts_at == datetime(2024, 3, 14, 9, 55, 2, tzinfo=UTC)  # $DATE, in ms
    assert (alert.service, alert.source_severity) == ("checkout", "P2")
    assert alert.labels["team"] == "payments"
    assert alert.summary.startswith("Checkout 5xx rate is above 5%")
    assert "%%%" not in alert.summary
    assert alert.metric is not None and alert.metric.name == "trace.http.request.errors"
    assert alert.annotations["alert_query"].startswith("avg(last_5m)")
    assert alert.url == "https://app.datadoghq.com/event/event?id=7412996215387629562"


def test_recovery_dedups_onto_the_trigger(load: Load) -> None:
    triggered = parse_alert(load("datadog_triggered.json"))[0]
    (recovered,) = parse_alert(load("datadog_recovered.json"))
    assert (recovered.status, recovered.source_status) == ("resolved", "Recovered")
    assert recovered.ends_at == datetime(2024, 3, 14, 10, 15, 2, tzinfo=UTC)
    assert recovered.fingerprint == triggered.fingerprint


def test_another_scope_of_the_same_monitor_is_another_condition(load: Load) -> None:
    first = parse_alert(load("datadog_triggered.json"))[0]
    payload = load("datadog_triggered.json")
    payload["alert_scope"] = "env:prod,service:payment"
    other = parse_alert(payload)[0]
    assert other.service == "payment"  # the scope names the group that fired
    assert other.fingerprint != first.fingerprint


def test_default_template_parses_with_less_detail(load: Load) -> None:
    (alert,) = parse_alert(load("datadog_default_template.json"))
    assert (alert.name, alert.status, alert.service) == ("Disk almost full", "firing", None)
    assert alert.labels == {"host": "web-3"}, "the group that fired, from the title"
    assert alert.starts_at == datetime(2024, 3, 14, 10, 35, 2, tzinfo=UTC)
    payload = load("datadog_default_template.json")
    payload["title"] = "[Recovered on {host:web-3}] Disk almost full"
    (recovered,) = parse_alert(payload)
    assert recovered.status == "resolved"
    assert recovered.fingerprint == alert.fingerprint


@pytest.mark.parametrize(
    ("transition", "status"),
    [
        ("Triggered", "firing"),
        ("Re-Triggered", "firing"),
        ("Warn", "firing"),
        ("No Data", "firing"),
        ("Renotify", "firing"),
        ("Something New", "firing"),
        ("Recovered", "resolved"),
        ("recovered", "resolved"),
    ],
)
def test_transitions(load: Load, transition: str, status: str) -> None:
    payload = load("datadog_triggered.json")
    payload["alert_transition"] = transition
    (alert,) = parse_alert(payload)
    assert (alert.status, alert.source_status) == (status, transition)


def test_seconds_dates_and_list_tags(load: Load) -> None:
    payload = load("datadog_triggered.json")
    payload["date"] = 1710410102
    payload["tags"] = ["env:prod", "service:checkout"]
    del payload["alert_scope"]
    (alert,) = parse_alert(payload)
    assert alert.starts_at == datetime(2024, 3, 14, 9, 55, 2, tzinfo=UTC)
    assert alert.service == "checkout"


def test_missing_date_and_title_are_named(load: Load) -> None:
    payload = load("datadog_triggered.json")
    del payload["date"], payload["last_updated"]
    with pytest.raises(AlertParseError, match=r"^datadog: date: missing$"):
        parse_alert(payload)
    payload = load("datadog_triggered.json")
    del payload["title"], payload["alert_title"]
    with pytest.raises(AlertParseError, match=r"^datadog: title: missing$"):
        parse_alert(payload)
    payload = load("datadog_triggered.json")
    payload["date"] = "$DATE"  # a template variable Datadog did not fill
    with pytest.raises(AlertParseError, match=r"^datadog: date: not a timestamp: '\$DATE'$"):
        parse_alert(payload)


def test_the_monitor_query_links_the_alert_to_its_telemetry(load: Load) -> None:
    """The query's metric, scope and window, with the group that fired, are the alert's
    metric: the engine reads the services the monitor watched from it."""
    (alert,) = parse_alert(load("datadog_triggered.json"))
    assert alert.metric is not None
    assert (alert.metric.namespace, alert.metric.statistic, alert.metric.period_s) == (
        "datadog",
        "avg",
        300,
    )
    assert alert.metric.dimensions == {"env": "prod", "service": "checkout"}
    assert alert_services([alert], {"checkout", "payment", "frontend"}) == {"checkout"}


def test_a_service_only_the_query_names_is_the_alert_s(load: Load) -> None:
    payload = load("datadog_triggered.json")
    payload.update(alert_scope="", tags="monitor,team:payments", alert_metric="")
    payload["alert_query"] = (
        "max(last_1h):avg:postgresql.connections{env:prod,service:payment} > 90"
    )
    (alert,) = parse_alert(payload)
    assert (alert.service, alert.labels["env"]) == ("payment", "prod")
    assert alert.metric is not None
    assert (alert.metric.name, alert.metric.period_s) == ("postgresql.connections", 3600)


def test_a_log_monitor_names_its_search_terms(load: Load) -> None:
    payload = load("datadog_triggered.json")
    payload.update(alert_scope="", tags="", alert_metric="")
    payload["alert_query"] = (
        'logs("service:payment status:error").index("*").rollup("count").last("15m") > 100'
    )
    (alert,) = parse_alert(payload)
    assert alert.metric is not None
    assert (alert.metric.name, alert.metric.period_s) == ("logs", 900)
    assert alert.metric.dimensions == {"service": "payment", "status": "error"}
    assert alert.service == "payment"


def test_default_template_takes_the_service_from_the_group_in_its_title(load: Load) -> None:
    """Datadog's default payload has no tags, but its title names the group that fired
    ($ALERT_SCOPE): the service there routes and correlates the alert."""
    payload = load("datadog_default_template.json")
    payload["title"] = "[P1] [Triggered on {service:payment,env:prod}] Payment errors high"
    (alert,) = parse_alert(payload)
    assert (alert.name, alert.service, alert.labels) == (
        "Payment errors high",
        "payment",
        {"service": "payment", "env": "prod"},
    )
    other = {**payload, "title": payload["title"].replace("payment", "cart")}
    assert parse_alert(other)[0].fingerprint != alert.fingerprint, "each group its own"
