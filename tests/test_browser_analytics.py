"""The marketing dashboards in a real browser: Sponsor ROI and Campaign analytics drawn by
`streamlit run` in Debian's chromium on a scratch database with the small demo; the
screenshots are saved as test artifacts (test-artifacts/sponsor-roi.png,
campaign-analytics.png)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from core.config import PROJECT_ROOT
from tests.browser import browser, needs_chromium, server_env, set_up_admin, streamlit_server

__all__ = ["browser"]  # a fixture, used by name

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
PASSWORD = "browser-analytics-password-42"
pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[tuple[str, str]]:
    env = server_env(databases.create("fashionistas_browser_analytics"))
    email = set_up_admin(env, PASSWORD, demo=True)
    with streamlit_server(env, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url, email


def test_the_marketing_dashboards_draw_their_charts_in_a_browser(server, browser) -> None:
    from playwright.sync_api import expect

    url, email = server
    page = browser.new_page(viewport={"width": 1440, "height": 1800})
    try:
        page.goto(f"{url}/sponsor_roi", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        expect(page.get_by_role("heading", name="Sponsor ROI")).to_be_visible(timeout=60_000)
        charts = page.get_by_test_id("stPlotlyChart")
        expect(charts.first).to_be_visible(timeout=60_000)
        expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
        # Five charts, each drawn by plotly: ranking, events, trend, tiers, benefits.
        expect(charts.nth(4)).to_be_attached(timeout=60_000)
        expect(page.locator(".js-plotly-plot").nth(4)).to_be_attached(timeout=60_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(1_500)  # plotly's transitions
        page.screenshot(path=str(ARTIFACTS / "sponsor-roi.png"), full_page=True)

        menu = page.get_by_test_id("stSidebarNav")
        more = menu.get_by_text(re.compile(r"View \d+ more"))
        if more.count():  # Streamlit folds a long menu
            more.click()
        menu.get_by_text("Campaign analytics", exact=True).click()
        expect(page.get_by_role("heading", name="Campaign analytics")).to_be_visible(timeout=60_000)
        expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible(timeout=60_000)
        expect(page.locator(".js-plotly-plot").nth(6)).to_be_attached(timeout=60_000)
        page.wait_for_timeout(1_500)
        page.screenshot(path=str(ARTIFACTS / "campaign-analytics.png"), full_page=True)
    finally:
        page.close()
