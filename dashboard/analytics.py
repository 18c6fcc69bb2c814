"""Pieces the marketing dashboards (Campaign analytics, Sponsor ROI) draw alike: the one
date range they share and the line saying how fresh the rollups are, with its button."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import streamlit as st

from core.analytics.rollups import refresh_rollups
from core.db import Actor
from dashboard.runtime import show_error

# One pair of session keys for both dashboards, so the range a person picks follows them.
FIRST_DAY = "analytics_from"
LAST_DAY = "analytics_to"
# The last 30 days when a person first opens the marketing dashboards.
DEFAULT_DAYS = 30
# Bounds wide enough never to refuse a typed day silently (a date input drops a day
# outside its bounds without a word); the core refuses a range too long, with the rule.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


def date_range(container) -> tuple[date, date]:
    """The shared "From" and "To" days drawn side by side in `container`, as typed or
    picked (each applies on Enter or when picked). Not checked here: the page builds a
    core.analytics DateWindow from them, which refuses an end before the start with a
    message, so nothing is swapped behind the person's back."""
    today = datetime.now(UTC).date()
    first_column, last_column = container.columns(2, gap="small")
    first = first_column.date_input(
        "From",
        value=today - timedelta(days=DEFAULT_DAYS - 1),
        min_value=EARLIEST,
        max_value=LATEST,
        key=FIRST_DAY,
        persist_state="session",
    )
    last = last_column.date_input(
        "To",
        value=today,
        min_value=EARLIEST,
        max_value=LATEST,
        key=LAST_DAY,
        persist_state="session",
    )
    return first, last


def rollup_status(
    actor: Actor,
    refreshed_at: datetime | None,
    used_rollups: bool,
    *,
    key: str,
    flash: str,
) -> None:
    """When the rollups were last refreshed and whether this range read them, beside a
    "Refresh rollups" button (widget key `key`); after a refresh the page reruns with the
    time in `st.session_state[flash]`, for the page to show."""
    status = st.columns([5, 1])
    if refreshed_at is None:
        status[0].caption(
            "Rollups have never been refreshed: every figure is summed from the daily rows."
            " Refresh them to speed the dashboards up."
        )
    else:
        status[0].caption(
            f"Rollups last refreshed {refreshed_at:%Y-%m-%d %H:%M} UTC"
            + (
                "; what they cover is read from them, newer rows from the daily tables."
                if used_rollups
                else "; this range is read from the daily rows."
            )
        )
    if status[1].button("Refresh rollups", key=key, icon=":material/refresh:"):
        with st.spinner("Refreshing the monthly rollups…"):
            try:
                at = refresh_rollups(actor)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state[flash] = f"Rollups refreshed at {at:%H:%M:%S} UTC."
                st.rerun()
