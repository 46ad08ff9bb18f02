"""The war room end to end in real headless Chromium (Debian's, driven by Playwright):
an alert posted over HTTP appears on the open page, its page draft is approved by a
click, and the PagerDuty stand-in receives exactly one page. Screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import httpx
import pytest

from agent.server.app import Server, build_server, create_app
from tests.server.support import BEARER, ENV, LiveServer, case_body, server_config, wait_until
from tests.support.receiver import Receiver
from tests.support.synthetic import SyntheticDataset

CHROMIUM = (
    os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
TOKEN = "war-room-token"
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
        expect(draft.locator(".badge")).to_have_text("delivered to PagerDuty", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "war-room-approved.png"), full_page=True)
        browser.close()

    requests = pagerduty.wait_for(1)
    assert len(requests) == 1 and len(pagerduty.requests) == 1
    assert requests[0].json()["payload"]["custom_details"]["approved_by"] == "aki"
    assert dialogs == []


@pytest.fixture
def guarded_live(
    tmp_path: Path, synthetic: SyntheticDataset, pagerduty: Receiver
) -> Iterator[LiveServer]:
    """A server with its API token set, the synthetic case triaged, in Japanese."""
    config = server_config(
        synthetic.root, pagerduty.url("/v2/enqueue"), api={"token_env": "TRIAGE_API_TOKEN"}
    ).model_copy(update={"language": "ja"})
    env = {**ENV, "TRIAGE_API_TOKEN": TOKEN}
    with LiveServer(create_app(build_server(config, tmp_path / "home", env=env.get))) as running:
        posted = httpx.post(
            f"{running.url}/v1/alerts/alertmanager", content=case_body(synthetic), headers=BEARER
        )
        assert posted.status_code == 202
        row = posted.json()["inbox_id"]
        auth = {"Authorization": f"Bearer {TOKEN}"}
        wait_until(
            lambda: (
                httpx.get(f"{running.url}/v1/inbox/{row}", headers=auth).json()["state"] == "done"
            )
        )
        yield running


def test_sign_in_with_the_token_read_japanese_and_sign_out(guarded_live: LiveServer) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.goto(f"{guarded_live.url}/")
        expect(page).to_have_url(re.compile(r"/login\?next=/$"))  # not raw JSON 401
        page.fill("input[name=token]", "not-the-token")
        page.click("form.login button[type=submit]")
        expect(page.locator(".flash.error")).to_contain_text("このサーバーのトークンではありません")
        page.fill("input[name=token]", TOKEN)
        page.click("form.login button[type=submit]")  # a real form submit, not cancelled
        expect(page).to_have_url(f"{guarded_live.url}/")
        page.locator("a.incident-link").click()
        draft = page.locator("article.draft").first
        expect(draft.locator(".draft-body")).to_contain_text("インシデントコマンダー")
        assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK JP\"', '障害対応')")
        family = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert "Noto Sans CJK JP" in family and "Hiragino Sans" in family
        page.screenshot(path=str(ARTIFACTS / "war-room-japanese.png"), full_page=True)
        page.click("form.logout button[type=submit]")
        expect(page).to_have_url(re.compile(r"/login$"))
        page.goto(f"{guarded_live.url}/")
        expect(page).to_have_url(re.compile(r"/login\?next=/$"))
        browser.close()


def test_the_postmortem_draft_is_rejected_then_edited_and_approved_by_clicks(
    live: LiveServer, synthetic: SyntheticDataset
) -> None:
    from playwright.sync_api import expect, sync_playwright

    posted = httpx.post(
        f"{live.url}/v1/alerts/alertmanager", content=case_body(synthetic), headers=BEARER
    )
    row = posted.json()["inbox_id"]
    done = wait_until(lambda: _triaged(live.url, row))
    incident = done["incident_id"]
    cause = {"by": "aki", "service": "payment", "fault_type": "bad-deploy", "change_id": "chg-9"}
    assert httpx.post(f"{live.url}/v1/incidents/{incident}/resolve", json=cause).status_code == 200

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 2400})
        page.goto(f"{live.url}/incidents/{incident}")
        page.fill("#me", "aki")
        draft = page.locator("article.draft", has=page.locator("strong", has_text="postmortem"))
        expect(draft.locator("textarea.draft-body")).to_contain_text("## Root cause and trigger")
        expect(draft.locator("textarea.draft-body")).to_contain_text("chg-9")
        draft.locator("input.reason").fill("the timeline needs the customer report")
        draft.locator("button.reject").click()
        expect(draft.locator(".badge")).to_have_text("rejected", timeout=30_000)

        page.locator("button[data-language=ja]").click()  # a new revision, in Japanese
        expect(draft.locator(".badge")).to_have_text("pending", timeout=30_000)
        body = draft.locator("textarea.draft-body")
        expect(body).to_contain_text("## 根本原因ときっかけ")
        body.fill(body.input_value() + "\n- お客様からの報告が最初でした。 [TL-1]\n")
        page.screenshot(path=str(ARTIFACTS / "war-room-postmortem.png"), full_page=True)
        draft.locator("button.edit").click()
        expect(draft.locator(".badge")).to_contain_text("outbox", timeout=30_000)
        expect(draft.locator("pre.draft-body")).to_contain_text("お客様からの報告が最初でした")
        expect(page.locator(".badge.status-closed")).to_be_visible()
        page.goto(f"{live.url}/overview")
        expect(page.locator(".top1")).to_have_text("100%")
        page.screenshot(path=str(ARTIFACTS / "war-room-overview.png"), full_page=True)
        browser.close()


def _triaged(url: str, row: int) -> dict[str, object] | None:
    item: dict[str, object] = httpx.get(f"{url}/v1/inbox/{row}").json()
    return item if item["state"] == "done" else None
