"""Datadog Cloud SIEM signals as security evidence.

A signal is a detection rule that already fired on logs or an audit trail
(credential stuffing, an impossible-travel login, a new admin key). The
engine's own detectors look for the same things in raw lines; a signal is the
SIEM's word for it, with its own severity. Signals at or above
`min_severity`, not archived, that name a service (a `service` tag) are kept.
"""

from __future__ import annotations

from typing import Any

from datadog_api_client.v2.api.security_monitoring_api import SecurityMonitoringApi
from datadog_api_client.v2.model.security_monitoring_signal_list_request import (
    SecurityMonitoringSignalListRequest,
)
from datadog_api_client.v2.model.security_monitoring_signal_list_request_filter import (
    SecurityMonitoringSignalListRequestFilter,
)
from datadog_api_client.v2.model.security_monitoring_signal_list_request_page import (
    SecurityMonitoringSignalListRequestPage,
)
from datadog_api_client.v2.model.security_monitoring_signals_sort import (
    SecurityMonitoringSignalsSort,
)

from tools.telemetry.config import DatadogConfig, DatadogSiemConfig
from tools.telemetry.datadog.changes import tag_map
from tools.telemetry.datadog.client import DatadogClients
from tools.telemetry.datadog.search import Budget, pages, search_query
from tools.telemetry.models import SEVERITIES, SecuritySignal, TimeWindow, from_epoch

PAGE = 100
ARCHIVED = "archived"


class DatadogSiem:
    def __init__(self, clients: DatadogClients, config: DatadogConfig) -> None:
        assert config.siem is not None
        self.clients = clients
        self.config = config
        self.siem: DatadogSiemConfig = config.siem

    def signals(self, window: TimeWindow, budget: Budget) -> list[SecuritySignal]:
        """Open signals of the window at or above `min_severity`, oldest first."""
        api = self.clients.api(SecurityMonitoringApi)
        span = SecurityMonitoringSignalListRequestFilter(
            _from=window.start, to=window.end, query=search_query(self.config, self.siem.query)
        )

        def fetch(cursor: str | None) -> Any:
            page = SecurityMonitoringSignalListRequestPage(limit=PAGE)
            if cursor:
                page.cursor = cursor
            return api.search_security_monitoring_signals(
                body=SecurityMonitoringSignalListRequest(
                    filter=span, page=page, sort=SecurityMonitoringSignalsSort.TIMESTAMP_ASCENDING
                )
            )

        what = (f"search_security_monitoring_signals: of {PAGE} signals"
                " (datadog.siem.max_pages); narrow datadog.siem.query")  # fmt: skip
        return [
            signal
            for answer in pages(fetch, budget, self.siem.max_pages, what)
            for item in answer.get("data", []) or []
            if (signal := self.signal(item, window)) is not None
        ]

    def signal(self, item: Any, window: TimeWindow) -> SecuritySignal | None:
        outer = item.attributes
        fields: dict[str, Any] = outer.get("attributes", {}) or {}
        tags = tag_map(outer.get("tags", []) or [])
        workflow = fields.get("workflow") or {}
        severity = str(fields.get("status") or tags.get("severity") or "").lower()
        state = str((workflow.get("triage") or {}).get("state") or "").lower()
        if severity not in SEVERITIES or state == ARCHIVED:
            return None
        if SEVERITIES.index(severity) < SEVERITIES.index(self.siem.min_severity):
            return None
        service = self.config.naming.resolve(str(fields.get("service") or tags.get("service", "")))
        first = workflow.get("first_seen")
        ts = outer.get("timestamp")
        if isinstance(first, int | float):
            ts = from_epoch(float(first) / 1000)
        if not service or ts is None or not window.start <= ts <= window.end:
            return None
        rule = (workflow.get("rule") or {}).get("name") or fields.get("title") or "SIEM rule"
        message = str(outer.get("message") or "")
        return SecuritySignal(
            id=str(item.get("id", "")),
            ts=ts,
            service=service,
            severity=severity,
            rule=str(rule),
            title=str(fields.get("title") or message.splitlines()[0] if message else rule),
            source=tags.get("source", ""),
        )
