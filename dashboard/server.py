"""The dashboard's server: `streamlit run dashboard/server.py`.

Streamlit runs a page script (dashboard/app.py) only when a browser session connects, so
a database prepared there would show the first administrator's one-time password only
after someone opened the page. `st.App`'s lifespan (Streamlit's ASGI entry point) runs
once when the server starts, before it accepts a connection: it prepares the database
(embedded server, migrations, the first admin, whose credentials it prints, and the demo
data) and starts the background worker there, and then the HTTP API beside it (a child
`python -m core api` on FASHIONISTAS_API_PORT, default 8000; `off`: none), then serves
dashboard/app.py as before.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

# `streamlit run dashboard/server.py` puts dashboard/ on sys.path, not the project root.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
import streamlit as st  # noqa: E402

from api.server import start_beside_dashboard, stop_beside_dashboard  # noqa: E402
from core.bootstrap import prepare_database  # noqa: E402
from core.jobs import start_in_process, stop_in_process  # noqa: E402


def _prepare() -> None:
    prepare_database()
    # One background-job worker thread per server process (FASHIONISTAS_WORKER=off leaves
    # it to `python -m core worker`).
    start_in_process()
    # After the database is prepared: the API process only attaches to it.
    port = start_beside_dashboard(os.environ.get("FASHIONISTAS_API_HOST") or "127.0.0.1")
    if port is not None:
        print(f"API: http://127.0.0.1:{port}/v1 (docs at /docs)", flush=True)


@asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    # Blocking database work, off the event loop; the server listens only after it.
    await anyio.to_thread.run_sync(_prepare)
    try:
        yield
    finally:
        await anyio.to_thread.run_sync(stop_in_process)
        await anyio.to_thread.run_sync(stop_beside_dashboard)


app = st.App("app.py", lifespan=lifespan)
