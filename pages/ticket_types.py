"""Ticket types: per event, tiers, prices, capacities, sale windows, per-order limits and
sections, with live availability; create, edit, put on and take off sale."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pandas as pd
import streamlit as st

from core.errors import ConcurrentUpdate
from core.models.ticketing import TICKET_TIERS
from core.services.ticket_types import (
    EventTicketTypes,
    TicketTypeDraft,
    TicketTypeView,
    create_ticket_type,
    get_event_ticket_types,
    list_manageable_events,
    set_ticket_type_active,
    update_ticket_type,
)
from dashboard import session
from dashboard.forms import number_input
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.widgets import kept_tabs, pick_event, show_flash

NO_SECTION = "none"
# The version a person opened an edit form at, per ticket type: saving sends it, so an
# edit made by someone else (or a sale) in between is refused, not overwritten.
OPENED = "ticket_types.opened.{id}"
FLASH = "ticket_types.flash"
STALE = "ticket_types.stale"

session.signed_in()
st.title("Ticket types")
st.caption(
    "Tiers, prices, capacities and sale windows per event, with what is sold, held and free."
)

show_flash(FLASH)

actor = session.actor()
search = st.text_input("Find an event", key="tt_search", placeholder="Title")
try:
    events = list_manageable_events(actor, search=search, limit=50)
except Exception as exc:
    show_error(exc)
    st.stop()
if not events:
    st.info("No event of yours matches. Events you organise appear here.")
    st.stop()

event_id = pick_event(events, key="tt_event")


def _load() -> EventTicketTypes | None:
    try:
        return get_event_ticket_types(actor, event_id)
    except Exception as exc:
        show_error(exc)
        return None


@st.fragment(run_every=timedelta(seconds=20))
def availability() -> None:
    """Sold and held move with every sale at the desk; this part refreshes on its own."""
    data = _load()
    if data is None:
        return
    where = f" at {data.venue_name}" if data.venue_name else " (no venue)"
    st.caption(
        f"{md(data.title)}{md(where)} · {data.status} · starts {data.start_date:%Y-%m-%d %H:%M}"
    )
    if not data.ticket_types:
        st.info("This event has no ticket types yet; add one below.")
        return
    table = pd.DataFrame(
        {
            "Name": [t.name for t in data.ticket_types],
            "Tier": [t.tier for t in data.ticket_types],
            "Price": [float(t.price) for t in data.ticket_types],
            "Capacity": [t.capacity for t in data.ticket_types],
            "Sold": [t.sold for t in data.ticket_types],
            "Held": [t.held for t in data.ticket_types],
            "Free": [t.free for t in data.ticket_types],
            "Sale starts": [t.sale_start for t in data.ticket_types],
            "Sale ends": [t.sale_end for t in data.ticket_types],
            "Per order": [t.max_per_order for t in data.ticket_types],
            "Section": [t.section_name or "" for t in data.ticket_types],
            "On sale": [t.is_active for t in data.ticket_types],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        key="tt_table",
        column_config={
            "Price": st.column_config.NumberColumn(format="$%.2f"),
            "Sale starts": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Sale ends": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Sold": st.column_config.NumberColumn(help="Tickets on live orders"),
            "Held": st.column_config.NumberColumn(help="In checkouts that have not expired"),
        },
    )
    st.caption(f"Refreshes every 20 seconds · as of {datetime.now(UTC):%H:%M:%S} UTC")


availability()

data = _load()
if data is None:
    st.stop()

section_names = {str(s.section_id): f"{s.name} ({s.seats} seats)" for s in data.sections}


def _clear(prefix: str) -> None:
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def _utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at).replace(tzinfo=UTC)


def _fields(prefix: str, current: TicketTypeView | None) -> TicketTypeDraft:
    """The ticket type's inputs (inside a form), read into a draft for the core to check."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = current.sale_start.astimezone(UTC) if current else now
    end = current.sale_end.astimezone(UTC) if current else data.start_date.astimezone(UTC)
    left, right = st.columns(2)
    name = left.text_input("Name", value=current.name if current else "", key=f"{prefix}name")
    tier = right.selectbox(
        "Tier",
        TICKET_TIERS,
        index=TICKET_TIERS.index(current.tier) if current else 0,
        key=f"{prefix}tier",
    )
    price = number_input(
        left,
        "Price ($)",
        value=float(current.price) if current else 0.0,
        step=1.0,
        format="%.2f",
        key=f"{prefix}price",
    )
    capacity = number_input(
        right,
        "Capacity",
        value=current.capacity if current else 100,
        step=1,
        key=f"{prefix}capacity",
        help="Can't go below what is sold plus held, nor above the seats of its section",
    )
    start_day = left.date_input("Sale starts (UTC)", value=start.date(), key=f"{prefix}sd")
    start_time = right.time_input(
        "at", value=start.time(), key=f"{prefix}st", step=timedelta(minutes=15)
    )
    end_day = left.date_input("Sale ends (UTC)", value=end.date(), key=f"{prefix}ed")
    end_time = right.time_input(
        "at", value=end.time(), key=f"{prefix}et", step=timedelta(minutes=15)
    )
    limit = number_input(
        left,
        "Per-order limit (0 = none)",
        value=(current.max_per_order or 0) if current else 0,
        step=1,
        key=f"{prefix}limit",
    )
    tax = number_input(
        right,
        "Tax rate (%) · empty uses the event's",
        value=float(current.tax_rate * 100) if current and current.tax_rate is not None else None,
        step=0.25,
        format="%.2f",
        key=f"{prefix}tax",
    )
    options = (NO_SECTION, *section_names)
    chosen = str(current.section_id) if current and current.section_id else NO_SECTION
    section = left.selectbox(
        "Venue section (seated tickets)",
        options,
        index=options.index(chosen) if chosen in options else 0,
        format_func=lambda key: "None: not seated" if key == NO_SECTION else section_names[key],
        key=f"{prefix}section",
        disabled=not section_names,
    )
    active = right.checkbox(
        "On sale", value=current.is_active if current else True, key=f"{prefix}active"
    )
    description = st.text_area(
        "Description",
        value=(current.description or "") if current else "",
        key=f"{prefix}description",
        height=68,
    )
    return TicketTypeDraft(
        name=name,
        tier=tier,
        price=Decimal(str(price)).quantize(Decimal("0.01")),
        capacity=int(capacity),
        sale_start=_utc(start_day, start_time),
        sale_end=_utc(end_day, end_time),
        max_per_order=int(limit) or None,
        section_id=None if section == NO_SECTION else uuid.UUID(section),
        description=description,
        tax_rate=None if tax is None else (Decimal(str(tax)) / 100).quantize(Decimal("0.0001")),
        is_active=active,
    )


edit_tab, add_tab = kept_tabs(["Edit a ticket type", "Add a ticket type"], key="tab")

with edit_tab:
    if not data.ticket_types:
        st.info("Nothing to edit yet.")
    else:
        types = {str(t.ticket_type_id): t for t in data.ticket_types}
        chosen_key = st.selectbox(
            "Ticket type",
            tuple(types),
            format_func=lambda key: f"{types[key].name} · {types[key].tier}",
            key=f"tt_pick_{event_id}",
        )
        current = types[chosen_key]
        opened_key = OPENED.format(id=chosen_key)
        opened = st.session_state.setdefault(opened_key, current.version)
        prefix = f"tt_edit_{chosen_key}_"
        with st.form(f"tt_edit_{chosen_key}"):
            draft = _fields(prefix, current)
            saved = st.form_submit_button("Save changes", type="primary", icon=":material/save:")
        if saved:
            try:
                result = update_ticket_type(actor, current.ticket_type_id, opened, draft)
            except ConcurrentUpdate as exc:
                st.session_state[STALE] = chosen_key
                show_error(exc)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state.pop(opened_key, None)
                _clear(prefix)
                st.session_state[FLASH] = f"{result.name} saved."
                st.rerun()
        if st.session_state.get(STALE) == chosen_key or opened != current.version:
            st.warning(
                f"{md(current.name)} has changed since you opened it. Reload to see the current"
                " values (your unsaved changes are dropped).",
                icon=":material/sync_problem:",
            )
            if st.button("Reload", key=f"tt_reload_{chosen_key}", icon=":material/refresh:"):
                st.session_state.pop(opened_key, None)
                st.session_state.pop(STALE, None)
                _clear(prefix)
                st.rerun()

        on_sale = current.is_active
        toggle = st.button(
            "Take off sale" if on_sale else "Put on sale",
            key=f"tt_toggle_{chosen_key}",
            icon=":material/block:" if on_sale else ":material/play_circle:",
            help="Holds and orders already made stay as they are",
        )
        if toggle:
            try:
                result = set_ticket_type_active(
                    actor, current.ticket_type_id, current.version, not on_sale
                )
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state.pop(opened_key, None)
                _clear(prefix)
                state = "on sale" if result.is_active else "off sale"
                st.session_state[FLASH] = f"{result.name} is {state}."
                st.rerun()

with add_tab:
    prefix = f"tt_new_{event_id}_"
    with st.form(f"tt_new_{event_id}"):
        draft = _fields(prefix, None)
        added = st.form_submit_button("Add ticket type", type="primary", icon=":material/add:")
    if added:
        try:
            result = create_ticket_type(actor, event_id, draft)
        except Exception as exc:
            show_error(exc)
        else:
            _clear(prefix)
            st.session_state[FLASH] = f"{result.name} added."
            st.rerun()
