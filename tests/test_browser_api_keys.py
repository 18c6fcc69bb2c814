"""Admin → API keys in a real browser: `streamlit run dashboard/app.py` on a scratch
database, the first admin signs in, creates a key for themself, sees its secret once (and
not after a reload), and revokes it after confirming; the key then authenticates no more."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser import (
    browser,
    needs_chromium,
    run_setup,
    server_env,
    set_up_admin,
    streamlit_server,
)

__all__ = ["browser"]  # a fixture, used by name

PASSWORD = "browser-api-keys-password-3"
pytestmark = needs_chromium

CHECK = """
import sys
from core.api_keys import authenticate
from core.errors import Unauthenticated
try:
    p = authenticate(sys.argv[1], method="GET", path="/", ip_address=None, user_agent=None)
    print("accepted", p.scopes)
except Unauthenticated:
    print("refused")
"""
KEY = re.compile(r"fk_live_[a-z0-9]{8}_[A-Za-z0-9]{43}")


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[dict[str, str]]:
    env = server_env(databases.create("fashionistas_browser_keys"))
    email = set_up_admin(env, PASSWORD)
    with streamlit_server(env, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield {"url": url, "email": email, "env": env}  # type: ignore[dict-item]


def _open_signed_in(page, server) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server['url']}/api_keys", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
    page.get_by_label("Email").fill(server["email"])
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible(timeout=60_000)


def test_create_see_the_secret_once_and_revoke(server, browser) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        _open_signed_in(page, server)
        expect(page.get_by_text("No API keys yet")).to_be_visible(timeout=30_000)

        page.get_by_role("tab", name="Create a key").click()
        page.get_by_label("Name").fill("Ticket shop")
        page.get_by_label("Name").press("Tab")
        page.locator(".st-key-create_owner").get_by_role("combobox").click()
        page.get_by_role("option").filter(has_text=server["email"]).click()
        page.locator(".st-key-create_scopes").get_by_role("combobox").click()
        page.get_by_role("option", name="events:read").click()
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Create key").click()

        expect(page.get_by_text("will not be shown again")).to_be_visible(timeout=30_000)
        shown = page.locator("code").filter(has_text="fk_live_").first
        expect(shown).to_be_visible(timeout=30_000)
        match = KEY.search(shown.inner_text())
        assert match, shown.inner_text()
        secret = match.group(0)
        assert run_setup(server["env"], CHECK, secret) == "accepted ('events:read',)"

        # Shown once: opening the page again (a new browser session) no longer has it.
        _open_signed_in(page, server)
        expect(page.get_by_text("Revoke a key")).to_be_visible(timeout=30_000)
        assert secret not in page.content()

        page.get_by_role("button", name="Revoke key").click()
        expect(page.get_by_text("cannot be undone")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Yes, revoke").click()
        expect(page.get_by_text("Revoked Ticket shop")).to_be_visible(timeout=30_000)
        assert run_setup(server["env"], CHECK, secret) == "refused"
    finally:
        page.close()
