"""Slack incoming webhook: an approved update becomes a header and mrkdwn sections.

The webhook URL is a credential (anyone holding it can post), so results name
only its host. Text is escaped so a draft cannot ping `<!channel>` or forge links.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from agent.dispatch.config import SlackConfig, check_url
from agent.dispatch.guard import SendPermit
from agent.dispatch.sender import ApprovedSender, Clock, Delivery, utc_now
from agent.dispatch.transport import RetryPolicy, Sleep, post_json
from agent.draft.models import Draft
from tools.bounds import ellipsize

HEADER_MAX = 150  # Slack's limit for a header block
SECTION_MAX = 3000  # ... for one section's text
SECTIONS_MAX = 40  # blocks per message are capped at 50
FALLBACK_MAX = 3000  # the notification text


class SlackSender(ApprovedSender):
    """Posts to a Slack incoming webhook; Slack answers 200 "ok" when it took the message."""

    def __init__(
        self,
        config: SlackConfig,
        policy: RetryPolicy,
        *,
        environ: Mapping[str, str] | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(clock)
        self._config = config
        self._policy = policy
        self._environ = os.environ if environ is None else environ
        self._sleep = sleep

    def deliver(self, draft: Draft, permit: SendPermit) -> Delivery:
        url, problem = self._webhook_url()
        destination = f"slack webhook {urlsplit(url).hostname or '?'}"
        if problem:
            return Delivery("failed", "slack webhook", f"{problem}; nothing was sent")
        message = slack_message(draft, permit)
        reply = post_json(url, message, permit=permit, policy=self._policy, sleep=self._sleep)
        if reply.status == 200 and reply.body.strip() == "ok":
            return Delivery("sent", destination, "ok", 200)
        return Delivery("failed", destination, reply.error_text(), reply.status)

    def _webhook_url(self) -> tuple[str, str]:
        """The URL, or "" and why it is unusable (never echoing the URL itself)."""
        env_name = self._config.webhook_url_env
        url = self._config.webhook_url or self._environ.get(env_name or "", "").strip()
        if not url:
            return "", f"webhook URL env var ${env_name} is not set"
        try:
            return check_url(url), ""
        except ValueError:
            return "", f"the webhook URL in ${env_name} is not an https URL"


def slack_message(draft: Draft, permit: SendPermit) -> dict[str, Any]:
    """The webhook body: fallback text for notifications, and blocks for the channel."""
    header = ellipsize(
        draft.title.strip() or draft.kind, HEADER_MAX
    )  # Slack rejects an empty header
    sections = list(_sections(draft.body))[:SECTIONS_MAX]
    context = (
        f"Incident {escape(draft.incident_id)} · {escape(draft.kind)} revision {draft.revision}"
        f" · approved by {escape(permit.approved_by)}"
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        *({"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in sections),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
    ]
    fallback = ellipsize(f"{escape(draft.title)}\n{escape(draft.body)}", FALLBACK_MAX)
    return {"text": fallback, "blocks": blocks}


def escape(text: str) -> str:
    """Slack's three control characters, so text is shown, never parsed as a mention or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sections(body: str) -> Iterator[str]:
    """Escaped chunks of at most SECTION_MAX characters, cut at line ends where possible."""
    chunk = ""
    for line in _short_lines(body, SECTION_MAX // 5):  # escaping grows a character to 5 at most
        piece = escape(line)
        if chunk and len(chunk) + 1 + len(piece) > SECTION_MAX:
            yield chunk
            chunk = piece
        else:
            chunk = f"{chunk}\n{piece}" if chunk else piece
    if chunk.strip():
        yield chunk


def _short_lines(text: str, limit: int) -> Iterator[str]:
    for line in text.splitlines():
        yield from (line[i : i + limit] for i in range(0, max(len(line), 1), limit))
