"""Runway shows: a collection at an event and venue, its segments (order, theme, music,
lighting) and looks (which model wears which piece in which slot), and a running order a
stage manager can print."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time

import pandas as pd
import streamlit as st

from core.auth.permissions import SHOWCASE_MANAGE
from core.models.designers import RUNWAY_SHOW_STATUSES
from core.showcase.collections import event_choices, list_collections
from core.showcase.fashion_models import model_choices
from core.showcase.items import list_items
from core.showcase.printout import running_order_html
from core.showcase.runway import (
    SegmentDraft,
    ShowDraft,
    ShowRow,
    add_appearance,
    add_segment,
    create_show,
    delete_appearance,
    delete_segment,
    list_shows,
    move_appearance,
    move_segment,
    running_order,
    set_show_status,
)
from dashboard import session
from dashboard.forms import number_input
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.widgets import confirmed, download_table, kept_tabs, move_buttons, show_flash

ANY = "Any"
FLASH = "shows.flash"
NEW_SEGMENT = "shows.new_segment"

identity = session.signed_in()
st.title("Runway shows")
st.caption(
    "Shows by collection, event and venue; their segments and looks in running order, with"
    " a printable running order for the stage manager."
)
show_flash(FLASH)
actor = session.actor()
can_manage = identity.can(SHOWCASE_MANAGE)
admin = "admin" in identity.roles


def _table(rows: tuple[ShowRow, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Date": pd.to_datetime([r.show_date for r in rows], utc=True),
            "Collection": [r.collection_name for r in rows],
            "Designer": [r.designer_name for r in rows],
            "Event": [r.event_title for r in rows],
            "Venue": [r.venue_name for r in rows],
            "Status": [r.status for r in rows],
            "Segments": [r.segments for r in rows],
            "Looks": [r.appearances for r in rows],
            "Mine": [r.is_mine for r in rows],
        }
    )


tabs = kept_tabs(["Shows", "Schedule a show"] if can_manage else ["Shows"], key="tab")

if can_manage:
    with tabs[1]:
        try:
            own = list_collections(actor, mine_only=not admin)
            events = event_choices(actor)
        except Exception as exc:
            show_error(exc)
            st.stop()
        if not own or not events:
            st.info("You need a collection (Collections page) and an event to schedule a show.")
        else:
            collections = {str(c.collection_id): c for c in own}
            by_event = {str(e.event_id): e for e in events}
            top = st.columns(2)
            collection_key = top[0].selectbox(
                "Collection", tuple(collections),
                format_func=lambda k: f"{collections[k].name} · {collections[k].designer_name}",
                key="show_new_collection",
            )  # fmt: skip
            event_key = top[1].selectbox(
                "Event", tuple(by_event),
                format_func=lambda k: f"{by_event[k].title} · {by_event[k].start_date:%Y-%m-%d}",
                key="show_new_event",
            )  # fmt: skip
            event = by_event[event_key]
            when = st.columns(4)
            day = when[0].date_input(
                "Date (UTC)", value=event.start_date.date(), key="show_new_day"
            )
            at = when[1].time_input("Time (UTC)", value=time(19, 0), key="show_new_time")
            duration = number_input(when[2], "Minutes", value=40, step=5, key="show_new_minutes")
            capacity = number_input(
                when[3], "Capacity", value=None, step=10, key="show_new_capacity"
            )
            notes = st.text_area("Notes", key="show_new_notes")
            if st.button("Schedule show", type="primary", key="show_create"):
                try:
                    made = create_show(
                        actor,
                        ShowDraft(
                            collection_id=uuid.UUID(collection_key),
                            event_id=uuid.UUID(event_key),
                            show_date=datetime.combine(day, at, tzinfo=UTC),
                            duration_minutes=None if duration is None else int(duration),
                            capacity=None if capacity is None else int(capacity),
                            notes=notes,
                        ),
                    )
                except Exception as exc:
                    show_error(exc)
                else:
                    st.session_state["show_pick"] = str(made)
                    st.session_state[FLASH] = "Show scheduled. Add its segments below."
                    st.rerun()

with tabs[0]:
    filters = st.columns([2, 1, 1])
    status = filters[0].selectbox("Status", (ANY, *RUNWAY_SHOW_STATUSES), key="show_status")
    upcoming = filters[1].checkbox("Upcoming only", key="show_upcoming")
    mine = filters[2].checkbox("Mine only", key="show_mine")
    try:
        shows = list_shows(
            actor, status=None if status == ANY else status, upcoming_only=upcoming, mine_only=mine
        )
    except Exception as exc:
        show_error(exc)
        st.stop()
    if not shows:
        st.info(
            "No show matches." + (" Schedule one on the Schedule a show tab." if can_manage else "")
        )
        st.stop()
    table = _table(shows)
    st.dataframe(
        table,
        hide_index=True,
        column_config={"Date": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
    download_table(table, "runway-shows", key="show_export")

    by_id = {str(s.show_id): s for s in shows}
    if st.session_state.get("show_pick") not in by_id:
        st.session_state["show_pick"] = next(iter(by_id))
    picked = st.selectbox(
        "Open a show",
        tuple(by_id),
        format_func=lambda k: (
            f"{by_id[k].show_date:%Y-%m-%d %H:%M} · {by_id[k].collection_name} · {by_id[k].status}"
        ),
        key="show_pick",
    )
    show_id = uuid.UUID(picked)
    try:
        order = running_order(actor, show_id)
    except Exception as exc:
        show_error(exc)
        st.stop()
    show = order.show
    st.subheader(f"Running order · {md(show.collection_name)}")
    st.markdown(
        f"**{md(show.designer_name)}** · {md(show.event_title)} · {md(show.venue_name)}"
        f" · {show.show_date:%A %d %B %Y, %H:%M} UTC · {show.status}"
    )
    st.download_button(
        "Download printable running order (HTML)",
        running_order_html(order).encode(),
        file_name=f"running-order-{show.show_date:%Y%m%d-%H%M}.html",
        mime="text/html",
        icon=":material/print:",
        key="show_print",
        help="Open it in a browser and print it (Ctrl+P); each segment is one table.",
    )
    if order.next_statuses:
        moves = st.columns(len(order.next_statuses) + 2)
        for i, target in enumerate(order.next_statuses):
            if moves[i].button(f"Mark {target.replace('_', ' ')}", key=f"show_move_{target}"):
                try:
                    set_show_status(actor, show_id, target)
                except Exception as exc:
                    show_error(exc)
                else:
                    st.session_state[FLASH] = f"The show is now {target.replace('_', ' ')}."
                    st.rerun()

    if not order.segments:
        st.info("No segments yet." + (" Add the first one below." if order.can_edit else ""))
    for segment in order.segments:
        start = f"{segment.starts_at:%H:%M}" if segment.starts_at else "—"
        st.markdown(
            f"##### {segment.order}\\. {md(segment.name)} · {start}"
            + (f" · {segment.duration_minutes} min" if segment.duration_minutes else "")
        )
        cues = [
            f"{label}: {value}"
            for label, value in (
                ("Theme", segment.theme),
                ("Music", segment.music),
                ("Lighting", segment.lighting_notes),
            )
            if value
        ]
        if cues:
            st.caption(md(" · ".join(cues)))
        if segment.looks:
            st.dataframe(
                pd.DataFrame(
                    {
                        "Look": [look.look for look in segment.looks],
                        "Slot": [f"{segment.order}.{look.slot}" for look in segment.looks],
                        "Model": [look.model_name for look in segment.looks],
                        "Agency": [look.agency or "" for look in segment.looks],
                        "Piece": [look.item_name or "—" for look in segment.looks],
                        "Notes": [look.notes or "" for look in segment.looks],
                    }
                ),
                hide_index=True,
                key=f"looks_{segment.segment_id}",
            )
        else:
            st.caption("No looks in this segment yet.")

    if order.can_edit:
        st.divider()
        st.markdown("#### Edit the running order")
        edit_segments, edit_looks = kept_tabs(["Segments", "Looks"], key="order_tab")
        with edit_segments:
            if order.segments:
                segments = {str(s.segment_id): s for s in order.segments}
                chosen = st.selectbox(
                    "Segment", tuple(segments),
                    format_func=lambda k: f"{segments[k].order}. {segments[k].name}",
                    key="seg_pick",
                )  # fmt: skip
                buttons = st.columns(3)
                move_buttons(
                    buttons,
                    ("Move earlier", "Move later"),
                    lambda step: move_segment(actor, uuid.UUID(chosen), step),
                    keys=("seg_move_-1", "seg_move_1"),
                )
                with buttons[2]:
                    if confirmed(
                        "Delete segment…",
                        f"Delete {segments[chosen].name} and its"
                        f" {len(segments[chosen].looks)} looks?",
                        key=f"seg_delete_{chosen}",
                        confirm_label="Yes, delete",
                    ):
                        try:
                            delete_segment(actor, uuid.UUID(chosen))
                        except Exception as exc:
                            show_error(exc)
                        else:
                            st.rerun()
            generation = st.session_state.get(NEW_SEGMENT, 0)
            st.markdown("**Add a segment**")
            seg = st.columns(3)
            name = seg[0].text_input("Name", key=f"seg_name{generation}")
            theme = seg[1].text_input("Theme", key=f"seg_theme{generation}")
            minutes = number_input(
                seg[2], "Minutes", value=None, step=1, key=f"seg_min{generation}"
            )
            cue = st.columns(2)
            music = cue[0].text_input("Music", key=f"seg_music{generation}")
            lighting = cue[1].text_input("Lighting notes", key=f"seg_light{generation}")
            if st.button("Add segment", type="primary", key="seg_add"):
                try:
                    add_segment(
                        actor,
                        show_id,
                        SegmentDraft(
                            name=name,
                            theme=theme,
                            music=music,
                            lighting_notes=lighting,
                            duration_minutes=None if minutes is None else int(minutes),
                        ),
                    )
                except Exception as exc:
                    show_error(exc)
                else:
                    st.session_state[NEW_SEGMENT] = generation + 1
                    st.session_state[FLASH] = f"Segment {name} added."
                    st.rerun()
        with edit_looks:
            if not order.segments:
                st.info("Add a segment first.")
            else:
                segments = {str(s.segment_id): s for s in order.segments}
                try:
                    models = dict(model_choices(actor))
                    pieces = {i.item_id: i.name for i in list_items(actor, show.collection_id)}
                except Exception as exc:
                    show_error(exc)
                    st.stop()
                look_segment = st.selectbox(
                    "Segment", tuple(segments),
                    format_func=lambda k: f"{segments[k].order}. {segments[k].name}",
                    key="look_segment",
                )  # fmt: skip
                add = st.columns([2, 2, 2, 1])
                model = add[0].selectbox("Model", tuple(models), format_func=models.get,
                                         key="look_model")  # fmt: skip
                piece = add[1].selectbox(
                    "Piece", (None, *pieces),
                    format_func=lambda k: "no piece" if k is None else pieces[k],
                    key="look_piece",
                )  # fmt: skip
                note = add[2].text_input("Notes", key="look_notes")
                if add[3].button("Add look", type="primary", key="look_add"):
                    try:
                        add_appearance(actor, uuid.UUID(look_segment), model, piece, note)
                    except Exception as exc:
                        show_error(exc)
                    else:
                        st.rerun()
                looks = {str(look.appearance_id): look for look in segments[look_segment].looks}
                if looks:
                    which = st.selectbox(
                        "Look", tuple(looks),
                        format_func=lambda k: (
                            f"{looks[k].slot}. {looks[k].model_name} · {looks[k].item_name or '—'}"
                        ),
                        key="look_pick",
                    )  # fmt: skip
                    actions = st.columns(3)
                    move_buttons(
                        actions,
                        ("Earlier slot", "Later slot"),
                        lambda step: move_appearance(actor, uuid.UUID(which), step),
                        keys=("look_move_-1", "look_move_1"),
                    )
                    if actions[2].button("Remove look", key="look_remove"):
                        try:
                            delete_appearance(actor, uuid.UUID(which))
                        except Exception as exc:
                            show_error(exc)
                        else:
                            st.rerun()
