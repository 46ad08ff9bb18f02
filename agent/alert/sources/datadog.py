"""Datadog monitor notifications through the Webhooks integration.

Datadog posts whatever payload template the user configured; docs/alerts.md
gives the template this parser expects. Only a title and a date are required,
so Datadog's default template parses too, with less detail.

The monitor's query (`$ALERT_QUERY`) links the alert to its telemetry: its
metric, the tags it is scoped to and the group that fired become the alert's
metric (namespace `datadog`), so the engine knows which services and env the
monitor watched, and a service the tags do not name is read from the query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from agent.alert.derive import SERVICE_LABELS, SYSTEM_LABELS, fingerprint_of, pick
from agent.alert.fields import Fields
from agent.alert.models import Alert, AlertMetric, AlertStatus
from agent.alert.sources import Source

NAME: Final = "datadog"
_KEYS = (
    "alert_transition",
    "alert_id",
    "alert_cycle_key",
    "aggreg_key",
    "alert_type",
    "event_type",
)
# $ALERT_TRANSITION; any other word (Datadog adds some) counts as firing,
# because a spurious triage costs less than a missed page.
_TRANSITIONS: dict[str, AlertStatus] = {"recovered": "resolved"}
# The status prefixes Datadog puts before a monitor's name in its titles:
# "[P1] [Triggered on {host:web-1}] Disk full" names the monitor "Disk full".
_TITLE_PREFIX = re.compile(
    r"^(?:\s*\[(?:P\d|Triggered|Re-Triggered|Recovered|Warn|Re-Warn|No Data|Re-No Data|Renotify)"
    r"\b[^\]]*\])+\s*",
    re.IGNORECASE,
)
# The group that fired, as the title names it, for a template without $ALERT_SCOPE (the
# default one): "[Triggered on {service:payment,env:prod}] Payment errors high".
_TITLE_SCOPE = re.compile(r"^(?:\s*\[[^\]]*\])*?\s*\[[\w -]+ on \{(?P<scope>[^}]*)\}\]")
# `avg(last_5m):sum:trace.http.request.errors{env:prod} by {service}.as_rate() > 0.05`
_METRIC_QUERY = re.compile(
    r"^\s*(?P<time>\w+)\((?P<window>last_\w+)\)\s*:\s*(?P<space>\w+):(?P<metric>[\w.\-]+)"
    r"\{(?P<scope>[^}]*)\}"
)
# `logs("service:payment status:error").index("*").rollup("count").last("5m") > 100`
_LOG_QUERY = re.compile(
    r'^\s*logs\("(?P<search>(?:[^"\\]|\\.)*)"\)(?:.*?\.last\("(?P<window>\w+)"\))?'
)
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def looks_like(payload: object) -> bool:
    return isinstance(payload, Mapping) and any(key in payload for key in _KEYS)


def parse(payload: object) -> list[Alert]:
    body = Fields.of(NAME, payload)
    title = body.text("alert_title") or body.need_text("title")
    name = _TITLE_PREFIX.sub("", title) or title
    scope = _tags(body, "alert_scope") if "alert_scope" in body.data else _title_scope(title)
    labels = {**_tags(body, "tags"), **scope}
    if hostname := body.text("hostname"):
        labels.setdefault("host", hostname)
    status, word = _status(body, title)
    at = body.time("date") or body.time("last_updated")
    if at is None:
        raise body.error("date", "missing")
    # $ALERT_ID is the monitor; with the scope it names one alerting group.
    # $ID is one event (a delivery), so it must not be used here.
    condition = body.text("alert_id") or body.text("aggreg_key") or name
    org = body.obj("org").text("id") or body.text("org_id")
    metric = monitor_metric(body.text("alert_query") or "", body.text("alert_metric"), scope)
    if metric is not None:
        for key in ("service", "env"):
            if key in metric.dimensions:
                labels.setdefault(key, metric.dimensions[key])
    return [
        Alert(
            source=NAME,
            fingerprint=fingerprint_of(NAME, org, condition, scope),
            name=name,
            status=status,
            starts_at=at,
            ends_at=at if status == "resolved" else None,
            service=pick(labels, SERVICE_LABELS),
            system=pick(labels, SYSTEM_LABELS),
            source_severity=body.text("alert_priority") or labels.get("severity"),
            source_status=word,
            summary=_clean(body.text("body")) or body.text("alert_status") or "",
            labels=labels,
            annotations=_annotations(body),
            metric=metric,
            url=body.text("link") or body.text("url"),
        )
    ]


def monitor_metric(query: str, metric: str | None, scope: dict[str, str]) -> AlertMetric | None:
    """What the monitor watched: the metric of a metric query (or the monitor's own
    `alert_metric`), the tags the query is scoped to plus the group that fired, and
    its evaluation window; a log monitor's search terms."""
    found = _METRIC_QUERY.match(query)
    logs = None if found else _LOG_QUERY.match(query)
    terms = (found["scope"].split(",") if found else
             logs["search"].split() if logs else [])  # fmt: skip
    dimensions = {k: v for k, _, v in (t.strip().partition(":") for t in terms) if k and v}
    name = metric or (found["metric"] if found else "logs" if logs else None)
    if name is None:
        return None
    window = (found["window"].removeprefix("last_") if found else
              logs["window"] if logs and logs["window"] else "")  # fmt: skip
    return AlertMetric(
        namespace=NAME,
        name=name,
        dimensions={**dimensions, **scope},
        statistic=found["time"] if found else None,
        period_s=_seconds(window),
    )


def _seconds(window: str) -> int | None:
    """`5m`, `1h`, `1d` in seconds."""
    found = re.fullmatch(r"(\d+)([mhdw])", window)
    return int(found[1]) * _UNITS[found[2]] if found else None


def _status(body: Fields, title: str) -> tuple[AlertStatus, str | None]:
    """Firing or resolved, and the word that said so: the transition if the
    template sends it, else what the default template still carries."""
    transition = body.text("alert_transition")
    if transition:
        return _TRANSITIONS.get(transition.lower(), "firing"), transition
    alert_type = body.text("alert_type")
    if alert_type == "success" or title.lower().startswith("[recovered"):
        return "resolved", alert_type or "Recovered"
    return "firing", alert_type


def _tags(body: Fields, key: str) -> dict[str, str]:
    """Datadog's comma-separated `key:value` tags; a bare tag maps to ""."""
    raw = body.data.get(key)
    return _split_tags(raw if isinstance(raw, list) else (body.text(key) or "").split(","))


def _title_scope(title: str) -> dict[str, str]:
    """The group a title says fired ("[Triggered on {host:web-3}] ..."), else none."""
    found = _TITLE_SCOPE.match(title)
    return _split_tags(found["scope"].split(",")) if found else {}


def _split_tags(items: Sequence[object]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items:
        name, _, value = str(item).strip().partition(":")
        if name and name != "*":
            tags.setdefault(name, value)
    return tags


def _clean(text: str | None) -> str:
    """The event text without Datadog's `%%%` markdown fences."""
    return (text or "").replace("%%%", "").strip()


def _annotations(body: Fields) -> dict[str, str]:
    keys = (
        "alert_status",
        "alert_query",
        "alert_scope",
        "alert_type",
        "event_type",
        "alert_cycle_key",
    )
    return {key: text for key in keys if (text := body.text(key))}


SOURCE = Source(
    name=NAME,
    shape=f"any of {', '.join(_KEYS)}",
    looks_like=looks_like,
    parse=parse,
)
