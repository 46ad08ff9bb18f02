"""A draft with a blank its template left unfilled cannot be approved as it is."""

from __future__ import annotations

import pytest

from agent.approval.service import ApprovalError, approve
from tests.approval.factories import LATER, PAGE, draft, incident

HOLED = "payment errors at 12%.\nWar room: <war-room-url>\nNext update by ${next_update}."


def test_a_placeholder_blocks_approval_until_an_edit_fills_it() -> None:
    inc = incident(draft(PAGE, body=HOLED))
    with pytest.raises(ApprovalError, match=r"unfilled placeholders \(<war-room-url>, \$\{next"):
        approve(inc, PAGE, "aki", LATER)
    with pytest.raises(ApprovalError, match="unfilled"):
        approve(inc, PAGE, "aki", LATER, edited_body=HOLED.replace("<war-room-url>", "#inc-42"))
    filled = "payment errors at 12%.\nWar room: #inc-42\nNext update by 10:30."
    done = approve(inc, PAGE, "aki", LATER, edited_body=filled)
    page = done.draft(PAGE)
    assert page is not None and page.state == "edited" and page.body == filled
