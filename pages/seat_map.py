"""Seat map: every seat of an event's venue, coloured by its status for the event. Seats
chosen on the chart can be held, sold at the box office, blocked or unblocked."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.auth.permissions import EVENTS_MANAGE
from core.services.box_office import hold_seats, new_checkout_session_id, release_sale
from core.services.seat_map import (
    MapSeat,
    SeatMap,
    block_seats,
    get_seat_map,
    list_seat_map_events,
    unblock_seats,
)
from dashboard import session
from dashboard.charts import plot
from dashboard.registry import PAGES_DIR
from dashboard.runtime import show_error
from dashboard.widgets import show_flash

# Shared with pages/box_office.py (see there).
CHECKOUT_SESSION = "checkout.session_id"
SEATS_FOR_SALE = "checkout.seats"
# The widget's own state is dropped while another page shows, so the event is kept here.
EVENT = "seat_map.event_id"
FLASH = "seat_map.flash"

COLOURS = {
    "available": "#2e9e5b",
    "held": "#f0a202",
    "mine": "#7b3fe4",
    "sold": "#c8102e",
    "blocked": "#5c5c5c",
}
LEGEND = {
    "available": "Available",
    "held": "Held",
    "mine": "Held by you",
    "sold": "Sold",
    "blocked": "Blocked",
}
PAD = 14

identity = session.signed_in()
st.title("Seat map")
st.caption(
    "Drag a box or a lasso around seats, or click one, to choose them; then hold, sell,"
    " block or unblock them."
)

show_flash(FLASH)

actor = session.actor()
checkout_session = st.session_state.setdefault(CHECKOUT_SESSION, new_checkout_session_id())

search = st.text_input("Find an event", key="sm_search", placeholder="Title")
try:
    events = list_seat_map_events(actor, search=search, limit=50)
except Exception as exc:
    show_error(exc)
    st.stop()
if not events:
    st.info("No upcoming event with a seated venue matches.")
    st.stop()

by_id = {str(e.event_id): e for e in events}
remembered = st.session_state.get(EVENT)
if "sm_event" not in st.session_state and remembered in by_id:
    st.session_state["sm_event"] = remembered
picked = st.selectbox(
    "Event",
    tuple(by_id),
    format_func=lambda key: (
        f"{by_id[key].title} · {by_id[key].start_date:%Y-%m-%d} · {by_id[key].venue_name}"
        f" · {by_id[key].seats:,} seats"
        + ("" if by_id[key].status == "published" else f" · {by_id[key].status}")
    ),
    key="sm_event",
)
st.session_state[EVENT] = picked
event_id = uuid.UUID(picked)

try:
    seat_map = get_seat_map(actor, event_id, checkout_session)
except Exception as exc:
    show_error(exc)
    st.stop()

mine = sum(1 for s in seat_map.seats if s.held_by_me)
figures = st.columns(4)
figures[0].metric("Available", f"{seat_map.counts['available']:,}")
figures[1].metric(
    "Held", f"{seat_map.counts['held']:,}", f"{mine} by you" if mine else None, delta_color="off"
)
figures[2].metric("Sold", f"{seat_map.counts['sold']:,}")
figures[3].metric("Blocked", f"{seat_map.counts['blocked']:,}")
if seat_map.event_status != "published":
    st.warning(f"This event is {seat_map.event_status}: its seats are not on sale.")


def _kind(seat: MapSeat) -> str:
    return "mine" if seat.held_by_me else seat.status


def _status_text(seat: MapSeat) -> str:
    if seat.status == "held":
        until = f" until {seat.held_until:%H:%M}" if seat.held_until else ""
        return ("Held by you" if seat.held_by_me else "Held") + until
    if seat.status == "blocked":
        return f"Blocked: {seat.blocked_reason}" if seat.blocked_reason else "Blocked"
    return seat.status.capitalize()


def figure(seat_map: SeatMap) -> go.Figure:
    """One WebGL trace per status (the legend), section outlines and names as shapes.

    Built from the seat map alone, so the same statuses give the same figure: Streamlit
    keeps a chart's selection only while its figure is unchanged.
    """
    grouped: dict[str, list[MapSeat]] = {kind: [] for kind in COLOURS}
    for seat in seat_map.seats:
        grouped[_kind(seat)].append(seat)
    size = 9 if len(seat_map.seats) <= 1500 else 6
    fig = go.Figure()
    for kind, seats in grouped.items():
        if not seats and kind == "mine":
            continue
        # An empty status keeps its legend entry through one blank point.
        fig.add_trace(
            go.Scattergl(
                # Arrays, not lists: plotly validates lists item by item (10x slower at
                # 5,000 seats).
                x=np.array([s.x for s in seats] or [np.nan]),
                y=np.array([s.y for s in seats] or [np.nan]),
                mode="markers",
                name=f"{LEGEND[kind]} ({len(seats):,})",
                marker={"color": COLOURS[kind], "size": size, "symbol": "square"},
                customdata=np.array(
                    [
                        [
                            str(s.seat_id),
                            s.section,
                            s.row,
                            s.number,
                            f"${s.price:,.2f}" if s.price is not None else "–",
                            s.order_number or "–",
                            _status_text(s),
                        ]
                        for s in seats
                    ]
                    or [[""] * 7],
                    dtype=object,
                ),
                hovertemplate=(
                    "<b>%{customdata[1]}</b> · row %{customdata[2]}, seat %{customdata[3]}"
                    "<br>%{customdata[6]}<br>Price %{customdata[4]}"
                    "<br>Order %{customdata[5]}<extra></extra>"
                ),
            )
        )
    for section in seat_map.sections:
        fig.add_shape(
            type="rect",
            x0=section.x0 - PAD,
            y0=section.y0 - PAD,
            x1=section.x1 + PAD,
            y1=section.y1 + PAD,
            line={"color": "#9aa0a6", "width": 1},
            fillcolor="rgba(0,0,0,0)",
            layer="below",
        )
        fig.add_annotation(
            x=(section.x0 + section.x1) / 2,
            y=section.y0 - PAD,
            text=f"{section.name} · {section.available}/{section.seats} free",
            showarrow=False,
            yanchor="bottom",
            font={"size": 11},
        )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", scaleratio=1)
    xs = [s.x for s in seat_map.seats] or [0.0]
    ys = [s.y for s in seat_map.seats] or [0.0]
    aspect = (max(ys) - min(ys) + 4 * PAD) / max(max(xs) - min(xs) + 2 * PAD, 1.0)
    fig.update_layout(
        # About as tall as the venue is deep at a typical page width, within limits.
        height=int(min(max(1000 * aspect + 80, 280), 820)),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        dragmode="select",
        showlegend=True,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        hovermode="closest",
    )
    return fig


if not seat_map.seats:
    st.info("This event's venue has no seats.")
    st.stop()

event = plot(
    figure(seat_map),
    on_select="rerun",
    selection_mode=("points", "box", "lasso"),
    key=f"seat_map_chart_{event_id}",
    config={"displaylogo": False},
)

seats = seat_map.by_id()
selected: list[MapSeat] = []
for point in event.selection.points if event else []:
    data = point.get("customdata")
    seat = seats.get(uuid.UUID(data[0])) if data and data[0] else None
    if seat is not None and seat not in selected:
        selected.append(seat)

if not selected:
    st.caption("No seats chosen.")
    if mine and st.button("Release the seats you hold", key="sm_release_idle"):
        try:
            released = release_sale(actor, event_id, checkout_session)
        except Exception as exc:
            show_error(exc)
        else:
            st.session_state[FLASH] = f"Released {released} held ticket(s)."
            st.rerun()
    st.stop()

st.subheader(f"{len(selected)} seat(s) chosen")
st.dataframe(
    pd.DataFrame(
        {
            "Section": [s.section for s in selected],
            "Row": [s.row for s in selected],
            "Seat": [s.number for s in selected],
            "Status": [_status_text(s) for s in selected],
            "Price": [float(s.price) if s.price is not None else None for s in selected],
            "Order": [s.order_number or "" for s in selected],
        }
    ),
    hide_index=True,
    height=min(38 + 35 * len(selected), 300),
    column_config={"Price": st.column_config.NumberColumn(format="$%.2f")},
    key="sm_selected",
)

# Seats a sale can take: free ones, and the ones this browser session holds already.
for_sale = [s for s in selected if s.status == "available" or s.held_by_me]
free = [s for s in selected if s.status == "available"]
actions = st.columns(3)
if actions[0].button(
    f"Hold {len(free)} seat(s)",
    key="sm_hold",
    disabled=not free,
    icon=":material/lock_clock:",
    help="Reserve them for this browser session while the buyer decides",
):
    try:
        hold = hold_seats(actor, event_id, checkout_session, [s.seat_id for s in free])
    except Exception as exc:
        show_error(exc)
    else:
        st.session_state[FLASH] = (
            f"Held {len(hold.seat_ids)} seat(s) until {hold.expires_at:%H:%M:%S %Z}."
        )
        st.rerun()
if actions[1].button(
    f"Sell {len(for_sale)} seat(s) at the box office",
    key="sm_sell",
    type="primary",
    disabled=not for_sale or seat_map.event_status != "published",
    icon=":material/point_of_sale:",
):
    st.session_state[SEATS_FOR_SALE] = {
        "event_id": str(event_id),
        "seat_ids": [str(s.seat_id) for s in for_sale],
        "labels": [f"{s.section} {s.label}" for s in for_sale],
    }
    st.switch_page(PAGES_DIR / "box_office.py")
if mine and actions[2].button("Release the seats you hold", key="sm_release"):
    try:
        released = release_sale(actor, event_id, checkout_session)
    except Exception as exc:
        show_error(exc)
    else:
        st.session_state[FLASH] = f"Released {released} held ticket(s)."
        st.rerun()

if seat_map.can_block and identity.can(EVENTS_MANAGE):
    with st.form(f"sm_block_{event_id}"):
        reason = st.text_input(
            "Reason for blocking", key="sm_reason", placeholder="e.g. camera platform"
        )
        left, right = st.columns(2)
        block = left.form_submit_button("Block chosen seats", icon=":material/block:")
        unblock = right.form_submit_button("Unblock chosen seats", icon=":material/lock_open:")
    ids = [s.seat_id for s in selected]
    if block or unblock:
        try:
            if block:
                change = block_seats(actor, event_id, ids, reason)
            else:
                change = unblock_seats(actor, event_id, ids)
        except Exception as exc:
            show_error(exc)
        else:
            verb = "Blocked" if block else "Unblocked"
            st.session_state[FLASH] = f"{verb} {len(change.changed)} seat(s)." + (
                f" {len(change.unchanged)} were already so." if change.unchanged else ""
            )
            st.rerun()
