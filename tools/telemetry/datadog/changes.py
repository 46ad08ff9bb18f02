"""Changes from Datadog: change-tracking events, events tagged as deploys, and version tags.

Change tracking records feature-flag flips and configuration changes as
events of category `change` naming the resource changed and the services it
impacts; CI/CD integrations post deploys as events tagged `deployment` (or
any `deploy_tags`), with the service and the new `version` as tags. Where a
service has no deploy event, a version first seen on its metrics inside the
window is one (metrics.version_changes), as in Datadog's deployment tracking.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from datadog_api_client.v2.api.events_api import EventsApi
from datadog_api_client.v2.model.events_list_request import EventsListRequest
from datadog_api_client.v2.model.events_query_filter import EventsQueryFilter
from datadog_api_client.v2.model.events_request_page import EventsRequestPage
from datadog_api_client.v2.model.events_sort import EventsSort

from tools.telemetry.config import DatadogChangesConfig, DatadogConfig
from tools.telemetry.datadog.client import DatadogClients
from tools.telemetry.datadog.search import Budget, iso, iso_until, pages, search_query
from tools.telemetry.models import Change, ChangeKind, TimeWindow, to_epoch

# A version-derived deploy within this long of a deploy event is that deploy.
DEDUP_S = 600.0
_RESOURCE_KINDS: dict[str, ChangeKind] = {"feature_flag": "feature_flag", "configuration": "config"}


def tag_map(tags: Sequence[str]) -> dict[str, str]:
    """`key:value` tags as a mapping (the first value of a key wins); bare tags map to ""."""
    out: dict[str, str] = {}
    for tag in tags:
        name, _, value = str(tag).partition(":")
        out.setdefault(name, value)
    return out


class DatadogChanges:
    """The change side of the Datadog store."""

    def __init__(self, clients: DatadogClients, config: DatadogConfig) -> None:
        assert config.changes is not None
        self.clients = clients
        self.config = config
        self.changes_config: DatadogChangesConfig = config.changes

    def events(self, window: TimeWindow, budget: Budget) -> list[Change]:
        """Every change event and deploy event of the window, oldest first."""
        found = [c for item in self._events(window, budget) if (c := self.change(item))]
        inside = [c for c in found if window.start_s <= to_epoch(c.ts) <= window.end_s]
        return sorted(inside, key=lambda c: (to_epoch(c.ts), c.id))

    def _events(self, window: TimeWindow, budget: Budget) -> Iterator[Any]:
        api = self.clients.api(EventsApi)
        query = search_query(self.config, self.changes_config.query)
        span = EventsQueryFilter(_from=iso(window.start_s), to=iso_until(window.end_s), query=query)

        def fetch(cursor: str | None) -> Any:
            page = EventsRequestPage(limit=self.changes_config.page_size)
            if cursor:
                page.cursor = cursor
            request = EventsListRequest(filter=span, page=page, sort=EventsSort.TIMESTAMP_ASCENDING)
            return api.search_events(body=request)

        what = (f"search_events: of {self.changes_config.page_size} events"
                " (datadog.changes.max_pages); narrow datadog.changes.query")  # fmt: skip
        for answer in pages(fetch, budget, self.changes_config.max_pages, what):
            yield from answer.get("data", []) or []

    def change(self, item: Any) -> Change | None:
        """A change event or a deploy event as a Change; None for any other event."""
        outer = item.attributes
        inner = outer.get("attributes")
        fields: dict[str, Any] = inner.to_dict() if inner is not None else {}
        tags = tag_map([*(outer.get("tags", []) or []), *fields.get("tags", [])])
        kind = self._kind(fields, tags)
        if kind is None:
            return None
        impacted = [r.get("name", "") for r in fields.get("impacted_resources", [])
                    if r.get("type") == "service"]  # fmt: skip
        named = impacted[0] if impacted else fields.get("service") or tags.get("service", "")
        service = self.config.naming.resolve(str(named or ""))
        if not service or outer.get("timestamp") is None:
            return None
        author = fields.get("author") or {}
        title = str(fields.get("title") or outer.get("message") or "")
        return Change(
            id=str(item.get("id") or fields.get("aggregation_key") or ""),
            ts=outer["timestamp"],
            service=service,
            kind=kind,
            summary=title.splitlines()[0] if title else "",
            from_version=tags.get("previous_version") or _version(fields.get("prev_value")),
            to_version=tags.get("version") or _version(fields.get("new_value")),
            actor=author.get("name") if isinstance(author, dict) else None,
        )

    def _kind(self, fields: dict[str, Any], tags: dict[str, str]) -> ChangeKind | None:
        resource = fields.get("changed_resource") or {}
        category = (fields.get("evt") or {}).get("category")
        if category == "change" or resource:
            return _RESOURCE_KINDS.get(str(resource.get("type", "")), "config")
        deploy = self.changes_config.deploy_tags
        pairs = {f"{k}:{v}" if v else k for k, v in tags.items()}
        return "deploy" if pairs & set(deploy) else None


def _version(value: Any) -> str | None:
    if isinstance(value, dict) and value.get("version"):
        return str(value["version"])
    return None


def without_duplicates(derived: list[Change], events: list[Change]) -> list[Change]:
    """Version-derived deploys that no deploy event already reports."""
    return [
        c
        for c in derived
        if not any(
            e.kind == "deploy"
            and e.service == c.service
            and abs(to_epoch(e.ts) - to_epoch(c.ts)) <= DEDUP_S
            for e in events
        )
    ]
