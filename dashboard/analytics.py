"""Pieces the marketing dashboards (Campaign analytics, Sponsor ROI) draw alike: the one
date range they share and the line saying how fresh the rollups are, with its button."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import streamlit as st

from core.analytics.rollups import refresh_rollups
from core.db import Actor
from dashboard.runtime import show_error

# One session key for both dashboards, so the range a person picks follows them across.
WINDOW = "analytics_window"
# The last 30 days when a person first opens the marketing dashboards.
DEFAULT_DAYS = 30


def date_range(container) -> date | tuple[date, ...]:
    """The shared "Dates" picker drawn in `container`; what st.date_input returns (a
    one-day tuple while the person has picked only the first day)."""
    today = datetime.now(UTC).date()
    return container.date_input(
        "Dates",
        value=(today - timedelta(days=DEFAULT_DAYS - 1), today),
        max_value=today,
        key=WINDOW,
        persist_state="session",
    )


def chosen_range(picked: date | tuple[date, ...]) -> tuple[date, date]:
    """The first and last day `date_range` returned; while only the first is picked, asks
    for the last one and stops the page."""
    if not isinstance(picked, tuple) or len(picked) != 2:
        st.info("Choose the last day of the range too.")
        st.stop()
    return picked[0], picked[1]


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
