"""Venues: venues and their sections, seat grids, and seats taken out of use."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from core.errors import DomainError
from core.models.venues import SECTION_TYPES, VENUE_STATUSES
from core.services.venues import (
    BLOCK_STATUSES,
    SeatGridSpec,
    SectionInput,
    SectionSummary,
    VenueDetail,
    VenueInput,
    block_seats,
    create_section,
    create_venue,
    generate_seat_grid,
    get_venue,
    list_section_seats,
    list_venues,
    plan_seat_grid,
    unblock_seats,
    update_section,
    update_venue,
)
from dashboard import session
from dashboard.charts import plot
from dashboard.forms import number_input
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.widgets import confirmed, download_table, kept_tabs, show_flash

FLASH = "venues.flash"
PICK = "venues_pick"
PICK_NEXT = "venues.pick_next"
# The venue last added stays pickable when the (searched) list does not show it.
SAVED = "venues.saved"
SECTION = "venues_section"
SECTION_NEXT = "venues.section_next"
RESET_NEW = "venues.reset_new"
NEW_VENUE_KEYS = ("nv_name", "nv_address", "nv_city", "nv_state", "nv_postal", "nv_country")
STATUS_COLORS = {
    "available": "#b0306a",
    "blocked": "#9e9e9e",
    "maintenance": "#e0a030",
    "accessible": "#2a7ab0",
}

session.signed_in()
actor = session.actor()
st.title("Venues")
st.caption("Venues, their seating sections and seat maps, and seats out of use.")

if st.session_state.pop(RESET_NEW, False):
    for name in NEW_VENUE_KEYS:
        st.session_state.pop(name, None)
# A widget's own key cannot be set once it is drawn: picks for the next run wait here.
for pending, widget in ((PICK_NEXT, PICK), (SECTION_NEXT, SECTION)):
    if pending in st.session_state:
        st.session_state[widget] = st.session_state.pop(pending)
show_flash(FLASH)


def _done(
    message: str, *, venue: uuid.UUID | None = None, section: uuid.UUID | None = None
) -> None:
    st.session_state[FLASH] = message
    if venue is not None:
        st.session_state[PICK_NEXT] = st.session_state[SAVED] = str(venue)
    if section is not None:
        st.session_state[SECTION_NEXT] = str(section)
    st.rerun()


def _attempt(service: Callable[..., Any], *args: Any, **kwargs: Any) -> Any | None:
    """Call a core service; show its refusal and return None when it refuses."""
    try:
        return service(*args, **kwargs)
    except Exception as exc:
        show_error(exc)
        return None


def _venue_fields(prefix: str, venue: VenueDetail | None) -> VenueInput:
    def value(name: str) -> str:
        return (getattr(venue, name) or "") if venue else ""

    name = st.text_input("Name", value=value("name"), key=f"{prefix}_name")
    address = st.text_input("Address", value=value("address"), key=f"{prefix}_address")
    cols = st.columns(4)
    city = cols[0].text_input("City", value=value("city"), key=f"{prefix}_city")
    state = cols[1].text_input("State or region", value=value("state"), key=f"{prefix}_state")
    postal = cols[2].text_input("Postal code", value=value("postal_code"), key=f"{prefix}_postal")
    country = cols[3].text_input(
        "Country (ISO code)", value=value("country"), key=f"{prefix}_country"
    )
    cols = st.columns(3)
    capacity = number_input(
        cols[0],
        "Capacity (0: not set)",
        value=(venue.capacity or 0) if venue else 0,
        step=50,
        key=f"{prefix}_capacity",
    )
    status = cols[1].selectbox(
        "Status",
        VENUE_STATUSES,
        index=VENUE_STATUSES.index(venue.status) if venue else 0,
        format_func=lambda s: s.replace("_", " "),
        key=f"{prefix}_status",
    )
    email = cols[2].text_input("Contact email", value=value("contact_email"), key=f"{prefix}_email")
    description = st.text_area(
        "Description", value=value("description"), key=f"{prefix}_description"
    )
    return VenueInput(
        name=name,
        address=address,
        city=city,
        country=country,
        state=state,
        postal_code=postal,
        description=description,
        capacity=int(capacity) or None,
        status=status,
        contact_name=value("contact_name") or None,
        contact_email=email,
        contact_phone=value("contact_phone") or None,
        website=value("website") or None,
    )


def _section_fields(prefix: str, section: SectionSummary | None) -> SectionInput:
    cols = st.columns(3)
    name = cols[0].text_input(
        "Section name", value=section.name if section else "", key=f"{prefix}_name"
    )
    kind = cols[1].selectbox(
        "Type",
        SECTION_TYPES,
        index=SECTION_TYPES.index(section.section_type) if section else 0,
        key=f"{prefix}_type",
    )
    multiplier = number_input(
        cols[2],
        "Price multiplier",
        value=float(section.price_multiplier) if section else 1.0,
        step=0.1,
        format="%.2f",
        key=f"{prefix}_multiplier",
    )
    return SectionInput(
        name=name,
        section_type=kind,
        # Generating the seat grid sets the capacity to the number of seats.
        capacity=section.capacity if section else 0,
        price_multiplier=Decimal(str(multiplier)).quantize(Decimal("0.01")),
        description=section.description if section else None,
        accessibility=section.accessibility if section else True,
    )


def _seat_chart(frame: pd.DataFrame, *, height: int = 320) -> None:
    """A small seat map: one dot per seat, row names on the left, the stage at the top."""
    chart = px.scatter(
        frame,
        x="x",
        y="y",
        color="state",
        hover_name="seat",
        color_discrete_map=STATUS_COLORS,
        labels={"state": ""},
    )
    chart.update_traces(marker={"size": 9, "symbol": "square"})
    chart.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        xaxis={"visible": False},
        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
        legend={"orientation": "h"},
    )
    plot(chart)


# -- the venues list ------------------------------------------------------------------------

search = st.text_input("Search", key="venues_search", placeholder="Name, city, country…")
try:
    venues = list_venues(actor, search)
except Exception as exc:
    show_error(exc)
    st.stop()

if venues:
    table = pd.DataFrame(
        {
            "Name": [v.name for v in venues],
            "City": [v.city for v in venues],
            "Country": [v.country for v in venues],
            "Status": [v.status.replace("_", " ") for v in venues],
            "Capacity": [v.capacity for v in venues],
            "Sections": [v.sections for v in venues],
            "Seats": [v.seats for v in venues],
        }
    )
    st.dataframe(table, hide_index=True)
    download_table(table, "venues", key="venues_csv")
elif search.strip():
    st.info("No venue matches that search. Try another word, or add the venue below.")
else:
    st.info("No venues yet. Add your first one on the “New venue” tab.")

venue_tab, new_tab = kept_tabs(["Venue", "New venue"], key="tab")

with new_tab:
    with st.form("new_venue"):
        new_venue = _venue_fields("nv", None)
        add_venue = st.form_submit_button("Add venue", type="primary")
    if add_venue:
        made = _attempt(create_venue, actor, new_venue)
        if made is not None:
            st.session_state[RESET_NEW] = True
            _done(
                f"Added {made.name}. Now add its sections and generate their seats.",
                venue=made.venue_id,
            )


# -- one venue ------------------------------------------------------------------------------


def _grid_panel(section: SectionSummary) -> None:
    key = section.section_id
    st.markdown("**Seat grid**")
    cols = st.columns(3)
    rows = number_input(cols[0], "Rows", value=5, step=1, key=f"grid_rows_{key}")
    per_row = number_input(cols[1], "Seats per row", value=12, step=1, key=f"grid_seats_{key}")
    naming = cols[2].radio(
        "Row names",
        ("letters", "numbers"),
        format_func=lambda n: "A, B, C …" if n == "letters" else "1, 2, 3 …",
        horizontal=True,
        key=f"grid_naming_{key}",
    )
    aisles = st.multiselect(
        "Aisle after seat number",
        tuple(range(1, int(per_row))),
        key=f"grid_aisles_{key}",
    )
    cols = st.columns([1, 2])
    ends = cols[0].checkbox("First row's end seats are wheelchair spaces", key=f"grid_ends_{key}")
    named = cols[1].text_input(
        "More accessible seats (comma-separated)",
        placeholder="A1, C12" if naming == "letters" else "1-1, 3-12",
        key=f"grid_accessible_{key}",
    )
    spec = SeatGridSpec(
        rows=int(rows),
        seats_per_row=int(per_row),
        row_naming=naming,
        aisles_after=tuple(int(a) for a in aisles),
        accessible_first_row_ends=ends,
        accessible_seats=tuple(s.strip() for s in named.split(",") if s.strip()),
    )
    try:
        planned = plan_seat_grid(spec)
    except DomainError as exc:
        show_error(exc)
        return
    st.caption(
        f"Preview: {len(planned):,} seats in {spec.rows} rows, "
        f"{sum(1 for s in planned if s.is_accessible)} accessible."
    )
    _seat_chart(
        pd.DataFrame(
            {
                "x": [s.x for s in planned],
                "y": [s.y for s in planned],
                "seat": [f"{s.row_name}{s.seat_number}" for s in planned],
                "state": ["accessible" if s.is_accessible else "available" for s in planned],
            }
        ),
        height=220,
    )
    if section.seats == 0:
        go = st.button("Generate seats", key=f"grid_go_{key}", type="primary")
    else:
        go = confirmed(
            f"Replace the {section.seats:,} seats",
            f"Delete the {section.seats:,} seats of {section.name} and generate "
            f"{len(planned):,} new ones? Events that list this section get the new seats, "
            "free; it is refused while any seat is sold or held.",
            key=f"grid_replace_{key}",
            confirm_label="Yes, replace the seats",
        )
    if go:
        made = _attempt(generate_seat_grid, actor, key, spec, replace=section.seats > 0)
        if made is not None:
            _done(
                f"Generated {made.seats:,} seats in {made.rows} rows for {section.name}"
                + (f" (replacing {made.replaced:,})." if made.replaced else "."),
                section=key,
            )


def _seats_panel(section: SectionSummary) -> None:
    key = section.section_id
    seats = _attempt(list_section_seats, actor, key)
    if seats is None:
        return
    if not seats:
        st.info("This section has no seats yet: describe its grid below and generate it.")
        return
    st.markdown(f"**Seats of {md(section.name)}**")
    _seat_chart(
        pd.DataFrame(
            {
                "x": [s.x for s in seats],
                "y": [s.y for s in seats],
                "seat": [s.label + (f" · {s.notes}" if s.notes else "") for s in seats],
                "state": [
                    s.status
                    if s.status != "available"
                    else ("accessible" if s.is_accessible else "available")
                    for s in seats
                ],
            }
        )
    )
    labels = {str(s.seat_id): s.label for s in seats}
    free = [str(s.seat_id) for s in seats if s.status == "available"]
    out = {str(s.seat_id): s for s in seats if s.status != "available"}
    cols = st.columns(2)
    with cols[0]:
        chosen = st.multiselect(
            "Seats to block", free, format_func=labels.get, key=f"block_pick_{key}"
        )
        reason = st.text_input("Reason", placeholder="Camera platform", key=f"block_reason_{key}")
        status = st.radio(
            "Out of use because",
            BLOCK_STATUSES,
            format_func=lambda s: "blocked" if s == "blocked" else "under maintenance",
            horizontal=True,
            key=f"block_status_{key}",
        )
        if st.button("Block seats", key=f"block_go_{key}"):
            _change_seats(block_seats, key, chosen, reason, status=status)
    with cols[1]:
        if not out:
            st.caption("No seat of this section is out of use.")
        else:
            freed = st.multiselect(
                "Seats to put back in use",
                tuple(out),
                format_func=lambda k: f"{out[k].label} ({out[k].notes or out[k].status})",
                key=f"unblock_pick_{key}",
            )
            if st.button("Unblock seats", key=f"unblock_go_{key}"):
                _change_seats(unblock_seats, key, freed)


def _change_seats(
    service: Callable[..., Any], section_id: uuid.UUID, chosen: Sequence[str], *args: Any, **kw: Any
) -> None:
    result = _attempt(service, actor, section_id, [uuid.UUID(c) for c in chosen], *args, **kw)
    if result is None:
        return
    seats = f"{result.seats:,} seat" + ("" if result.seats == 1 else "s")
    if service is block_seats:
        message = f"Blocked {seats}: out of sale for every event ({result.event_seats:,} changed)."
    else:
        message = f"Put {seats} back in use ({result.event_seats:,} event blocks lifted)."
    if result.sold_or_held:
        message += f" {result.sold_or_held:,} already sold or held for an event stay so."
    for name in (f"block_pick_{section_id}", f"unblock_pick_{section_id}"):
        st.session_state.pop(name, None)
    _done(message, section=section_id)


def _venue_panel(venue: VenueDetail) -> None:
    st.subheader(md(venue.name))
    st.caption(md(f"{venue.address}, {venue.city}, {venue.country} · {venue.status}"))
    edit_tab, sections_tab = kept_tabs(["Details", "Sections and seats"], key="venue_tab")
    with edit_tab:
        with st.form(f"edit_venue_{venue.venue_id}"):
            data = _venue_fields(f"ev_{venue.venue_id}", venue)
            saved = st.form_submit_button("Save changes", type="primary")
        if saved and _attempt(update_venue, actor, venue.venue_id, data) is not None:
            _done(f"Saved the changes to {data.name.strip()}.")
    with sections_tab:
        if venue.sections:
            st.dataframe(
                pd.DataFrame(
                    {
                        "Section": [s.name for s in venue.sections],
                        "Type": [s.section_type for s in venue.sections],
                        "Seats": [s.seats for s in venue.sections],
                        "Out of use": [s.blocked for s in venue.sections],
                        "Accessible": [s.accessible for s in venue.sections],
                        "Price ×": [float(s.price_multiplier) for s in venue.sections],
                    }
                ),
                hide_index=True,
            )
        else:
            st.info("No sections yet. Add one below, then generate its seats.")
        with st.form(f"new_section_{venue.venue_id}"):
            st.markdown("**Add a section**")
            new_section = _section_fields(f"ns_{venue.venue_id}", None)
            added = st.form_submit_button("Add section")
        if added:
            made = _attempt(create_section, actor, venue.venue_id, new_section)
            if made is not None:
                st.session_state.pop(f"ns_{venue.venue_id}_name", None)
                _done(
                    f"Added the section {made.name}. Generate its seats below.",
                    section=made.section_id,
                )
        if not venue.sections:
            return
        by_id = {str(s.section_id): s for s in venue.sections}
        if st.session_state.get(SECTION) not in by_id:
            st.session_state.pop(SECTION, None)
        picked = st.selectbox(
            "Section",
            tuple(by_id),
            format_func=lambda k: f"{by_id[k].name} ({by_id[k].seats:,} seats)",
            key=SECTION,
        )
        section = by_id[picked]
        with st.form(f"edit_section_{section.section_id}"):
            changed = _section_fields(f"es_{section.section_id}", section)
            saved_section = st.form_submit_button("Save section")
        if saved_section and _attempt(update_section, actor, section.section_id, changed):
            _done(f"Saved the section {changed.name.strip()}.", section=section.section_id)
        _seats_panel(section)
        _grid_panel(section)


with venue_tab:
    choices = {str(v.venue_id): f"{v.name} ({v.city})" for v in venues}
    picked_before = st.session_state.get(PICK)
    if picked_before and picked_before not in choices:
        if picked_before == st.session_state.get(SAVED):
            choices = {picked_before: "The venue you just added", **choices}
        else:
            st.session_state.pop(PICK)
    if choices:
        picked = st.selectbox("Venue", tuple(choices), format_func=choices.get, key=PICK)
        detail = _attempt(get_venue, actor, uuid.UUID(picked))
        if detail is not None:
            _venue_panel(detail)
