"""Process-wide resources for the Streamlit app, cached once per server process."""

from __future__ import annotations

import logging
import uuid

import streamlit as st

from core.bootstrap import prepare_database, prepared_in_this_process
from core.db import Actor
from core.errors import DomainError
from dashboard.text import md

log = logging.getLogger("dashboard")


@st.cache_resource(
    show_spinner="Preparing the database (first start migrates and loads demo data)…"
)
def ensure_database() -> bool:
    """Migrate and seed once per process; later reruns hit the cache.

    dashboard/server.py does it when the server starts (and prints the first
    administrator's one-time password then); run as `streamlit run dashboard/app.py`
    (or under AppTest) it happens here, at the first visit.
    """
    if not prepared_in_this_process():
        prepare_database()
    return True


def current_actor() -> Actor:
    """The person using this browser session, as core services need to know them."""
    from dashboard.session import actor  # late: session imports show_error from here

    return actor()


def show_error(exc: Exception) -> None:
    """Show a known error's message; log anything else and show only a reference."""
    if isinstance(exc, DomainError):
        # A message may quote what the person typed (a name, a code): text, not Markdown.
        st.error(md(exc.message), icon=":material/error:")
        return
    reference = uuid.uuid4().hex[:8]
    log.exception("unexpected error, reference %s", reference, exc_info=exc)
    st.error(f"An unexpected error has occurred. Reference: {reference}", icon=":material/error:")
