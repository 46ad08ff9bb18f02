"""What a reviewer approves: a digest of the draft's content, and what in it is flagged.

The digest binds an approval to the exact words that leave, so changing a draft
after approval (with or without a revision bump) voids the approval instead of
riding on it. The flags are what a human must not approve past for readers
outside the response team (secrets, personal data, paging contacts); softer
internals such as IP addresses or hostnames are agent.draft.lint's warnings,
which the approver sees and may accept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from agent.draft.models import Draft
from tools.redact import DEFAULT_RULES, Rule


def content_digest(draft: Draft, body: str | None = None) -> str:
    """SHA-256 of everything the recipient sees or that steers delivery.

    `body` stands in for the draft's body, so an edit can be digested before it is applied.
    """
    content = {
        "channel": draft.channel,
        "audience": draft.audience,
        "language": draft.language,
        "title": draft.title,
        "body": draft.body if body is None else body,
        "payload": draft.payload,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def flagged(text: str, outside: bool, contacts: Iterable[str] = ()) -> list[str]:
    """Names of the secrets and personal data in `text` (never the matches, which may be secret).

    Paging contacts (an address or phone number the policy gives) only count for readers
    outside the response team, who must not get them.
    """
    known = [contact for contact in contacts if contact]
    rest = text
    for contact in known:
        rest = rest.replace(contact, " ")
    found = [rule.name for rule in DEFAULT_RULES if _matches(rule, rest)]
    if outside and any(contact in text for contact in known):
        found.append("responder_contact")
    return found


def _matches(rule: Rule, text: str) -> bool:
    if isinstance(rule.replace, str):
        return rule.pattern.search(text) is not None
    return any(rule.replace(m) != m.group(0) for m in rule.pattern.finditer(text))
