"""Admin → Webhooks in a real browser: `streamlit run dashboard/app.py` on a scratch
database with its in-process worker, the first admin signs in, creates an endpoint for a
receiver process, sees its secret once (and not after a reload), sends a test ping the
receiver verifies, and replays that delivery, which the worker sends again with the same
webhook id."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from tests.browser import (
    browser,
    needs_chromium,
    server_env,
    set_up_admin,
    streamlit_server,
)
from tests.webhook_world import Receiver

__all__ = ["browser"]  # a fixture, used by name

PASSWORD = "browser-webhooks-password-7"
pytestmark = needs_chromium
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]{44}")


@pytest.fixture(scope="module")
def receiver(tmp_path_factory) -> Iterator[Receiver]:
    r = Receiver(tmp_path_factory.mktemp("receiver")).start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[dict[str, str]]:
    env = server_env(databases.create("fashionistas_browser_hooks"))
    env.update(
        {
            "FASHIONISTAS_WEBHOOKS_ALLOW_PRIVATE": "1",
            "FASHIONISTAS_WORKER": "on",
            "FASHIONISTAS_WEBHOOKS_RETRY_SCHEDULE": "0.2,0.5,1",
        }
    )
    email = set_up_admin(env, PASSWORD)
    with streamlit_server(env, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield {"url": url, "email": email}


def _open_signed_in(page, server) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server['url']}/webhooks", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
    page.get_by_label("Email").fill(server["email"])
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible(timeout=60_000)


def test_create_see_the_secret_once_ping_and_replay(server, browser, receiver) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    try:
        _open_signed_in(page, server)
        expect(page.get_by_text("No webhook endpoint yet")).to_be_visible(timeout=30_000)
        page.get_by_label("Name", exact=True).first.fill("Ticket shop")
        page.get_by_label("URL", exact=True).first.fill(receiver.url)
        page.get_by_label("URL", exact=True).first.press("Tab")
        page.locator(".st-key-new_events").get_by_role("combobox").click()
        page.get_by_role("option", name="order.placed").click()
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Create endpoint").click()

        expect(page.get_by_text("shown this once")).to_be_visible(timeout=30_000)
        shown = page.locator("code").filter(has_text="whsec_").first
        expect(shown).to_be_visible(timeout=30_000)
        match = SECRET.search(shown.inner_text())
        assert match, shown.inner_text()
        secret = match.group(0)
        receiver.trust(secret)

        # Shown once: a new browser session no longer has it.
        _open_signed_in(page, server)
        expect(page.get_by_text("Manage an endpoint")).to_be_visible(timeout=30_000)
        assert secret not in page.content()

        page.get_by_role("button", name="Send test ping").click()
        expect(page.get_by_text("The endpoint answered HTTP 204")).to_be_visible(timeout=30_000)
        (first,) = receiver.deliveries()
        assert first["valid"] and first["body"]["type"] == "webhook.ping"

        page.get_by_role("tab", name="Deliveries").click()
        expect(page.get_by_role("button", name="Replay this delivery")).to_be_visible(
            timeout=30_000
        )
        page.get_by_role("button", name="Replay this delivery").click()
        expect(page.get_by_text("queued again (same webhook id)")).to_be_visible(timeout=30_000)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(receiver.deliveries()) < 2:
            time.sleep(0.25)
        got = receiver.deliveries()
        assert len(got) == 2 and got[1]["valid"]
        assert got[1]["webhook_id"] == first["webhook_id"]
    finally:
        page.close()
