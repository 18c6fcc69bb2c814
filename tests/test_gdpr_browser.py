"""A data-subject request end to end in a real browser, with the real server's own
background-job worker thread: intake, export with its polled progress and the download,
then the erasure."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest

from core.config import PROJECT_ROOT
from tests.browser import (
    browser,
    needs_chromium,
    run_setup,
    server_env,
    set_up_admin,
    streamlit_server,
)

__all__ = ["browser"]  # a fixture, used by name

SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "data-requests.png"
PASSWORD = "gdpr-browser-password-42"
SUBJECT = "browser.subject@example.com"
pytestmark = needs_chromium

# After the first admin is set up: a person to erase, with a profile, as the owner.
PERSON = """
import sys
from sqlalchemy import text
from core.db import get_owner_engine

with get_owner_engine().begin() as c:
    user = c.execute(
        text("INSERT INTO users (email, full_name, phone_number, user_type, status)"
             " VALUES (:e, 'Browser Subject', '+44 20 7946 0958', 'attendee', 'active')"
             " RETURNING id"),
        {"e": sys.argv[1]},
    ).scalar_one()
    c.execute(text("INSERT INTO user_profiles (user_id, bio) VALUES (:u, 'Likes tweed')"),
              {"u": user})
print(user)
"""


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(base URL, admin email) of a dashboard whose worker thread is on."""
    env = server_env(databases.create("fashionistas_gdpr_browser"))
    env["FASHIONISTAS_WORKER"] = "on"
    env["FASHIONISTAS_EXPORT_DIR"] = str(tmp_path_factory.mktemp("exports"))
    email = set_up_admin(env, PASSWORD)
    run_setup(env, PERSON, SUBJECT)
    with streamlit_server(env, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url, email


def test_a_request_from_intake_to_erasure_in_a_real_browser(server, browser) -> None:
    from playwright.sync_api import expect

    url, email = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{url}/data_requests", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Data requests")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("No requests match")).to_be_visible(timeout=30_000)

        page.get_by_role("tab", name="New request").click()
        page.get_by_label("Subject's email").fill(SUBJECT)
        page.get_by_label("Request type").click()
        page.get_by_role("option", name="erasure").click()
        page.get_by_label("Identity verified by").click()
        page.get_by_role("option", name="ID document checked").click()
        page.get_by_role("button", name="Record request").click()
        expect(page.get_by_text(f"Request recorded for {SUBJECT}")).to_be_visible(timeout=30_000)
        page.get_by_role("tab", name="Requests").click()
        expect(page.get_by_text(f"Erasure request · {SUBJECT}")).to_be_visible(timeout=30_000)

        page.get_by_role("button", name="Start processing").click()
        expect(page.get_by_text("The request is being processed.")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Build the export").click()
        # The server's worker thread runs the job; the fragment polls until it is done.
        download_button = page.get_by_role("button", name="Download the bundle (zip)")
        expect(download_button).to_be_visible(timeout=90_000)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        with page.expect_download() as caught:
            download_button.click()
        bundle = zipfile.ZipFile(io.BytesIO(caught.value.path().read_bytes()))
        assert {"manifest.json", "account.json", "account.csv"} <= set(bundle.namelist())
        assert SUBJECT in bundle.read("account.json").decode()

        page.get_by_role("button", name="Erase this person").click()
        page.get_by_role("button", name="Yes, erase this person").click()
        expect(page.get_by_text("The person is erased")).to_be_visible(timeout=60_000)
    finally:
        page.close()
