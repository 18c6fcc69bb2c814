"""Discount codes: every rule the checkout applies; create, edit, deactivate; what each
code brought in; CSV export."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pandas as pd
import streamlit as st

from core.models.ticketing import DISCOUNT_TYPES
from core.services.discounts import (
    CODE_STATES,
    CodeTargets,
    DiscountCodeDraft,
    DiscountCodeView,
    create_discount_code,
    get_discount_code,
    list_code_targets,
    list_discount_codes,
    set_discount_code_active,
    update_discount_code,
)
from dashboard import session
from dashboard.forms import number_input
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.widgets import confirmed, download_table, kept_tabs, show_flash

ANY = "Any"
PAGE_SIZE = 100
FLASH = "codes.flash"
OFFSET = "codes.offset"
FILTERS = "codes.filters"
EXPORT = "codes.export"
# Bumped after a code is created, so the create form starts empty again.
NEW_FORM = "codes.new_form"
# The rules a person opened an edit form with, per code: saving sends them, so a change
# made by someone else in between is refused, not overwritten.
OPENED = "codes.opened.{id}"
TYPE_LABELS = {"percentage": "Percentage off", "fixed_amount": "Fixed amount off"}

session.signed_in()
st.title("Discount codes")
st.caption(
    "Codes buyers type at checkout: percentage or fixed amount, limits, validity and the"
    " events or ticket types they cover, with what each brought in."
)

show_flash(FLASH)

actor = session.actor()
try:
    targets = list_code_targets(actor)
except Exception as exc:
    show_error(exc)
    st.stop()
event_names = {str(e.event_id): f"{e.title} · {e.start_date:%Y-%m-%d}" for e in targets.events}


def _table(codes: tuple[DiscountCodeView, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Code": [c.code for c in codes],
            "Discount": [c.rule for c in codes],
            "Minimum order": [float(c.minimum_order_amount) for c in codes],
            "Valid from": pd.to_datetime([c.valid_from for c in codes], utc=True),
            "Valid until": pd.to_datetime([c.valid_until for c in codes], utc=True),
            "Usage limit": pd.array([c.usage_limit for c in codes], dtype="Int64"),
            "Times used": [c.times_used for c in codes],
            "Orders": [c.usage.orders for c in codes],
            "Discount given": [float(c.usage.discount_given) for c in codes],
            "Revenue": [float(c.usage.revenue) for c in codes],
            "Once per customer": [c.one_per_customer for c in codes],
            "First purchase only": [c.first_purchase_only for c in codes],
            "Applies to": [c.applies_to for c in codes],
            "State": [c.state for c in codes],
            "Description": [c.description or "" for c in codes],
        }
    )


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=UTC)


def _draft_form(prefix: str, initial: DiscountCodeDraft, choices: CodeTargets) -> DiscountCodeDraft:
    """The fields of a code, filled with `initial`; returns what the person entered."""
    top = st.columns([2, 2, 1, 1])
    code = top[0].text_input(
        "Code", value=initial.code, key=f"{prefix}_code", help="3–32 letters, digits, - or _"
    )
    discount_type = top[1].selectbox(
        "Discount type",
        DISCOUNT_TYPES,
        index=DISCOUNT_TYPES.index(initial.discount_type),
        format_func=TYPE_LABELS.get,
        key=f"{prefix}_type",
    )
    value = number_input(
        top[2],
        "Value (% or amount)",
        value=float(initial.value),
        step=1.0,
        format="%.2f",
        key=f"{prefix}_value",
    )
    maximum = number_input(
        top[3],
        "Maximum discount",
        value=None if initial.maximum_discount is None else float(initial.maximum_discount),
        step=1.0,
        format="%.2f",
        key=f"{prefix}_maximum",
        help="Caps a percentage discount; empty for no cap.",
    )
    description = st.text_input(
        "Description", value=initial.description or "", key=f"{prefix}_description"
    )
    window = st.columns(5)
    from_day = window[0].date_input(
        "Valid from (UTC)",
        value=initial.valid_from.astimezone(UTC).date(),
        key=f"{prefix}_from_day",
    )
    from_time = window[1].time_input(
        "at", value=initial.valid_from.astimezone(UTC).time(), key=f"{prefix}_from_time"
    )
    until_day = window[2].date_input(
        "Valid until (UTC)",
        value=initial.valid_until.astimezone(UTC).date(),
        key=f"{prefix}_until_day",
    )
    until_time = window[3].time_input(
        "at", value=initial.valid_until.astimezone(UTC).time(), key=f"{prefix}_until_time"
    )
    minimum = number_input(
        window[4],
        "Minimum order amount",
        value=float(initial.minimum_order_amount),
        step=5.0,
        format="%.2f",
        key=f"{prefix}_minimum",
    )
    rules = st.columns(4)
    usage_limit = number_input(
        rules[0],
        "Usage limit",
        value=initial.usage_limit,
        step=1,
        key=f"{prefix}_limit",
        help="How many orders may use the code in all; empty for no limit.",
    )
    one_per_customer = rules[1].checkbox(
        "Once per customer", value=initial.one_per_customer, key=f"{prefix}_once"
    )
    first_purchase_only = rules[2].checkbox(
        "First purchase only", value=initial.first_purchase_only, key=f"{prefix}_first"
    )
    is_active = rules[3].checkbox("Active", value=initial.is_active, key=f"{prefix}_active")
    event_keys = st.multiselect(
        "Only for these events (none: every event)",
        tuple(event_names),
        default=[str(e) for e in initial.event_ids if str(e) in event_names],
        format_func=event_names.get,
        key=f"{prefix}_events",
    )
    chosen_events = set(event_keys)
    # Ticket types are offered per chosen event: every type of every event would put
    # thousands of options into each form (seconds to send and to draw).
    types = {
        str(t.ticket_type_id): f"{t.name} · {t.event_title}"
        for t in choices.ticket_types
        if str(t.event_id) in chosen_events or t.ticket_type_id in initial.ticket_type_ids
    }
    type_keys = st.multiselect(
        "Only for these ticket types (none: every ticket type)",
        tuple(types),
        default=[str(t) for t in initial.ticket_type_ids if str(t) in types],
        format_func=types.get,
        key=f"{prefix}_types",
        placeholder="Choose events first" if not chosen_events else "Choose ticket types",
    )
    return DiscountCodeDraft(
        code=code,
        discount_type=discount_type,
        value=Decimal(str(round(value or 0.0, 2))),
        valid_from=_at(from_day, from_time),
        valid_until=_at(until_day, until_time),
        description=description,
        maximum_discount=None if maximum is None else Decimal(str(round(maximum, 2))),
        minimum_order_amount=Decimal(str(round(minimum or 0.0, 2))),
        usage_limit=None if usage_limit is None else int(usage_limit),
        one_per_customer=one_per_customer,
        first_purchase_only=first_purchase_only,
        is_active=is_active,
        event_ids=tuple(uuid.UUID(k) for k in event_keys),
        ticket_type_ids=tuple(uuid.UUID(k) for k in type_keys),
    )


codes_tab, create_tab = kept_tabs(["Codes", "Create a code"], key="tab")

with create_tab:
    generation = st.session_state.get(NEW_FORM, 0)
    # Midnight, not now: a default that moved on every rerun would reset the widgets.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    blank = DiscountCodeDraft(
        code="",
        discount_type="percentage",
        value=Decimal("10"),
        valid_from=today,
        valid_until=today + timedelta(days=30),
    )
    new = _draft_form(f"new{generation}", blank, targets)
    if st.button("Create code", type="primary", key="codes_create", icon=":material/add:"):
        try:
            made = create_discount_code(actor, new)
        except Exception as exc:
            show_error(exc)
        else:
            st.session_state[NEW_FORM] = generation + 1
            st.session_state[FLASH] = f"Code {made.code} created: {made.rule}, {made.state}."
            st.rerun()

with codes_tab:
    filters = st.columns([3, 2, 3, 2])
    search = filters[0].text_input("Search", key="codes_search", placeholder="Code or description")
    state = filters[1].selectbox("State", (ANY, *CODE_STATES), key="codes_state")
    event_key = filters[2].selectbox(
        "Usable at event",
        (ANY, *event_names),
        format_func=lambda key: event_names.get(key, key),
        key="codes_event",
    )
    type_key = filters[3].selectbox(
        "Type",
        (ANY, *DISCOUNT_TYPES),
        format_func=lambda k: TYPE_LABELS.get(k, k),
        key="codes_type",
    )
    query = {
        "search": search.strip(),
        "state": None if state == ANY else state,
        "event_id": None if event_key == ANY else uuid.UUID(event_key),
        "discount_type": None if type_key == ANY else type_key,
    }
    signature = tuple(query.values())
    if st.session_state.get(FILTERS) != signature:
        st.session_state[FILTERS] = signature
        st.session_state[OFFSET] = 0
        st.session_state.pop(EXPORT, None)
    offset = st.session_state.get(OFFSET, 0)
    try:
        page = list_discount_codes(actor, **query, limit=PAGE_SIZE, offset=offset)
    except Exception as exc:
        show_error(exc)
        st.stop()

    if not page.rows:
        if any(value for value in signature):
            st.info("No code matches. Clear the search or set the filters back to Any.")
        else:
            st.info("No discount codes yet. Create one on the Create a code tab.")
        st.stop()

    table = _table(page.rows)
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "Valid from": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Valid until": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            **{
                name: st.column_config.NumberColumn(format="%.2f")
                for name in ("Minimum order", "Discount given", "Revenue")
            },
        },
    )
    paging = st.columns([1, 1, 4])
    if paging[0].button("Previous", key="codes_previous", disabled=offset == 0):
        st.session_state[OFFSET] = max(offset - PAGE_SIZE, 0)
        st.rerun()
    if paging[1].button("Next", key="codes_next", disabled=not page.has_more):
        st.session_state[OFFSET] = offset + PAGE_SIZE
        st.rerun()
    paging[2].caption(
        f"Codes {offset + 1}–{offset + len(page.rows)} of {page.total:,}. Times used is the"
        " checkout's counter; orders, discount given and revenue come from the live orders."
    )

    if page.total == len(page.rows):
        download_table(table, "discount-codes", key="codes_export")
    elif st.session_state.get(EXPORT) == signature:
        try:
            everything = list_discount_codes(actor, **query, limit=None)
        except Exception as exc:
            show_error(exc)
        else:
            download_table(_table(everything.rows), "discount-codes", key="codes_export")
    elif st.button(f"Prepare a CSV of all {page.total:,} codes", key="codes_prepare"):
        st.session_state[EXPORT] = signature
        st.rerun()

    st.divider()
    shown = {str(c.code_id): c for c in page.rows}
    picked = st.selectbox(
        "Open a code",
        tuple(shown),
        format_func=lambda key: f"{shown[key].code} · {shown[key].rule} · {shown[key].state}",
        key="codes_pick",
    )
    if picked is None or picked not in shown:
        st.stop()
    code_id = uuid.UUID(picked)
    try:
        detail = get_discount_code(actor, code_id)
    except Exception as exc:
        show_error(exc)
        st.stop()
    view = detail.code

    st.subheader(f"{md(view.code)} · {view.state}")
    figures = st.columns(4)
    limit_text = f" of {view.usage_limit:,}" if view.usage_limit is not None else ""
    figures[0].metric("Times used", f"{view.times_used:,}{limit_text}")
    figures[1].metric("Orders", f"{view.usage.orders:,}")
    figures[2].metric("Discount given", f"{view.usage.discount_given:,.2f}")
    figures[3].metric("Revenue", f"{view.usage.revenue:,.2f}")
    st.caption(md(f"{view.rule} · applies to {view.applies_to}."))
    if detail.recent_orders:
        st.markdown("**Most recent orders with this code**")
        st.dataframe(
            pd.DataFrame(
                {
                    "Order": [o.order_number for o in detail.recent_orders],
                    "Ordered at": pd.to_datetime(
                        [o.created_at for o in detail.recent_orders], utc=True
                    ),
                    "Buyer": [o.buyer_name for o in detail.recent_orders],
                    "Status": [o.status for o in detail.recent_orders],
                    "Discount": [float(o.discount or 0) for o in detail.recent_orders],
                    "Total": [float(o.total) for o in detail.recent_orders],
                }
            ),
            hide_index=True,
            column_config={
                "Ordered at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
            },
        )
    else:
        st.caption("No order has used this code yet.")

    opened_key = OPENED.format(id=code_id)
    opened = st.session_state.setdefault(opened_key, view.draft())
    # Fresh widgets whenever the rules behind the form change (after a save or a reload).
    form_key = hashlib.sha1(repr(opened).encode()).hexdigest()[:10]
    with st.expander("Edit this code", expanded=False):
        if opened != view.draft():
            st.warning(
                "This code changed since you opened it (someone else saved it). Reload to"
                " edit the current rules.",
                icon=":material/sync_problem:",
            )
            if st.button("Reload", key="codes_reload"):
                st.session_state.pop(opened_key, None)
                st.rerun()
        edited = _draft_form(f"edit_{form_key}", opened, targets)
        if st.button("Save changes", type="primary", key="codes_save", icon=":material/save:"):
            try:
                saved = update_discount_code(actor, code_id, edited, opened=opened)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state.pop(opened_key, None)
                st.session_state[FLASH] = f"Code {saved.code} saved: {saved.rule}, {saved.state}."
                st.rerun()

    if view.is_active:
        if confirmed(
            "Deactivate…",
            f"Deactivate {view.code}? Checkouts refuse it from now on; orders that used it"
            " keep their discount.",
            key=f"codes_deactivate_{code_id}",
            confirm_label="Yes, deactivate",
        ):
            try:
                set_discount_code_active(actor, code_id, False)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state.pop(opened_key, None)
                st.session_state[FLASH] = f"Code {view.code} deactivated."
                st.rerun()
    elif st.button("Activate", key=f"codes_activate_{code_id}", icon=":material/check_circle:"):
        try:
            set_discount_code_active(actor, code_id, True)
        except Exception as exc:
            show_error(exc)
        else:
            st.session_state.pop(opened_key, None)
            st.session_state[FLASH] = f"Code {view.code} activated."
            st.rerun()
