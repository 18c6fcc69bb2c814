"""Defect 9: the first administrator's credentials are printed when the server starts, not
after the first browser visit. The real `streamlit run dashboard/server.py` process (the
README's command) on an empty database: its output is read, and nothing connects to it,
until the credentials have appeared; then they sign in. The same command brings the API
up beside the dashboard (its port printed), reached over HTTP at /v1."""

from __future__ import annotations

import contextlib
import queue
import re
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

import httpx

from core.config import PROJECT_ROOT
from tests.browser import free_port, run_setup, server_env, wait_healthy

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory

CHECK = """
import sys
from core.auth import sign_in_with_password
who = sign_in_with_password(sys.argv[1], sys.argv[2])
print(who.must_change_password, sorted(who.roles))
"""


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        into.put(line)


def _get_when_up(url: str, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=10)
        except httpx.HTTPError:
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(0.3)


def test_the_server_prints_the_first_admins_credentials_before_anyone_connects(
    databases: DatabaseFactory,
) -> None:
    api_port = free_port()
    env = {
        **server_env(databases.create("fashionistas_launch")),
        "FASHIONISTAS_API_PORT": str(api_port),
    }
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "dashboard/server.py",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    printed: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while not any("password:" in line for line in printed):
            assert process.poll() is None, "".join(printed)
            assert time.monotonic() < deadline, "no credentials within 3 minutes:\n" + "".join(
                printed
            )
            with contextlib.suppress(queue.Empty):
                printed.append(lines.get(timeout=1))
        text = "".join(printed)
        email = re.search(r"email: +(\S+)", text).group(1)  # type: ignore[union-attr]
        password = re.search(r"password: +(\S+)", text).group(1)  # type: ignore[union-attr]
        # Only now does anything connect: the server is up and the credentials work.
        wait_healthy(f"http://127.0.0.1:{port}", process, timeout=120)  # type: ignore[arg-type]
        assert run_setup(env, CHECK, email, password) == "True ['admin']"
        # The API beside it: its port printed, /v1 answering (a problem document without
        # a key), its OpenAPI document served.
        deadline = time.monotonic() + 60
        while f"127.0.0.1:{api_port}/v1" not in "".join(printed):
            assert time.monotonic() < deadline, "no API address printed:\n" + "".join(printed)
            with contextlib.suppress(queue.Empty):
                printed.append(lines.get(timeout=1))
        api = f"http://127.0.0.1:{api_port}"
        answer = _get_when_up(f"{api}/v1/events")
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert httpx.get(f"{api}/openapi.json", timeout=10).json()["openapi"].startswith("3.1")
        text = "".join(printed)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert text.count(password) == 1
