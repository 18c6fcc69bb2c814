"""The real server in a real browser: `streamlit run dashboard/app.py` driven by Chromium.

The server runs as a subprocess on a free port against a scratch database migrated without
demo data, where a setup process (also a subprocess, so this test process keeps its own
engine) signs the first administrator in through core.auth and gives them a password the
test knows. Playwright drives Debian's chromium: Playwright's own browser download is not
available here, so .ci/run installs the distribution's package.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.config import PROJECT_ROOT
from tests.browser import browser, needs_chromium, server_env, set_up_admin, streamlit_server

__all__ = ["browser"]  # a fixture, used by name

# docs/screenshots/sign-in.png is a copy of this, taken by hand when the page changes.
SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "sign-in.png"
PASSWORD = "browser-test-password-42"
pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(base URL, admin email) of a running dashboard on a scratch database."""
    env = server_env(databases.create("fashionistas_browser"))
    email = set_up_admin(env, PASSWORD)
    with streamlit_server(env, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url, email


def test_sign_in_with_a_password_in_a_real_browser(server, browser) -> None:
    from playwright.sync_api import expect

    url, email = server
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        # A deep link while signed out shows the sign-in form, and opens after sign-in.
        page.goto(f"{url}/users", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
        page.get_by_label("Email").fill(email)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

        page.get_by_label("Password", exact=True).fill("not the password at all")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Email or password is wrong.")).to_be_visible(timeout=30_000)

        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Users & roles")).to_be_visible(timeout=60_000)
        expect(page.get_by_text(email).first).to_be_visible()

        page.goto(url, wait_until="domcontentloaded")
        # A new browser tab is a new Streamlit session: signed out again.
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        # The admin's menu: its sections and pages, and no hidden stand-in.
        menu = page.get_by_test_id("stSidebarNav")
        for entry in ("Overview", "Users & roles", "My account"):
            expect(menu.get_by_text(entry, exact=True)).to_be_visible()
        expect(menu.get_by_text("Set a new password")).to_have_count(0)
    finally:
        page.close()
