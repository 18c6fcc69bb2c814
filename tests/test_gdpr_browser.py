"""Data-subject requests end to end in a real browser, with the real server's own
background-job worker thread, on the small demo: intake, export with its polled progress
and the download, then the erasure; and the erasure of a demo customer whose phone other
people share (issue 15, defect 1): it stops with the matches, they are decided on the
page, and it completes."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text

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
REVIEW_SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "data-requests-matches.png"
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

# A demo customer whose phone other customers' accounts or orders hold too.
SHARED_PHONE = """
from sqlalchemy import text
from core.db import get_owner_engine

with get_owner_engine().connect() as c:
    email, phone = c.execute(text(
        "SELECT u.email, u.phone_number FROM users u WHERE u.user_type = 'attendee'"
        " AND u.phone_number IS NOT NULL AND NOT u.is_anonymized"
        " AND EXISTS (SELECT 1 FROM orders o WHERE o.billing_phone = u.phone_number"
        "             AND o.user_id IS DISTINCT FROM u.id)"
        " AND EXISTS (SELECT 1 FROM users v WHERE v.phone_number = u.phone_number"
        "             AND v.id <> u.id)"
        " ORDER BY u.email LIMIT 1")).one()
print(email, phone, sep="|")
"""


@dataclass(frozen=True)
class Server:
    url: str
    admin: str
    database_url: str
    customer: str  # a demo customer whose phone others share
    phone: str


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[Server]:
    """A dashboard on the small demo whose worker thread is on."""
    database_url = databases.create("fashionistas_gdpr_browser")
    env = server_env(database_url)
    env["FASHIONISTAS_WORKER"] = "on"
    env["FASHIONISTAS_EXPORT_DIR"] = str(tmp_path_factory.mktemp("exports"))
    email = set_up_admin(env, PASSWORD, demo=True)
    run_setup(env, PERSON, SUBJECT)
    customer, phone = run_setup(env, SHARED_PHONE).split("|")
    with streamlit_server(env, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield Server(url, email, database_url, customer, phone)


def _sign_in(page, server: Server) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.url}/data_requests", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
    page.get_by_label("Email").fill(server.admin)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Data requests")).to_be_visible(timeout=60_000)


def _record_erasure_request(page, subject: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="New request").click()
    page.get_by_label("Subject's email").fill(subject)
    page.get_by_label("Request type").click()
    page.get_by_role("option", name="erasure").click()
    page.get_by_label("Identity verified by").click()
    page.get_by_role("option", name="ID document checked").click()
    page.get_by_role("button", name="Record request").click()
    expect(page.get_by_text(f"Request recorded for {subject}")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Requests").click()
    expect(page.get_by_text(f"Erasure request · {subject}")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Start processing").click()
    expect(page.get_by_text("The request is being processed.")).to_be_visible(timeout=30_000)


def _export_and_download(page, subject: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Build the export").click()
    # The server's worker thread runs the job; the fragment polls until it is done.
    download_button = page.get_by_role("button", name="Download the bundle (zip)")
    expect(download_button).to_be_visible(timeout=90_000)
    with page.expect_download() as caught:
        download_button.click()
    bundle = zipfile.ZipFile(io.BytesIO(caught.value.path().read_bytes()))
    assert {"manifest.json", "account.json", "account.csv"} <= set(bundle.namelist())
    assert subject in bundle.read("account.json").decode()


def _complete(page) -> None:
    page.get_by_role("button", name="Complete erasure").click()
    page.get_by_role("button", name="Yes, complete erasure").click()


def test_a_request_from_intake_to_erasure_in_a_real_browser(server: Server, browser) -> None:
    from playwright.sync_api import expect

    url, email = server.url, server.admin
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{url}/data_requests", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Data requests")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Overdue").first).to_be_visible(timeout=30_000)

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

        _complete(page)
        expect(page.get_by_text("The person is erased")).to_be_visible(timeout=60_000)
    finally:
        page.close()


def test_a_demo_customer_whose_phone_others_share_is_erased_to_completion(
    server: Server, browser
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    try:
        _sign_in(page, server)
        _record_erasure_request(page, server.customer)
        _export_and_download(page, server.customer)

        # The scan finds the number in other people's records: it stops, lists them.
        _complete(page)
        expect(page.get_by_text("Erasure stopped and nothing was erased")).to_be_visible(
            timeout=120_000
        )
        expect(page.get_by_text("billing_phone").first).to_be_visible()
        expect(page.get_by_text("still need a decision")).to_be_visible()
        request_id = _erasure_request(server)
        matches = _matches(server, request_id)
        assert matches and all(decision is None for *_, decision in matches)

        # One of them was the customer's after all: erase it, with a note.
        choose = page.get_by_role("combobox", name="Or these matches")
        choose.click()
        choose.press_sequentially("#1 ")
        page.get_by_role("option", name=re.compile(r"^#1 ")).click()
        page.keyboard.press("Escape")
        page.get_by_text("Erase: it is this person's").click()
        page.get_by_label("Reason (required to keep: whose record it is)").fill(
            "She confirmed this number was hers."
        )
        page.get_by_role("button", name="Record decision").click()
        expect(page.get_by_text("1 decision(s) recorded.")).to_be_visible(timeout=30_000)

        # The others are other people's: keep them all, with the reason. Until the run
        # that recorded the decision ends, its stale form is still on the page beside
        # the new one.
        expect(page.locator('[data-testid="stElementContainer"][data-stale="true"]')).to_have_count(
            0, timeout=30_000
        )
        page.get_by_text("All undecided matches").click()
        page.get_by_text("Keep: someone else's record").click()
        page.get_by_label("Reason (required to keep: whose record it is)").fill(
            "Other customers share this number (family, box office)."
        )
        page.get_by_role("button", name="Record decision").click()
        expect(page.get_by_text(f"{len(matches) - 1} decision(s) recorded.")).to_be_visible(
            timeout=30_000
        )
        REVIEW_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(REVIEW_SCREENSHOT), full_page=True)

        _complete(page)
        expect(page.get_by_text("The person is erased")).to_be_visible(timeout=120_000)
        expect(page.get_by_text(f"{len(matches) - 1} match(es) kept, 1 erased")).to_be_visible()
    finally:
        page.close()

    decided = _matches(server, request_id)
    kept = {(t, k, c) for t, k, c, d in decided if d == "keep"}
    erased = {(t, k, c) for t, k, c, d in decided if d == "erase"}
    assert len(erased) == 1 and len(kept) == len(decided) - 1
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as c:
            status = c.execute(
                text("SELECT status FROM data_subject_requests WHERE id = :r"),
                {"r": request_id},
            ).scalar_one()
            left = {
                tuple(r)
                for r in c.execute(
                    text("SELECT table_name, record_key, column_name FROM gdpr_scan_rows(:t, :k)"),
                    {"t": [server.customer, server.phone], "k": ["email", "phone"]},
                )
            }
    finally:
        engine.dispose()
    assert status == "completed"
    # The proof: the number is left only where someone decided to keep it.
    assert left <= kept and not (left & erased)


def _erasure_request(server: Server) -> object:
    """The customer's erasure request (its subject_email is anonymised once it is done)."""
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as c:
            return c.execute(
                text(
                    "SELECT id FROM data_subject_requests"
                    " WHERE request_type = 'erasure' AND lower(subject_email) = :e"
                ),
                {"e": server.customer.lower()},
            ).scalar_one()
    finally:
        engine.dispose()


def _matches(server: Server, request_id: object) -> list[tuple[str, str, str, str | None]]:
    """The matches the scan recorded for this request (the demo has requests of its own)."""
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as c:
            return [
                tuple(r)
                for r in c.execute(
                    text(
                        "SELECT m.table_name, m.record_key, m.column_name, m.decision"
                        " FROM data_subject_request_matches m"
                        " WHERE m.request_id = :r ORDER BY m.found_at, m.id"
                    ),
                    {"r": request_id},
                )
            ]
    finally:
        engine.dispose()
