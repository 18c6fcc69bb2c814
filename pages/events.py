"""Events: find, create and edit events, move them through their statuses, plan agendas."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from core.auth.permissions import COMPLIANCE_MANAGE
from core.models.events import EVENT_STATUSES, EVENT_TYPES
from core.services.event_staff import assign_staff, get_event_staff, remove_staff
from core.services.events import (
    EDITABLE_STATUSES,
    EVENT_SORTS,
    EventCursor,
    EventDetail,
    EventFilters,
    EventInput,
    EventOptions,
    EventRow,
    ScheduleInput,
    add_schedule_item,
    cancel_event,
    complete_event,
    create_category,
    create_event,
    duplicate_event,
    event_options,
    export_events,
    get_event,
    list_events,
    postpone_event,
    publish_event,
    remove_schedule_item,
    reorder_schedule,
    set_event_categories,
    update_event,
    update_schedule_item,
)
from dashboard import session
from dashboard.forms import number_input
from dashboard.registry import PAGES_DIR
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.widgets import confirmed, download_table, kept_tabs, show_flash

PAGE_SIZE = 50
FLASH = "events.flash"
PAGES = "events.pages"  # cursors of the pages before this one (view state only)
FILTER_SIGNATURE = "events.filters"
PICK = "events_pick"
# The pick to show next: a widget's own key cannot be set once the widget is drawn.
PICK_NEXT = "events.pick_next"
# The event last created or duplicated stays pickable when the list does not show it.
SAVED = "events.saved"
RESET_NEW = "events.reset_new"
NEW_FIELDS = ("title", "type", "venue", "start", "end", "short", "description", "capacity")
NEW_FIELDS_MORE = ("tax", "tags")
DATETIME = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")

identity = session.signed_in()
actor = session.actor()
st.title("Events")
st.caption("Plan events, put them on sale, and keep their agendas and categories in order.")

if st.session_state.pop(RESET_NEW, False):
    for name in (*NEW_FIELDS, *NEW_FIELDS_MORE):
        st.session_state.pop(f"new_{name}", None)
if PICK_NEXT in st.session_state:
    st.session_state[PICK] = st.session_state[SAVED] = st.session_state.pop(PICK_NEXT)
show_flash(FLASH)


def _done(message: str, pick: uuid.UUID | None = None) -> None:
    """Say what happened on the next rerun, which shows the changed data."""
    st.session_state[FLASH] = message
    if pick is not None:
        st.session_state[PICK_NEXT] = str(pick)
    st.rerun()


def _attempt(service: Callable[..., Any], *args: Any, **kwargs: Any) -> Any | None:
    """Call a core service; show its refusal and return None when it refuses."""
    try:
        return service(*args, **kwargs)
    except Exception as exc:
        show_error(exc)
        return None


def _naive_utc(value: datetime) -> datetime:
    """datetime_input works in naive datetimes; the page shows every time in UTC."""
    return value.astimezone(UTC).replace(tzinfo=None)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


def _when(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _kind(value: str) -> str:
    return value.replace("_", " ").capitalize()


try:
    options: EventOptions = event_options(actor)
except Exception as exc:
    show_error(exc)
    st.stop()
venue_labels = {str(v.id): v.label for v in options.venues}
category_labels = {str(c.id): c.label for c in options.categories}


def _event_form(prefix: str, detail: EventDetail | None) -> EventInput | None:
    """An event's fields, prefilled from `detail`; None while a date is missing."""
    if detail is not None:
        default_start, default_end = _naive_utc(detail.start_date), _naive_utc(detail.end_date)
    else:
        default_start = datetime.combine(date.today() + timedelta(days=30), time(19, 0))
        default_end = default_start + timedelta(hours=3)
    title = st.text_input("Title", value=detail.title if detail else "", key=f"{prefix}_title")
    left, right = st.columns(2)
    kind = left.selectbox(
        "Type",
        EVENT_TYPES,
        index=EVENT_TYPES.index(detail.type) if detail else 0,
        format_func=_kind,
        key=f"{prefix}_type",
    )
    venue_keys = ("", *venue_labels)
    current_venue = str(detail.venue_id) if detail and detail.venue_id else ""
    venue = right.selectbox(
        "Venue",
        venue_keys,
        index=venue_keys.index(current_venue) if current_venue in venue_keys else 0,
        format_func=lambda k: venue_labels.get(k, "No venue yet"),
        key=f"{prefix}_venue",
    )
    start = left.datetime_input("Starts (UTC)", value=default_start, key=f"{prefix}_start")
    end = right.datetime_input("Ends (UTC)", value=default_end, key=f"{prefix}_end")
    short = st.text_input(
        "Short description",
        value=(detail.short_description or "") if detail else "",
        key=f"{prefix}_short",
    )
    description = st.text_area(
        "Description",
        value=(detail.description or "") if detail else "",
        key=f"{prefix}_description",
    )
    left, middle, right = st.columns(3)
    capacity = number_input(
        left,
        "Event capacity (0: the ticket types alone limit it)",
        value=(detail.capacity or 0) if detail else 0,
        step=10,
        key=f"{prefix}_capacity",
    )
    tax = number_input(
        middle,
        "Tax rate (%)",
        value=float(detail.tax_rate * 100) if detail else 0.0,
        step=0.25,
        format="%.2f",
        key=f"{prefix}_tax",
    )
    tags = right.text_input(
        "Tags (comma-separated)",
        value=", ".join(detail.tags) if detail else "",
        key=f"{prefix}_tags",
    )
    if start is None or end is None:
        return None
    return EventInput(
        title=title,
        start_date=start.replace(tzinfo=UTC),
        end_date=end.replace(tzinfo=UTC),
        type=kind,
        venue_id=uuid.UUID(venue) if venue else None,
        short_description=short,
        description=description,
        capacity=int(capacity) or None,
        tags=tuple(t for t in tags.split(",") if t.strip()),
        tax_rate=(Decimal(str(tax)) / 100).quantize(Decimal("0.0001")),
        featured=detail.featured if detail else False,
    )


def _table(rows: tuple[EventRow, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Title": [r.title for r in rows],
            "Status": [r.status for r in rows],
            "Type": [r.type.replace("_", " ") for r in rows],
            "Starts": pd.to_datetime([r.start_date for r in rows], utc=True),
            "Ends": pd.to_datetime([r.end_date for r in rows], utc=True),
            "Venue": [r.venue or "" for r in rows],
            "City": [r.city or "" for r in rows],
            "Sold": [r.sold for r in rows],
            "Capacity": [r.capacity for r in rows],
            "Mine": [r.is_mine for r in rows],
        }
    )


# -- panels of one event --------------------------------------------------------------------


def _details_panel(event: EventDetail, editable: bool) -> None:
    if not editable:
        st.markdown(md(event.short_description))
        st.markdown(md(event.description))
        if event.tags:
            st.caption("Tags: " + md(", ".join(event.tags)))
        return
    with st.form(f"edit_{event.event_id}"):
        data = _event_form(f"edit_{event.event_id}", event)
        if not st.form_submit_button("Save changes", type="primary"):
            return
    if data is None:
        st.error("Give the event a start and an end.")
    elif _attempt(update_event, actor, event.event_id, data) is not None:
        _done(f"Saved the changes to {data.title.strip()}.")


def _status_panel(event: EventDetail) -> None:
    if not event.next_statuses:
        st.info(
            f"This event is {event.status}; its status can no longer change."
            if event.can_edit
            else "Only its organizer or an admin can change its status."
        )
        return
    key = event.event_id
    if "published" in event.next_statuses:
        label = "Publish again" if event.status == "postponed" else "Publish"
        if st.button(label, key=f"publish_{key}", type="primary") and _attempt(
            publish_event, actor, key
        ):
            _done(f"{event.title} is published: its tickets can be sold.")
    if "completed" in event.next_statuses and (
        st.button("Mark completed", key=f"complete_{key}") and _attempt(complete_event, actor, key)
    ):
        _done(f"{event.title} is marked completed.")
    if "postponed" in event.next_statuses:
        with st.form(f"postpone_{key}"):
            st.markdown("**Postpone**")
            move = st.checkbox("Move it to a new start now", key=f"postpone_move_{key}")
            new_start = st.datetime_input(
                "New start (UTC)",
                value=_naive_utc(event.start_date) + timedelta(days=14),
                key=f"postpone_start_{key}",
            )
            reason = st.text_input("Reason (optional)", key=f"postpone_reason_{key}")
            submitted = st.form_submit_button("Postpone")
        if submitted:
            start = _utc(new_start) if move else None
            moved = _attempt(postpone_event, actor, key, reason=reason, new_start=start)
            if moved is not None:
                where = f" to {_when(moved.start_date)}" if start else ", date to be announced"
                _done(f"{event.title} is postponed{where}.")
    if "cancelled" in event.next_statuses:
        st.markdown("**Cancel**")
        reason = st.text_input("Reason for cancelling", key=f"cancel_reason_{key}")
        refunds = (
            f" {event.tickets_sold:,} tickets were sold: refund them on the Orders page."
            if event.tickets_sold
            else ""
        )
        if confirmed(
            "Cancel event",
            f"Cancel {event.title}? Ticket sales stop and this cannot be undone.{refunds}",
            key=f"cancel_{key}",
            confirm_label="Yes, cancel the event",
        ) and _attempt(cancel_event, actor, key, reason):
            _done(f"{event.title} is cancelled.")


def _agenda_panel(event: EventDetail, editable: bool) -> None:
    items = event.schedule
    if not items:
        st.info(
            "No agenda yet. Add the first item below: a session, a show or a break."
            if editable
            else "No agenda."
        )
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "#": [i.order_index + 1 for i in items],
                    "Starts": pd.to_datetime([i.start_time for i in items], utc=True),
                    "Ends": pd.to_datetime([i.end_time for i in items], utc=True),
                    "Title": [i.title for i in items],
                    "Break": [i.is_break for i in items],
                    "Location": [i.location or "" for i in items],
                }
            ),
            hide_index=True,
            column_config={"Starts": DATETIME, "Ends": DATETIME},
        )
    if not editable:
        return
    key = event.event_id
    if items:
        by_id = {str(i.item_id): i for i in items}
        chosen = st.selectbox(
            "Agenda item",
            tuple(by_id),
            format_func=lambda k: f"{by_id[k].order_index + 1}. {by_id[k].title}",
            key=f"agenda_pick_{key}",
        )
        item = by_id[chosen]
        order = [i.item_id for i in items]
        at = order.index(item.item_id)
        moves = st.columns(3)
        if moves[0].button("Move up", key=f"agenda_up_{key}", disabled=at == 0):
            order[at - 1], order[at] = order[at], order[at - 1]
            if _attempt(reorder_schedule, actor, key, order) is not None:
                _done(f"Moved {item.title} up.")
        if moves[1].button("Move down", key=f"agenda_down_{key}", disabled=at == len(order) - 1):
            order[at + 1], order[at] = order[at], order[at + 1]
            if _attempt(reorder_schedule, actor, key, order) is not None:
                _done(f"Moved {item.title} down.")
        with moves[2]:
            removed = confirmed(
                "Remove item",
                f"Remove {item.title} from the agenda?",
                key=f"agenda_remove_{item.item_id}",
                confirm_label="Yes, remove it",
            )
        if removed and _attempt(remove_schedule_item, actor, item.item_id) is not None:
            _done(f"Removed {item.title} from the agenda.")
        with st.form(f"agenda_edit_{item.item_id}"):
            st.markdown(f"**Edit “{md(item.title)}”**")
            title = st.text_input("Title", value=item.title, key=f"ai_title_{item.item_id}")
            cols = st.columns(2)
            start = cols[0].datetime_input(
                "Starts (UTC)", value=_naive_utc(item.start_time), key=f"ai_start_{item.item_id}"
            )
            end = cols[1].datetime_input(
                "Ends (UTC)", value=_naive_utc(item.end_time), key=f"ai_end_{item.item_id}"
            )
            is_break = st.checkbox(
                "This is a break", value=item.is_break, key=f"ai_break_{item.item_id}"
            )
            location = st.text_input(
                "Location", value=item.location or "", key=f"ai_location_{item.item_id}"
            )
            saved = st.form_submit_button("Save item")
        if saved and start is not None and end is not None:
            changed = ScheduleInput(
                title=title,
                start_time=start.replace(tzinfo=UTC),
                end_time=end.replace(tzinfo=UTC),
                is_break=is_break,
                location=location,
                # A break that stops being one (or the other way) loses its old type.
                type=item.type if is_break == item.is_break else None,
                description=item.description,
                speaker_id=item.speaker_id,
            )
            if _attempt(update_schedule_item, actor, item.item_id, changed) is not None:
                _done(f"Saved {title.strip()}.")
    last_end = items[-1].end_time if items else event.start_date
    with st.form(f"agenda_add_{key}"):
        st.markdown("**Add an agenda item**")
        title = st.text_input("Title", key=f"agenda_title_{key}")
        cols = st.columns(2)
        start = cols[0].datetime_input(
            "Starts (UTC)", value=_naive_utc(last_end), key=f"agenda_start_{key}"
        )
        end = cols[1].datetime_input(
            "Ends (UTC)",
            value=_naive_utc(min(last_end + timedelta(minutes=30), event.end_date)),
            key=f"agenda_end_{key}",
        )
        is_break = st.checkbox("This is a break", key=f"agenda_break_{key}")
        location = st.text_input("Location", key=f"agenda_location_{key}")
        added = st.form_submit_button("Add to agenda")
    if not added:
        return
    if start is None or end is None:
        st.error("Give the item a start and an end.")
        return
    new_item = ScheduleInput(
        title=title,
        start_time=start.replace(tzinfo=UTC),
        end_time=end.replace(tzinfo=UTC),
        is_break=is_break,
        location=location,
    )
    if _attempt(add_schedule_item, actor, key, new_item) is not None:
        st.session_state.pop(f"agenda_title_{key}", None)
        _done(f"Added {title.strip()} to the agenda.")


def _categories_panel(event: EventDetail, editable: bool) -> None:
    if event.categories:
        st.markdown("Filed under: " + md(", ".join(c.name for c in event.categories)))
    else:
        st.info(
            "Not filed under any category yet: choose some below so people find it."
            if editable
            else "Not filed under any category."
        )
    if not editable:
        return
    key = event.event_id
    current = [str(c.category_id) for c in event.categories]
    wanted = st.multiselect(
        "Categories (the first is the main one)",
        tuple(category_labels),
        default=[c for c in current if c in category_labels],
        format_func=lambda k: category_labels.get(k, k),
        key=f"categories_{key}",
    )
    if st.button("Save categories", key=f"categories_save_{key}") and _attempt(
        set_event_categories, actor, key, [uuid.UUID(c) for c in wanted]
    ):
        _done(f"Saved the categories of {event.title}.")
    with st.form("new_category"):
        st.markdown("**New category**")
        name = st.text_input("Name", key="category_name")
        parent = st.selectbox(
            "Under",
            ("", *category_labels),
            format_func=lambda k: category_labels.get(k, "No parent (top level)"),
            key="category_parent",
        )
        submitted = st.form_submit_button("Add category")
    if submitted:
        made = _attempt(
            create_category, actor, name, parent_id=uuid.UUID(parent) if parent else None
        )
        if made is not None:
            _done(f"Added the category {made.name}; choose it above to file this event under it.")


def _staff_panel(event: EventDetail) -> None:
    if not event.can_edit:
        st.info("Only this event's organizer or an admin assigns its staff.")
        return
    key = event.event_id
    staffing = _attempt(get_event_staff, actor, key)
    if staffing is None:
        return
    st.caption(
        "Staff assigned here sell at this event's box office and see its orders and"
        " attendees; other events' stay closed to them."
    )
    if staffing.assigned:
        st.dataframe(
            pd.DataFrame(
                {
                    "Name": [p.name for p in staffing.assigned],
                    "Email": [p.email for p in staffing.assigned],
                    "Assigned": pd.to_datetime(
                        [p.assigned_at for p in staffing.assigned], utc=True
                    ),
                }
            ),
            hide_index=True,
            column_config={"Assigned": DATETIME},
        )
        by_id = {str(p.user_id): p for p in staffing.assigned}
        chosen = st.selectbox(
            "Staff member",
            tuple(by_id),
            format_func=lambda k: by_id[k].label,
            key=f"staff_pick_{key}",
        )
        person = by_id[chosen]
        removed = confirmed(
            "Remove from staff",
            f"Take {person.name} off the staff of {event.title}? They will no longer sell"
            " for it or see its orders.",
            key=f"staff_remove_{key}_{person.user_id}",
            confirm_label="Yes, remove them",
        )
        if removed and _attempt(remove_staff, actor, key, person.user_id) is not None:
            _done(f"{person.name} no longer works {event.title}.")
    else:
        st.info("Nobody works this event yet: assign staff so they can sell at its box office.")
    if not staffing.available:
        st.caption(
            "Everyone with the staff role works this event already."
            if staffing.assigned
            else "Nobody has the staff role yet: an admin gives it on Users & roles."
        )
        return
    available = {str(p.user_id): p for p in staffing.available}
    with st.form(f"staff_add_{key}"):
        pick = st.selectbox(
            "Assign a staff member",
            tuple(available),
            format_func=lambda k: available[k].label,
            key=f"staff_add_pick_{key}",
        )
        added = st.form_submit_button("Assign to this event")
    if added and _attempt(assign_staff, actor, key, uuid.UUID(pick)) is not None:
        _done(f"{available[pick].name} now works {event.title}.")


def _duplicate_panel(event: EventDetail) -> None:
    key = event.event_id
    with st.form(f"duplicate_{key}"):
        st.caption(
            "The copy is a new draft of yours with the same details, agenda, categories and "
            "ticket types (nothing sold), moved to the new start."
        )
        title = st.text_input(
            "Title of the copy", value=f"{event.title} (copy)", key=f"copy_title_{key}"
        )
        start = st.datetime_input(
            "Copy starts (UTC)", value=_naive_utc(event.start_date), key=f"copy_start_{key}"
        )
        submitted = st.form_submit_button("Duplicate")
    if submitted:
        copied = _attempt(duplicate_event, actor, key, new_start=_utc(start), title=title)
        if copied is not None:
            _done(f"Duplicated as the draft {copied.title}.", pick=copied.event_id)


def _event_panel(event: EventDetail) -> None:
    st.subheader(md(event.title))
    st.caption(
        f"{event.status.capitalize()} · {_kind(event.type)} · {md(event.venue or 'no venue')} · "
        f"{_when(event.start_date)} – {_when(event.end_date)}"
    )
    metrics = st.columns(4)
    metrics[0].metric("Status", event.status)
    metrics[1].metric("Ticket capacity", f"{event.ticket_capacity:,}")
    metrics[2].metric("Sold", f"{event.tickets_sold:,}")
    metrics[3].metric("Still free", f"{max(event.ticket_capacity - event.tickets_sold, 0):,}")
    if event.ticket_capacity == 0:
        st.info("No tickets yet: add ticket types on the Ticket types page to sell this event.")
    if identity.can(COMPLIANCE_MANAGE):
        st.page_link(
            PAGES_DIR / "audit_log.py",
            label="History in the audit log",
            icon=":material/history:",
            query_params={"table": "events", "record": str(event.event_id)},
        )
    if event.cancellation_reason:
        st.warning(f"Cancelled: {md(event.cancellation_reason)}")
    if event.status == "postponed":
        why = f": {md(event.postponement_reason)}" if event.postponement_reason else ""
        first = f" (first planned for {event.original_start[:16]})" if event.original_start else ""
        st.warning(f"Postponed{why}{first}. Publish it again once the new date is set.")
    if not event.can_edit:
        st.info("Only this event's organizer or an admin can change it.")
    editable = event.can_edit and event.status in EDITABLE_STATUSES
    tabs = kept_tabs(
        ["Details", "Status", "Agenda", "Categories", "Staff", "Duplicate"], key="event_tab"
    )
    with tabs[0]:
        _details_panel(event, editable)
    with tabs[1]:
        _status_panel(event)
    with tabs[2]:
        _agenda_panel(event, editable)
    with tabs[3]:
        _categories_panel(event, editable)
    with tabs[4]:
        _staff_panel(event)
    with tabs[5]:
        _duplicate_panel(event)


# -- the page -------------------------------------------------------------------------------

list_tab, new_tab = kept_tabs(["Events", "New event"], key="tab")

# Drawn first so that nothing the list stops on can hide it.
with new_tab:
    with st.form("new_event"):
        new_data = _event_form("new", None)
        create = st.form_submit_button("Create draft", type="primary")
    if create:
        if new_data is None:
            st.error("Give the event a start and an end.")
        else:
            made = _attempt(create_event, actor, new_data)
            if made is not None:
                st.session_state[RESET_NEW] = True
                _done(
                    f"Created the draft {made.title}. Add its agenda and ticket types, "
                    "then publish it.",
                    pick=made.event_id,
                )

with list_tab:
    row = st.columns([3, 2, 2, 2])
    search = row[0].text_input(
        "Search", key="events_search", placeholder="Words in the title or description"
    )
    statuses = row[1].multiselect("Status", EVENT_STATUSES, key="events_status")
    types = row[2].multiselect("Type", EVENT_TYPES, format_func=_kind, key="events_type")
    sort = row[3].selectbox(
        "Sort by", tuple(EVENT_SORTS), format_func=lambda k: EVENT_SORTS[k], key="events_sort"
    )
    row = st.columns([3, 2, 2, 2])
    venue_filter = row[0].selectbox(
        "Venue",
        ("", *venue_labels),
        format_func=lambda k: venue_labels.get(k, "Any venue"),
        key="events_venue",
    )
    category_filter = row[1].selectbox(
        "Category",
        ("", *category_labels),
        format_func=lambda k: category_labels.get(k, "Any category"),
        key="events_category",
    )
    starts_from = row[2].date_input("Starting from", value=None, key="events_from")
    starts_until = row[3].date_input("Starting until", value=None, key="events_until")
    mine_only = st.checkbox("Only events I organize", key="events_mine")

    filters = EventFilters(
        search=search,
        statuses=tuple(statuses),
        types=tuple(types),
        venue_id=uuid.UUID(venue_filter) if venue_filter else None,
        category_id=uuid.UUID(category_filter) if category_filter else None,
        starts_from=starts_from if isinstance(starts_from, date) else None,
        starts_until=starts_until if isinstance(starts_until, date) else None,
        mine_only=mine_only,
    )
    # Other filters or another sort start the list again from its first page.
    if st.session_state.get(FILTER_SIGNATURE) != (filters, sort):
        st.session_state[FILTER_SIGNATURE] = (filters, sort)
        st.session_state[PAGES] = []
    before: list[EventCursor] = st.session_state.setdefault(PAGES, [])

    try:
        page = list_events(
            actor, filters, sort=sort, after=before[-1] if before else None, limit=PAGE_SIZE
        )
    except Exception as exc:
        show_error(exc)
        st.stop()

    if page.rows:
        st.dataframe(
            _table(page.rows),
            hide_index=True,
            column_config={"Starts": DATETIME, "Ends": DATETIME},
            key="events_table",
        )
        first = len(before) * PAGE_SIZE + 1
        st.caption(f"Events {first:,}–{first + len(page.rows) - 1:,} of {page.total:,}")
    elif filters != EventFilters():
        st.info("No events match these filters. Clear the search or a filter to see more.")
    else:
        st.info("No events yet. Create your first one on the “New event” tab.")
    nav = st.columns([1, 1, 4])
    if nav[0].button("Previous", key="events_prev", disabled=not before):
        before.pop()
        st.rerun()
    if nav[1].button("Next page", key="events_next", disabled=page.next_cursor is None):
        before.append(page.next_cursor)
        st.rerun()
    if page.total and nav[2].button(
        f"Prepare a CSV of all {page.total:,} matching events",
        key="events_export",
        icon=":material/download:",
    ):
        everything = _attempt(export_events, actor, filters, sort=sort)
        if everything is not None:
            download_table(_table(everything), "events", key="events_export_file")

    choices = {str(r.event_id): f"{r.title} · {r.start_date:%Y-%m-%d}" for r in page.rows}
    picked_before = st.session_state.get(PICK)
    if picked_before and picked_before not in choices:
        if picked_before == st.session_state.get(SAVED):
            choices = {picked_before: "The event you just saved", **choices}
        else:
            st.session_state.pop(PICK)
    if choices:
        st.divider()
        picked = st.selectbox("Work on", tuple(choices), format_func=choices.get, key=PICK)
        detail = _attempt(get_event, actor, uuid.UUID(picked))
        if detail is not None:
            _event_panel(detail)
