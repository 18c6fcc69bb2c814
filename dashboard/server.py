"""The dashboard's server: `streamlit run dashboard/server.py`.

Streamlit runs a page script (dashboard/app.py) only when a browser session connects, so
a database prepared there would show the first administrator's one-time password only
after someone opened the page. `st.App`'s lifespan (Streamlit's ASGI entry point) runs
once when the server starts, before it accepts a connection: it prepares the database
(embedded server, migrations, the first admin, whose credentials it prints, and the demo
data) and starts the background worker there, then serves dashboard/app.py as before.
"""

from __future__ import annotations

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

from core.bootstrap import prepare_database  # noqa: E402
from core.jobs import start_in_process, stop_in_process  # noqa: E402


def _prepare() -> None:
    prepare_database()
    # One background-job worker thread per server process (FASHIONISTAS_WORKER=off leaves
    # it to `python -m core worker`).
    start_in_process()


@asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    # Blocking database work, off the event loop; the server listens only after it.
    await anyio.to_thread.run_sync(_prepare)
    try:
        yield
    finally:
        await anyio.to_thread.run_sync(stop_in_process)


app = st.App("app.py", lifespan=lifespan)
