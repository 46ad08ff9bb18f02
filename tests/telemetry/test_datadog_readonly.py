"""Datadog is read-only by construction, and the docs list exactly the scopes it needs.

Every API object the store makes comes from one factory that replaces each
write endpoint with a refusal; the ApiClient refuses any route but the reads,
and its HTTP layer any URL but theirs. The tests try writes at each level,
through the official client, against the fake: each is refused and the fake
receives nothing.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from datadog_api_client.api_client import Endpoint
from datadog_api_client.v1.api.dashboards_api import DashboardsApi
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v2.api.events_api import EventsApi
from datadog_api_client.v2.api.logs_api import LogsApi
from datadog_api_client.v2.api.metrics_api import MetricsApi
from datadog_api_client.v2.api.security_monitoring_api import SecurityMonitoringApi
from datadog_api_client.v2.models import HTTPLog, HTTPLogItem

from tests.telemetry.conftest import datadog_config
from tests.telemetry.support.datadog import FakeDatadog
from tools.telemetry.datadog.backend import DatadogStore
from tools.telemetry.datadog.client import READ_OPERATIONS, _Refused, required_scopes
from tools.telemetry.models import TimeWindow
from tools.telemetry.readonly import ReadOnlyViolation

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "telemetry.md"


@pytest.fixture(scope="module")
def store(datadog: FakeDatadog) -> DatadogStore:
    """A store whose backend has read every kind once, so it made all its API objects."""
    store = DatadogStore(datadog_config(datadog.url))
    backend = store.at(datetime.fromisoformat("2024-03-01T12:05:00+00:00"))
    window = TimeWindow.of(backend.now_s - 600, backend.now_s)
    backend.services()
    backend.metric_series(window)
    backend.log_template_counts(window, 60.0)
    backend.span_stats(window, 60.0)
    backend.changes(window)
    backend.security_signals(window)
    return store


def test_every_write_endpoint_of_every_api_is_refused_before_sending(
    store: DatadogStore, datadog: FakeDatadog
) -> None:
    sent = len(datadog.requests)
    refused = allowed = 0
    for api in store.clients.created():
        for name, value in vars(api).items():
            if isinstance(value, _Refused):
                with pytest.raises(ReadOnlyViolation, match=rf"\.{value.operation} refused"):
                    value.call_with_http_info()
                refused += 1
            elif isinstance(value, Endpoint):
                assert value.settings["operation_id"] in READ_OPERATIONS, name
                allowed += 1
    assert refused > 100 and allowed == len(READ_OPERATIONS) - 2  # less validate, service map
    assert len(datadog.requests) == sent


def test_named_writes_through_the_client_are_refused(
    store: DatadogStore, datadog: FakeDatadog
) -> None:
    sent = len(datadog.requests)
    clients = store.clients
    writes: list[tuple[Any, str, dict[str, Any]]] = [
        (clients.api(LogsApi), "submit_log", {"body": HTTPLog([HTTPLogItem(message="x")])}),
        (clients.api(MetricsApi), "delete_tag_configuration", {"metric_name": "replay.x"}),
        (clients.api(EventsApi), "create_event", {"body": {}}),
        (clients.api(SecurityMonitoringApi), "delete_security_monitoring_rule", {"rule_id": "r"}),
        (clients.api(MonitorsApi), "delete_monitor", {"monitor_id": 1}),
        (clients.api(DashboardsApi), "delete_dashboard", {"dashboard_id": "abc-def-ghi"}),
    ]
    for api, method, args in writes:
        with pytest.raises(ReadOnlyViolation, match="refused: incident-triage is read-only"):
            getattr(api, method)(**args)
    # Past the endpoints: the ApiClient and its HTTP layer refuse write routes too.
    with pytest.raises(ReadOnlyViolation, match="POST /api/v2/logs"):
        clients.client.call_api("/api/v2/logs", "POST", body=[{"message": "x"}])
    with pytest.raises(ReadOnlyViolation, match="DELETE /api/v1/dashboard/abc"):
        clients.client.rest_client.request("DELETE", f"{datadog.url}/api/v1/dashboard/abc")
    with pytest.raises(ReadOnlyViolation, match="GET /api/v2/logs/events/search"):
        clients.client.rest_client.request("GET", f"{datadog.url}/api/v2/logs/events/search")
    assert len(datadog.requests) == sent


def test_every_read_exists_in_the_client_library_as_listed() -> None:
    """Each allowed operation is the library's, with its method and route (the service
    map, which the library lacks, is the documented GET /api/v1/service_dependencies)."""
    from datadog_api_client.v1 import apis as v1
    from datadog_api_client.v2 import apis as v2

    found: dict[str, tuple[str, str, str]] = {}
    for version, module in (("v1", v1), ("v2", v2)):
        for cls in (getattr(module, n) for n in module.__all__):
            for value in vars(cls(_Offline())).values():
                if isinstance(value, Endpoint):
                    s = value.settings
                    where = (s["version"], s["http_method"], s["endpoint_path"])
                    found.setdefault(f"{version}.{s['operation_id']}", where)
    for name, op in READ_OPERATIONS.items():
        if name == "list_service_dependencies":
            continue
        assert found[f"{op.version}.{name}"] == (op.version, op.method, op.path), name


class _Offline:
    """Enough of an ApiClient to build API objects without a configuration."""

    configuration = None


def test_no_allowed_operation_is_a_write_by_its_name() -> None:
    reads = ("list_", "search_", "query_", "aggregate_", "validate")
    assert [n for n in READ_OPERATIONS if not n.startswith(reads)] == []


def test_only_the_factory_makes_datadog_clients() -> None:
    offenders = []
    for path in (ROOT / "tools" / "telemetry").rglob("*.py"):
        if path.name == "client.py" and path.parent.name == "datadog":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and node.id in {"ApiClient", "Configuration"}:
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


# -- the scopes the docs list ---------------------------------------------------------


def documented_operations() -> dict[str, tuple[str, str | None]]:
    """docs/telemetry.md's scope table: operation -> (METHOD path, scope)."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### Application-key scopes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `(\w+ [^`]+)` \| (`(\w+)`|none) \|$", section, re.M)
    return {op: (route, scope or None) for op, route, _, scope in rows}


def test_the_docs_list_exactly_the_scopes_the_code_needs() -> None:
    documented = documented_operations()
    assert documented == {
        name: (f"{op.method} {op.path}", op.scope) for name, op in READ_OPERATIONS.items()
    }
    text = DOCS.read_text(encoding="utf-8")
    listed = re.search(r"Minimal scopes: (.+?)\.", text, re.S)
    assert listed is not None
    assert set(re.findall(r"`(\w+)`", listed.group(1))) == required_scopes()
