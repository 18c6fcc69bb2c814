"""What the browser tests share: Debian's chromium through Playwright, and the real
`streamlit run dashboard/app.py` server on a scratch database.

Playwright cannot download its own browsers here, so .ci/run installs the distribution's
chromium; without it the browser tests skip, loudly.
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
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
MISSING = (
    "!!! BROWSER TEST SKIPPED: /usr/bin/chromium is missing. Install it with "
    "`apt-get install -y chromium` (.ci/run does this as root) !!!"
)
if not CHROMIUM.exists():
    # A skip alone is one letter in the progress line; the warnings summary is not missed.
    warnings.warn(MISSING, stacklevel=1)
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING)


def server_env(database_url: str) -> dict[str, str]:
    """The environment of a dashboard on `database_url` with password sign-in, no demo."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "FASHIONISTAS_DEMO": "0",
        "FASHIONISTAS_AUTH": "password",
        "PYTHONPATH": str(PROJECT_ROOT),
    }


def run_setup(env: dict[str, str], script: str, *args: str) -> str:
    """Run `script` in its own process (so this test process keeps its own engines) and
    return the last line it printed."""
    setup = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    return setup.stdout.strip().splitlines()[-1]


# Runs in its own process against the scratch database: migrate (which creates the first
# admin and prints its one-time password), load the small demo when asked (`--demo`),
# sign in and replace the password with the test's (argv[1]); prints the admin's email.
ADMIN_SETUP = """
import re
import sys
from contextlib import redirect_stdout
from io import StringIO

from core.auth import change_password, sign_in_with_password
from core.bootstrap import prepare_database
from core.db import get_owner_engine
from core.demo import load_demo

printed = StringIO()
with redirect_stdout(printed):
    report = prepare_database()
assert report.first_admin_created, "the scratch database already had users"
email = re.search(r"email: +(\\S+)", printed.getvalue()).group(1)
first_password = re.search(r"password: +(\\S+)", printed.getvalue()).group(1)
if "--demo" in sys.argv[2:]:
    load_demo(get_owner_engine(), scale="small")
identity = sign_in_with_password(email, first_password)
assert identity.must_change_password
change_password(identity.actor(user_agent="browser-test setup"), first_password, sys.argv[1])
print(email)
"""


def set_up_admin(env: dict[str, str], password: str, *, demo: bool = False) -> str:
    """Migrate the scratch database of `env`, give its first admin `password` (and load
    the small demo when `demo`); returns the admin's email."""
    return run_setup(env, ADMIN_SETUP, password, *(("--demo",) if demo else ()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
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


@contextmanager
def streamlit_server(
    env: dict[str, str],
    log: Path,
    *,
    port: int | None = None,
    extra_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """`streamlit run dashboard/app.py` on `port` (a free one by default) until the block
    ends; yields its base URL. Its output goes to `log`, shown when it fails to start."""
    port = port or free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false", *extra_args,
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_healthy(url, process, timeout=120)
            except RuntimeError as exc:
                raise AssertionError(f"{exc}\n{log.read_text()}") from exc
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian chromium, one per test module."""
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
