"""The war room end to end in real headless Chromium (Debian's, driven by Playwright):
an alert posted over HTTP appears on the open page, its page draft is approved by a
click, and the PagerDuty stand-in receives exactly one page. Screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import httpx
import pytest

from agent.server.app import Server, create_app
from tests.server.support import BEARER, LiveServer, case_body
from tests.support.receiver import Receiver
from tests.support.synthetic import SyntheticDataset

CHROMIUM = (
    os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or find_spec("playwright") is None,
    reason="needs Debian's chromium (apt-get install chromium; `make test` installs it)"
    " and the playwright package (pip install -e '.[dev]')",
)


@pytest.fixture
def live(server: Server) -> Iterator[LiveServer]:
    with LiveServer(create_app(server)) as running:
        yield running


def test_an_alert_appears_live_and_its_page_is_approved_by_a_click(
    live: LiveServer, synthetic: SyntheticDataset, pagerduty: Receiver
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(f"{live.url}/")
        expect(page.locator(".empty")).to_be_visible()
        page.fill("#me", "aki")

        posted = httpx.post(
            f"{live.url}/v1/alerts/alertmanager", content=case_body(synthetic), headers=BEARER
        )
        assert posted.status_code == 202
        link = page.locator("a.incident-link")
        expect(link).to_have_count(1, timeout=60_000)  # arrives over server-sent events
        page.screenshot(path=str(ARTIFACTS / "war-room-list.png"), full_page=True)

        link.click()
        expect(page.locator(".hypothesis").first).to_contain_text("payment")
        expect(page.locator("svg.plot").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "war-room-incident.png"), full_page=True)

        draft = page.locator("article.draft", has=page.locator("strong", has_text="page")).first
        draft.locator("button.approve").click()
        expect(draft.locator(".badge")).to_have_text("sent", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "war-room-approved.png"), full_page=True)
        browser.close()

    requests = pagerduty.wait_for(1)
    assert len(requests) == 1 and len(pagerduty.requests) == 1
    assert requests[0].json()["payload"]["custom_details"]["approved_by"] == "aki"
    assert dialogs == []
