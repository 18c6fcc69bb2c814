"""The API as a real process for the HTTP tests: `python -m core api` (uvicorn) on a free
port against a test module's secure database, reached with httpx.

The process gets the owner URL as DATABASE_URL and connects as the app role, the same
DATABASE_URL handling as the dashboard's (core.db.engine.app_url): row-level security
applies to everything it does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import Engine

from core.config import PROJECT_ROOT
from tests.browser import free_port


def database_url(owner: Engine) -> str:
    return owner.url.render_as_string(hide_password=False)


def api_env(owner: Engine, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(owner),
        "FASHIONISTAS_WORKER": "off",
        "PYTHONPATH": str(PROJECT_ROOT),
        **extra,
    }


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the API exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the API did not answer within {timeout:.0f} s:\n{log.read_text()}")


@contextmanager
def api_process(owner: Engine, log: Path, **env: str) -> Iterator[str]:
    """`python -m core api` on a free port until the block ends; yields its base URL."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "core", "api", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=api_env(owner, **env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process, log)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
