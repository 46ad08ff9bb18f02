"""Prometheus Alertmanager webhook v4."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.alert import AlertParseError, parse_alert

Load = Callable[[str], Any]


def test_one_alert_per_entry_with_service_and_system_from_labels(load: Load) -> None:
    checkout, payment = parse_alert(load("alertmanager_firing.json"))
    assert (checkout.source, checkout.name, checkout.status) == (
        "alertmanager",
        "HighErrorRate",
        "firing",
    )
    # app_kubernetes_io_name beats container and job; namespace beats cluster.
    assert (checkout.service, checkout.system) == ("checkout", "shop")
    # An explicit `service` label beats `app`.
    assert payment.service == "payment"
    assert (checkout.source_severity, payment.source_severity) == ("critical", "warning")
    assert checkout.fingerprint == "c6eadffa33fcdf37"
    assert checkout.summary == "checkout 5xx ratio above 5% for 10m"
    assert checkout.annotations["runbook_url"].startswith("https://runbooks.example.com/")
    assert checkout.url is not None and checkout.url.startswith("http://prometheus.example.com")


def test_nanosecond_offset_start_becomes_utc(load: Load) -> None:
    checkout = parse_alert(load("alertmanager_firing.json"))[0]
    assert checkout.starts_at == datetime(2024, 3, 14, 8, 26, 53, 739266, tzinfo=UTC)


def test_firing_alert_ignores_unset_and_expiry_ends_at(load: Load) -> None:
    checkout, payment = parse_alert(load("alertmanager_firing.json"))
    assert checkout.ends_at is None  # "0001-01-01T00:00:00Z"
    assert payment.ends_at is None  # Prometheus's expiry guess, not an end


def test_resolved_alert_has_its_end(load: Load) -> None:
    (probe,) = parse_alert(load("alertmanager_resolved.json"))
    assert probe.status == "resolved"
    assert probe.ends_at == datetime(2024, 3, 14, 13, 21, 15, 828000, tzinfo=UTC)
    assert probe.summary.startswith("BlackBox Probe Failure")
    assert probe.service == "blackbox-http"  # only `job` names anything here


def test_missing_fingerprint_is_derived_from_labels_in_any_order(load: Load) -> None:
    payload = load("alertmanager_firing.json")
    for entry in payload["alerts"]:
        del entry["fingerprint"]
    first = parse_alert(payload)[0].fingerprint
    payload["alerts"][0]["labels"] = dict(reversed(payload["alerts"][0]["labels"].items()))
    assert parse_alert(payload)[0].fingerprint == first
    payload["alerts"][0]["labels"]["pod"] = "checkout-7d9c6b5f4-zzzzz"
    assert parse_alert(payload)[0].fingerprint != first


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p["alerts"][0].update(startsAt="yesterday"),
            "alertmanager: alerts[0].startsAt: not a timestamp: 'yesterday'",
        ),
        (
            lambda p: p["alerts"][1].pop("startsAt"),
            "alertmanager: alerts[1].startsAt: missing",
        ),
        (
            lambda p: p["alerts"][0]["labels"].pop("alertname"),
            "alertmanager: alerts[0].labels.alertname: missing",
        ),
        (
            lambda p: p["alerts"][0].update(status="pending"),
            "alertmanager: alerts[0].status: expected one of firing, resolved, got 'pending'",
        ),
        (
            lambda p: p["alerts"][0].update(labels=["alertname"]),
            "alertmanager: alerts[0].labels: expected an object, got list",
        ),
        (lambda p: p.update(alerts=[3]), "alertmanager: alerts[0]: expected an object, got number"),
    ],
)
def test_malformed_entries_name_the_field(
    load: Load, change: Callable[[dict[str, Any]], object], message: str
) -> None:
    payload = load("alertmanager_firing.json")
    change(payload)
    with pytest.raises(AlertParseError) as caught:
        parse_alert(payload)
    assert str(caught.value) == message


def test_empty_group_yields_no_alerts(load: Load) -> None:
    payload = load("alertmanager_firing.json")
    payload["alerts"] = []
    assert parse_alert(payload) == []
