"""Serving the API: `python -m core api` (alone) and beside the dashboard.

`serve()` runs uvicorn in the foreground. `start_beside_dashboard()` is what the
dashboard's server calls once its database is prepared: the API as a child process
(`python -m core api`) on FASHIONISTAS_API_PORT (default 8000; `0` or `off`: none), so
it has its own event loop and connection pool and scales the same way as when run alone.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys

from core.config import PROJECT_ROOT

DEFAULT_PORT = 8000


def api_port() -> int | None:
    """FASHIONISTAS_API_PORT: the port of the API beside the dashboard, None when off."""
    raw = (os.environ.get("FASHIONISTAS_API_PORT") or str(DEFAULT_PORT)).strip().lower()
    if raw in ("0", "off", "no", "false"):
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"FASHIONISTAS_API_PORT must be a port number or off, not {raw!r}")
    return int(raw)


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, workers: int = 1) -> None:
    """Run the API with uvicorn until interrupted."""
    import uvicorn

    print(f"API listening on http://{host}:{port}/v1 (docs: http://{host}:{port}/docs)", flush=True)
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=os.environ.get("FASHIONISTAS_API_LOG_LEVEL", "warning"),
        access_log=False,
        # The limit of header bytes and concurrent connections a client can hold open.
        limit_concurrency=1000,
        timeout_keep_alive=30,
    )


_child: subprocess.Popen[bytes] | None = None


def start_beside_dashboard(host: str = "127.0.0.1") -> int | None:
    """Start `python -m core api` as a child process; returns its port (None when off).
    The child inherits the environment, so it reaches the same database (DATABASE_URL or
    the embedded server, already running)."""
    global _child
    port = api_port()
    if port is None:
        print("API off (FASHIONISTAS_API_PORT=off)", flush=True)
        return None
    if _child is not None and _child.poll() is None:
        return port
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    _child = subprocess.Popen(
        [sys.executable, "-m", "core", "api", "--host", host, "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
    )
    atexit.register(stop_beside_dashboard)
    return port


def stop_beside_dashboard(timeout: float = 10.0) -> None:
    global _child
    child, _child = _child, None
    if child is None or child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
