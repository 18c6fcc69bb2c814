"""The real server in a real browser: `streamlit run dashboard/app.py` driven by Chromium.

The server runs as a subprocess on a free port against a scratch database migrated without
demo data, where a setup process (also a subprocess, so this test process keeps its own
engine) signs the first administrator in through core.auth and gives them a password the
test knows. Playwright drives Debian's chromium: Playwright's own browser download is not
available here, so .ci/run installs the distribution's package.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = PROJECT_ROOT / "docs" / "screenshots" / "sign-in.png"
PASSWORD = "browser-test-password-42"

MISSING = (
    "!!! BROWSER TEST SKIPPED: /usr/bin/chromium is missing. Install it with "
    "`apt-get install -y chromium` (.ci/run does this as root) !!!"
)
if not CHROMIUM.exists():
    # A skip alone is one letter in the progress line; the warnings summary is not missed.
    warnings.warn(MISSING, stacklevel=1)
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING)

# Runs in its own process against the scratch database: migrate (which creates the first
# admin and prints its one-time password), sign in with it and replace it with the test's.
SETUP = """
import re
import sys
from contextlib import redirect_stdout
from io import StringIO

from core.auth import change_password, sign_in_with_password
from core.bootstrap import prepare_database

printed = StringIO()
with redirect_stdout(printed):
    report = prepare_database()
assert report.first_admin_created, "the scratch database already had users"
email = re.search(r"email: +(\\S+)", printed.getvalue()).group(1)
first_password = re.search(r"password: +(\\S+)", printed.getvalue()).group(1)
identity = sign_in_with_password(email, first_password)
assert identity.must_change_password
change_password(identity.actor(user_agent="browser-test setup"), first_password, sys.argv[1])
print(email)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not become healthy within {timeout:.0f} s")


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(base URL, admin email) of a running dashboard on a scratch database."""
    env = {
        **os.environ,
        "DATABASE_URL": databases.create("fashionistas_browser"),
        "FASHIONISTAS_DEMO": "0",
        "FASHIONISTAS_AUTH": "password",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    setup = subprocess.run(
        [sys.executable, "-c", SETUP, PASSWORD],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    email = setup.stdout.strip().splitlines()[-1]

    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "dashboard/app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                _wait_healthy(url, process, timeout=120)
            except RuntimeError as exc:
                raise AssertionError(f"{exc}\n{log.read_text()}") from exc
            yield url, email
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


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
