"""PagerDuty Events API v2: an approved page becomes one `trigger` event.

The routing key is read from the environment at send time and exists only in
the request body: never in the draft, the result, the timeline or a log.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from agent.dispatch.config import PagerDutyConfig
from agent.dispatch.guard import SendPermit
from agent.dispatch.sender import ApprovedSender, Clock, Delivery, utc_now
from agent.dispatch.transport import RetryPolicy, Sleep, post_json
from agent.draft.models import Draft
from tools.bounds import ellipsize

PD_SEVERITIES = frozenset({"critical", "error", "warning", "info"})
SEV_TO_PD = {"SEV1": "critical", "SEV2": "error", "SEV3": "warning", "SEV4": "info"}
SUMMARY_MAX = 1024
DEDUP_MAX = 255
SOURCE = "incident-triage"
PAYLOAD_FIELDS = ("timestamp", "component", "group", "class")  # passed through when set
EVENT_FIELDS = ("links", "images", "client", "client_url")


class PagerDutySender(ApprovedSender):
    """Triggers a PagerDuty event with `team`'s routing key; 202 means PagerDuty has it."""

    def __init__(
        self,
        config: PagerDutyConfig,
        policy: RetryPolicy,
        *,
        team: str | None = None,
        environ: Mapping[str, str] | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(clock)
        self._config = config
        self._policy = policy
        self._team = team
        self._environ = os.environ if environ is None else environ
        self._sleep = sleep

    def deliver(self, draft: Draft, permit: SendPermit) -> Delivery:
        env_name = self._config.key_env_for(self._team)
        destination = f"pagerduty {self._config.events_url} (key from ${env_name})"
        routing_key = self._environ.get(env_name, "").strip() if env_name else ""
        if not routing_key:
            why = f"routing key env var ${env_name} is not set" if env_name else "no routing key"
            return Delivery("failed", destination, f"{why} (team {self._team!r}); nothing was sent")
        event = pagerduty_event(draft, permit, routing_key)
        reply = post_json(
            self._config.events_url, event, permit=permit, policy=self._policy, sleep=self._sleep
        )
        if reply.status == 202:
            return Delivery("sent", destination, f"dedup_key {event['dedup_key']}", 202)
        return Delivery("failed", destination, reply.error_text(), reply.status)


def pagerduty_event(draft: Draft, permit: SendPermit, routing_key: str) -> dict[str, Any]:
    """The Events API v2 body: the draft's event (docs/drafts.md) with the routing key added.

    Gaps are filled from the draft (summary from the title, a default source and
    severity). `event_action` is always "trigger" and a routing key in the draft is
    ignored: an approval is for this page, and keys never live in drafts.
    """
    given = draft.payload
    inner = _dict(given.get("payload"))
    payload: dict[str, Any] = {k: inner[k] for k in PAYLOAD_FIELDS if inner.get(k) is not None}
    payload["summary"] = ellipsize(_text(inner.get("summary")) or draft.title, SUMMARY_MAX)
    payload["source"] = _text(inner.get("source")) or SOURCE
    payload["severity"] = pd_severity(inner.get("severity"))
    payload["custom_details"] = {**_dict(inner.get("custom_details")), **_approval(draft, permit)}
    return {
        **{k: given[k] for k in EVENT_FIELDS if given.get(k) is not None},
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(draft),
        "payload": payload,
    }


def dedup_key(draft: Draft) -> str:
    """The draft's own (the incident id, so a re-page updates one alert), else one per draft.

    Either way it is stable, so a repeated send after a crash does not page twice.
    """
    return (_text(draft.payload.get("dedup_key")) or f"{draft.incident_id}/{draft.id}")[:DEDUP_MAX]


def pd_severity(value: object) -> str:
    """PagerDuty's severity for a draft's: its own words pass, SEV1-4 map, anything else pages."""
    text = _text(value)
    if text.lower() in PD_SEVERITIES:
        return text.lower()
    return SEV_TO_PD.get(text.upper(), "critical")


def _approval(draft: Draft, permit: SendPermit) -> dict[str, Any]:
    """The approved words (an edit reaches the on-call) and who let them out."""
    return {
        "body": draft.body,
        "incident_id": draft.incident_id,
        "draft_id": draft.id,
        "revision": draft.revision,
        "approved_by": permit.approved_by,
        "approved_at": permit.approved_at.isoformat(),
    }


def _dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
