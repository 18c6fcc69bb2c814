"""The issue-15 UI fixes in a real browser: `streamlit run dashboard/app.py` on a scratch
database with the small demo, driven by Debian's chromium.

- Defect 10: the browser asks nothing of any server but ours on any page of the menu (a
  `:material/…:` favicon made it look up fonts.gstatic.com on every page).
- Defect 6: after adding a section on Venues → Sections and seats, that tab is still
  open, and the URL names it.
- Finding 10: a venue named as a link and an image shows that text; the page holds no
  link to and no image from the attacker's server.
- Defect 7: a negative price says "Price must be 0 or more." and the "Name is required."
  of the try before is gone.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.browser import browser, needs_chromium, server_env, set_up_admin, streamlit_server

__all__ = ["browser"]  # a fixture, used by name

PASSWORD = "browser-ui-password-42"
HOSTILE = "[click](http://evil.example) ![x](http://evil.example/x.png)"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[tuple[str, str, str]]:
    """(base URL, admin email, database URL) of a dashboard on the small demo."""
    database_url = databases.create("fashionistas_browser_ui")
    env = server_env(database_url)
    email = set_up_admin(env, PASSWORD, demo=True)
    with streamlit_server(env, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url, email, database_url


@pytest.fixture
def page(server, browser) -> Iterator[object]:
    """A signed-in admin's browser tab on the Overview, recording every request."""
    from playwright.sync_api import expect

    url, email, _ = server
    tab = browser.new_page(viewport={"width": 1440, "height": 1400})
    tab.requested = []  # type: ignore[attr-defined]
    tab.on("request", lambda request: tab.requested.append(request.url))  # type: ignore[attr-defined]
    try:
        tab.goto(url, wait_until="domcontentloaded")
        expect(tab.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
        tab.get_by_label("Email").fill(email)
        tab.get_by_label("Password", exact=True).fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        expect(tab.get_by_role("heading", name="Overview")).to_be_visible(timeout=60_000)
        yield tab
    finally:
        tab.close()


def _outside(urls: list[str]) -> list[str]:
    """The requests that leave this machine (data: and blob: URLs stay in the browser)."""
    return sorted(
        {
            u
            for u in urls
            if urlsplit(u).scheme not in ("data", "blob", "about")
            and urlsplit(u).hostname not in LOCAL_HOSTS
        }
    )


def _open(page, name: str) -> None:
    from playwright.sync_api import expect

    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name).first).to_be_visible(timeout=60_000)


def _check_the_sections_tab_stays_open(page) -> None:
    from playwright.sync_api import expect

    _open(page, "Venues")
    tab = page.get_by_role("tab", name="Sections and seats")
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    name = f"Mezzanine {uuid.uuid4().hex[:6]}"
    page.get_by_label("Section name").first.fill(name)
    page.get_by_role("button", name="Add section").click()
    expect(page.get_by_text(f"Added the section {name}")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("tab", name="Sections and seats")).to_have_attribute(
        "aria-selected", "true"
    )
    assert "venue_tab=Sections+and+seats" in page.url


def _check_a_venue_named_as_a_link_shows_as_text(page) -> None:
    from playwright.sync_api import expect

    _open(page, "Venues")
    # The subheader reads exactly what was typed, brackets and parentheses included.
    # (an invisible word joiner after "http" keeps the address from being linked)
    typed = re.compile(re.escape(HOSTILE).replace("http", "http\u2060?"))
    heading = page.get_by_test_id("stHeading").filter(has_text=typed)
    expect(heading.first).to_be_visible(timeout=30_000)
    expect(page.locator("a[href*='evil.example']")).to_have_count(0)
    expect(page.locator("img[src*='evil.example']")).to_have_count(0)


def _check_a_negative_price_says_the_rule(page) -> None:
    from playwright.sync_api import expect

    _open(page, "Ticket types")
    page.get_by_role("tab", name="Add a ticket type").click()
    panel = page.get_by_role("tabpanel", name="Add a ticket type")
    panel.get_by_role("button", name="Add ticket type").click()
    expect(page.get_by_text("Name is required.")).to_be_visible(timeout=30_000)

    panel.get_by_label("Name", exact=True).fill(f"Standing {uuid.uuid4().hex[:6]}")
    price = panel.get_by_label("Price ($)")
    price.fill("-5")
    price.press("Tab")
    panel.get_by_role("button", name="Add ticket type").click()
    expect(page.get_by_text("Price must be 0 or more.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Name is required.")).to_have_count(0)


def _check_every_page_stays_on_this_machine(page) -> None:
    from playwright.sync_api import expect

    menu = page.get_by_test_id("stSidebarNav")
    expect(menu.get_by_role("link", name="Users & roles")).to_be_visible()
    names = [n.strip().split("\n")[-1].strip() for n in menu.get_by_role("link").all_inner_texts()]
    assert len(names) >= 20, names
    for name in names:
        _open(page, name)
        page.wait_for_timeout(1_500)  # late requests: images, the favicon, plotly's
    assert not _outside(page.requested), _outside(page.requested)


def test_the_ui_fixes_in_a_real_browser(server, page) -> None:
    """One signed-in tab (a second tab of the same module would sign in anew): the
    venue named as a link, the tab kept after an action, the number refused with its
    rule, then every page of the menu with every request the browser made checked."""
    _, _, database_url = server
    libpq = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute("UPDATE venues SET name = %s || ' ' || name", (HOSTILE,))
    _check_a_venue_named_as_a_link_shows_as_text(page)
    _check_the_sections_tab_stays_open(page)
    _check_a_negative_price_says_the_rule(page)
    _check_every_page_stays_on_this_machine(page)
    assert not [u for u in page.requested if "evil.example" in u]
