"""The webhook tests' world: a receiver process and a dispatcher over the module database.

- `Receiver`: `tests/webhook_receiver.py` as a subprocess on 127.0.0.1 (its own port, kept
  across `stop()` / `start()`), with its secrets file; `deliveries()` asks the process
  what it received, `wait_for(n)` polls until n messages arrived.
- `fast_retries` (fixture, autouse where imported): private addresses allowed, retries
  after fractions of a second, a short lease.
- `dispatch_until(predicate)`: dispatcher rounds until `predicate()` holds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.config import PROJECT_ROOT
from core.webhooks.config import DispatchConfig
from core.webhooks.dispatcher import Dispatcher, reset_process_dispatcher

FAST = {
    "FASHIONISTAS_WEBHOOKS_ALLOW_PRIVATE": "1",
    "FASHIONISTAS_WEBHOOKS_RETRY_SCHEDULE": "0.2,0.3,0.5,0.5,1,1,1,1,1,1,1,1",
    "FASHIONISTAS_WEBHOOKS_LEASE_SECONDS": "3",
    "FASHIONISTAS_WEBHOOKS_TIMEOUT_SECONDS": "5",
}


@pytest.fixture(name="fast_retries")
def fast_retries_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    reset_process_dispatcher()
    yield
    reset_process_dispatcher()


class Receiver:
    """A receiver process; `url` stays the same across restarts."""

    def __init__(self, folder: Path, *, delay: float = 0.0, status: int = 204):
        self.secrets = folder / "secrets.txt"
        self.secrets.write_text("")
        self.delay, self.status = delay, status
        self.port = 0
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def trust(self, *secrets: str) -> None:
        self.secrets.write_text("\n".join(secrets) + "\n")

    def start(self) -> Receiver:
        command = [
            sys.executable,
            "-m",
            "tests.webhook_receiver",
            "--port",
            str(self.port),
            "--secrets",
            str(self.secrets),
            "--delay",
            str(self.delay),
            "--status",
            str(self.status),
        ]
        deadline = time.monotonic() + 10
        while True:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
            )
            assert self.process.stdout is not None
            line = self.process.stdout.readline()
            if line.startswith("PORT "):
                self.port = int(line.split()[1])
                return self
            # The old port may linger a moment after a stop.
            self.process.wait()
            if time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def deliveries(self) -> list[dict[str, Any]]:
        return httpx.get(f"http://127.0.0.1:{self.port}/_deliveries", timeout=5).json()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.deliveries()
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.1)


@pytest.fixture(name="receiver")
def receiver_fixture(tmp_path: Path) -> Iterator[Receiver]:
    r = Receiver(tmp_path).start()
    yield r
    r.stop()


def dispatcher(engine: Any, worker_id: str | None = None) -> Dispatcher:
    """A dispatcher of this process over `engine`, with the configuration of now."""
    return Dispatcher(
        engine_factory=lambda: engine, worker_id=worker_id, config=DispatchConfig.from_env()
    )


def dispatch_until(d: Dispatcher, predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d.run_round()
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def worker_process(database_url: str, *args: str) -> subprocess.Popen[bytes]:
    """`python -m core worker` on `database_url`, with the fast settings."""
    env = {**os.environ, **FAST, "DATABASE_URL": database_url, "FASHIONISTAS_WORKER": "off"}
    env.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.Popen(
        [sys.executable, "-m", "core", "worker", "--poll", "0.1", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
