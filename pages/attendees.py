"""Attendees: who is coming to an event, seat by seat; searchable; CSV and Excel."""

from __future__ import annotations

import re

import streamlit as st

from core.services.attendees import attendee_table, list_attendees
from core.services.orders import list_order_events
from dashboard import session
from dashboard.runtime import show_error
from dashboard.widgets import download_table, pick_event

ROW_LIMITS = (100, 500, 2000)
# The filters whose whole list the person asked to download (a big event's list is
# fetched only then, not on every rerun).
EXPORT = "attendees.export"

session.signed_in()
st.title("Attendees")
st.caption("Who is coming to an event: buyer, ticket type, seat, order and status.")

actor = session.actor()
try:
    events = list_order_events(actor)
except Exception as exc:
    show_error(exc)
    st.stop()
if not events:
    st.info(
        "No events to show: you see the attendees of the events you organise or work."
        " Create one on the Events page, or ask an event's organizer to add you to its staff."
    )
    st.stop()

event_id = pick_event(events, key="att_event")

controls = st.columns([3, 2, 1])
search = controls[0].text_input(
    "Search", key="att_search", placeholder="Buyer name, email or order number"
)
include_cancelled = controls[1].checkbox(
    "Include cancelled and refunded tickets", key="att_all", value=False
)
limit = controls[2].selectbox("Rows shown", ROW_LIMITS, index=1, key="att_limit")

try:
    attendees = list_attendees(
        actor, event_id, search=search, include_cancelled=include_cancelled, limit=limit
    )
except Exception as exc:
    show_error(exc)
    st.stop()

if not attendees.rows:
    if search.strip() or include_cancelled:
        st.info("No attendee matches. Check the spelling or clear the search.")
    else:
        st.info("No tickets sold for this event yet. Sales from the Box office page appear here.")
    st.stop()

figures = st.columns(2)
figures[0].metric("Tickets", f"{attendees.total_tickets:,}")
figures[1].metric("Rows", f"{attendees.total_rows:,}", help="One row per seat, or per item")
table = attendee_table(attendees.rows)
st.dataframe(
    table,
    hide_index=True,
    column_config={"Ordered at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
)

slug = re.sub(r"[^a-z0-9]+", "-", attendees.event_title.lower()).strip("-") or "event"
name = f"attendees-{slug}"
signature = (str(event_id), search.strip(), include_cancelled)
if not attendees.truncated:
    download_table(table, name, key="att_export", excel=True)
else:
    st.caption(
        f"Showing the first {len(attendees.rows):,} of {attendees.total_rows:,} rows. Search"
        " to narrow the list; the download holds all of them."
    )
    if st.session_state.get(EXPORT) == signature:
        try:
            everything = list_attendees(
                actor, event_id, search=search, include_cancelled=include_cancelled, limit=None
            )
        except Exception as exc:
            show_error(exc)
        else:
            download_table(attendee_table(everything.rows), name, key="att_export", excel=True)
    elif st.button(
        f"Prepare the whole list ({attendees.total_rows:,} rows) for download",
        key="att_prepare",
        icon=":material/download:",
    ):
        st.session_state[EXPORT] = signature
        st.rerun()
