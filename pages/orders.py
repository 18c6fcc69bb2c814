"""Orders: find one by number, buyer email or name; read it in full; cancel or refund it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import pandas as pd
import streamlit as st

from core.auth.permissions import COMPLIANCE_MANAGE, ORDERS_REFUND
from core.checkout.refunds import RefundLine, cancel_order, clean_reason, refund_order
from core.errors import DomainError
from core.models.ticketing import ORDER_STATUSES
from core.services.orders import (
    OrderCursor,
    describe_refund,
    get_order,
    list_order_events,
    refund_amount,
    search_orders,
)
from dashboard import session
from dashboard.forms import number_input
from dashboard.registry import PAGES_DIR
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.widgets import confirmed, show_flash

ANY = "Any"
PAGE_SIZE = 25
FLASH = "orders.flash"
# Keyset paging: ("after" | "before", created_at, order id) of the page edge, and the
# filters it belongs to (other filters start again from the newest orders).
CURSOR = "orders.cursor"
FILTERS = "orders.filters"

identity = session.signed_in()
st.title("Orders")
st.caption("Find an order by its number, the buyer's email or name; refund or cancel it.")

show_flash(FLASH)

actor = session.actor()
try:
    events = list_order_events(actor)
except Exception as exc:
    show_error(exc)
    st.stop()
event_names = {str(e.event_id): f"{e.title} · {e.start_date:%Y-%m-%d}" for e in events}

filters = st.columns([3, 3, 2])
query = filters[0].text_input(
    "Search",
    key="orders_query",
    placeholder="FW-2026-0001234, buyer@example.com or a name",
    help="An order number or its start, a whole email address, or at least three letters"
    " of the buyer's name.",
)
event_key = filters[1].selectbox(
    "Event",
    (ANY, *event_names),
    format_func=lambda key: event_names.get(key, key),
    key="orders_event",
)
status = filters[2].selectbox("Status", (ANY, *ORDER_STATUSES), key="orders_status")

signature = (query.strip(), event_key, status)
if st.session_state.get(FILTERS) != signature:
    st.session_state[FILTERS] = signature
    st.session_state[CURSOR] = None
cursor = st.session_state.get(CURSOR)
after = before = None
if cursor is not None:
    direction, created_at, order_id = cursor
    edge = OrderCursor(created_at, order_id)
    after, before = (edge, None) if direction == "after" else (None, edge)

try:
    page = search_orders(
        actor,
        query=query,
        event_id=None if event_key == ANY else uuid.UUID(event_key),
        status=None if status == ANY else status,
        after=after,
        before=before,
        limit=PAGE_SIZE,
    )
except Exception as exc:
    show_error(exc)
    st.stop()

shown = query.strip()
st.caption(
    md(
        {
            "recent": "The most recent orders, newest first.",
            "order_number": f"Orders whose number starts with {shown.upper()}, newest first.",
            "email": f"Orders bought with the email {shown}, newest first.",
            "name": f"Orders whose buyer name contains “{shown}” (or whose email starts with"
            " it), newest first.",
        }[page.matched_by]
    )
)

if not page.rows:
    if page.matched_by == "recent" and event_key == ANY and status == ANY:
        st.info("No orders yet. Tickets sold on the Box office page appear here.")
    else:
        st.info(
            "No order matches. Check the spelling, search by the whole email address or the"
            " order number, or set Event and Status back to Any."
        )
    st.stop()

table = pd.DataFrame(
    {
        "Order": [r.order_number for r in page.rows],
        "Ordered at": pd.to_datetime([r.created_at for r in page.rows], utc=True),
        "Buyer": [r.buyer_name for r in page.rows],
        "Email": [r.buyer_email for r in page.rows],
        "Event": [r.event_title or "—" for r in page.rows],
        "Tickets": [r.tickets for r in page.rows],
        "Total": [float(r.total) for r in page.rows],
        "Status": [r.status for r in page.rows],
    }
)
st.dataframe(
    table,
    hide_index=True,
    column_config={
        "Ordered at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "Total": st.column_config.NumberColumn(format="%.2f"),
    },
)

paging = st.columns([1, 1, 4])
if paging[0].button(
    "Previous", key="orders_previous", icon=":material/chevron_left:", disabled=not page.previous
):
    edge = page.previous
    st.session_state[CURSOR] = ("before", edge.created_at, edge.order_id)
    st.rerun()
if paging[1].button(
    "Next", key="orders_next", icon=":material/chevron_right:", disabled=not page.next
):
    edge = page.next
    st.session_state[CURSOR] = ("after", edge.created_at, edge.order_id)
    st.rerun()
paging[2].caption(f"{len(page.rows)} orders on this page.")

rows = {str(r.order_id): r for r in page.rows}
picked = st.selectbox(
    "Open an order",
    tuple(rows),
    format_func=lambda key: (
        f"{rows[key].order_number} · {rows[key].buyer_name} · {rows[key].currency}"
        f" {rows[key].total:,.2f} · {rows[key].status}"
    ),
    key="orders_pick",
)
if picked is None or picked not in rows:
    st.stop()
order_id = uuid.UUID(picked)

try:
    detail = get_order(actor, order_id)
except Exception as exc:
    show_error(exc)
    st.stop()


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "—"


def _money(amount: Decimal) -> str:
    return f"{detail.currency} {amount:,.2f}"


st.divider()
st.subheader(f"{detail.order_number} · {detail.status}")
figures = st.columns(5)
figures[0].metric("Total", _money(detail.total))
figures[1].metric("Subtotal", _money(detail.subtotal))
figures[2].metric("Discount", _money(detail.discount))
figures[3].metric("Tax", _money(detail.tax))
figures[4].metric("Refunded", _money(detail.refunded_total))
st.markdown(
    f"**Buyer:** {md(detail.buyer_name)} · {md(detail.buyer_email)}"
    + (f" · {md(detail.buyer_phone)}" if detail.buyer_phone else "")
    + f"  \n**Event:** {md(detail.event_title or 'an event you cannot see')}"
    + f"  \n**Ordered:** {_when(detail.created_at)} · **completed:** {_when(detail.completed_at)}"
    + (f" · **cancelled:** {_when(detail.cancelled_at)}" if detail.cancelled_at else "")
    + (f" · **refunded:** {_when(detail.refunded_at)}" if detail.refunded_at else "")
    + (f"  \n**Payment method:** {md(detail.payment_method)}" if detail.payment_method else "")
    + (f"  \n**Notes:** {md(detail.notes)}" if detail.notes else "")
)

st.markdown("**Items**")
st.dataframe(
    pd.DataFrame(
        {
            "Ticket type": [i.ticket_type for i in detail.items],
            "Tier": [i.tier for i in detail.items],
            "Quantity": [i.quantity for i in detail.items],
            "Seats": [", ".join(i.seats) for i in detail.items],
            "Unit price": [float(i.unit_price) for i in detail.items],
            "Subtotal": [float(i.subtotal) for i in detail.items],
            "Discount": [float(i.discount) for i in detail.items],
            "Tax": [float(i.tax) for i in detail.items],
            "Paid": [float(i.total) for i in detail.items],
            "Refunded tickets": [i.refunded_quantity for i in detail.items],
            "Refunded": [float(i.refunded_amount) for i in detail.items],
            "Code": [i.code or "" for i in detail.items],
            "Refunded at": pd.to_datetime([i.refunded_at for i in detail.items], utc=True),
        }
    ),
    hide_index=True,
    column_config={
        "Refunded at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        **{
            name: st.column_config.NumberColumn(format="%.2f")
            for name in ("Unit price", "Subtotal", "Discount", "Tax", "Paid", "Refunded")
        },
    },
)

left, right = st.columns(2)
with left:
    st.markdown("**Discounts**")
    if detail.discounts:
        st.dataframe(
            pd.DataFrame(
                {
                    "Code": [d.code for d in detail.discounts],
                    "Kind": [d.kind for d in detail.discounts],
                    "Amount": [float(d.amount) for d in detail.discounts],
                }
            ),
            hide_index=True,
        )
    else:
        st.caption("No code was used on this order.")
    st.markdown("**Payments**")
    if detail.payments:
        st.dataframe(
            pd.DataFrame(
                {
                    "At": pd.to_datetime([p.created_at for p in detail.payments], utc=True),
                    "Method": [p.method for p in detail.payments],
                    "Provider": [p.provider for p in detail.payments],
                    "Amount": [float(p.amount) for p in detail.payments],
                    "Reference": [p.reference for p in detail.payments],
                }
            ),
            hide_index=True,
            column_config={"At": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
        )
    else:
        st.caption("No payment is recorded for this order.")
with right:
    st.markdown("**Refunds**")
    if detail.refunds:
        st.dataframe(
            pd.DataFrame(
                {
                    "At": pd.to_datetime([r.created_at for r in detail.refunds], utc=True),
                    "Item": [r.item or "" for r in detail.refunds],
                    "Amount": [float(r.amount) for r in detail.refunds],
                    "Reason": [r.reason for r in detail.refunds],
                    "Method": [r.method for r in detail.refunds],
                    "By": [r.refunded_by or "" for r in detail.refunds],
                }
            ),
            hide_index=True,
            column_config={"At": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
        )
    else:
        st.caption("Nothing has been refunded.")
    st.markdown("**History**")
    if not detail.history_visible:
        st.info(
            "The history comes from the audit log, which only admins can read.",
            icon=":material/lock:",
        )
    elif detail.history:
        st.dataframe(
            pd.DataFrame(
                {
                    "At": pd.to_datetime([h.at for h in detail.history], utc=True),
                    "Who": [h.actor for h in detail.history],
                    "Action": [h.action for h in detail.history],
                    "Changes": [h.changes for h in detail.history],
                }
            ),
            hide_index=True,
            column_config={"At": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
        )
    else:
        st.caption("The audit log holds no entry for this order.")

if identity.can(COMPLIANCE_MANAGE):
    st.page_link(
        PAGES_DIR / "audit_log.py",
        label="Full history in the audit log",
        icon=":material/history:",
        query_params={"table": "orders", "record": str(order_id)},
    )

st.markdown("**Cancel or refund**")
if not identity.can(ORDERS_REFUND):
    st.caption(
        "Cancelling and refunding need the orders.refund permission (organizers and admins)."
    )
    st.stop()
if not (detail.can_cancel or detail.can_refund):
    st.caption(f"This order is {detail.status}: there is nothing left to cancel or refund.")
    st.stop()

reason = st.text_input(
    "Reason",
    key=f"order_reason_{order_id}",
    placeholder="e.g. the buyer cannot attend",
    help="Required; kept with the refund.",
)


def _reason_problem() -> DomainError | None:
    """The core's refusal of the reason as typed, asked before anything is confirmed."""
    try:
        clean_reason(reason)
    except DomainError as exc:
        return exc
    return None


def _ask(label: str, question: str, *, key: str, confirm_label: str) -> bool:
    """confirmed(), but a reason the core refuses is shown at the first click instead of
    the confirmation. The refusing button has the key confirmed() gives its own first
    button, so a click made while typing the reason still opens the confirmation."""
    problem = _reason_problem()
    if problem is None:
        return confirmed(label, question, key=key, confirm_label=confirm_label)
    if st.button(label, key=f"{key}_ask"):
        show_error(problem)
    return False


def _finish(result_text: str) -> None:
    st.session_state[FLASH] = result_text
    st.rerun()


def _refund_lines() -> list[RefundLine] | None:
    """The tickets and seats picked per item; None for everything that is left."""
    whole = st.radio(
        "Refund",
        ("Everything left", "Some tickets or seats"),
        horizontal=True,
        key=f"refund_scope_{order_id}",
    )
    if whole == "Everything left":
        return None
    lines = []
    for item in detail.refundable_items:
        st.caption(
            f"{item.label} · {_money(item.left_amount)} left of {_money(item.total)}"
            f" · {item.left} of {item.quantity} tickets left"
        )
        seats: list[uuid.UUID] = []
        count = 0
        pick = st.columns(2)
        if item.live_seats:
            by_id = {str(seat.seat_id): seat.label for seat in item.live_seats}
            seats = [
                uuid.UUID(key)
                for key in pick[0].multiselect(
                    "Seats to refund",
                    tuple(by_id),
                    format_func=by_id.__getitem__,
                    key=f"refund_seats_{item.item_id}",
                )
            ]
        if item.unseated_left:
            # Unbounded: the refund says what is out of range (dashboard.forms).
            count = (
                number_input(
                    pick[1],
                    "Tickets without a seat to refund",
                    value=0,
                    step=1,
                    key=f"refund_count_{item.item_id}",
                )
                or 0
            )
        if seats or count:
            lines.append(RefundLine(item.item_id, len(seats) + count, tuple(seats)))
    return lines


def _described(lines: list[RefundLine] | None) -> str:
    if lines is None:
        return ", ".join(item.label for item in detail.refundable_items)
    items = {item.item_id: item for item in detail.refundable_items}
    parts = []
    for line in lines:
        item = items[line.item_id]
        chosen = set(line.seat_ids)
        seats = ", ".join(seat.label for seat in item.seat_lines if seat.seat_id in chosen)
        parts.append(f"{line.quantity} × {item.ticket_type}" + (f" ({seats})" if seats else ""))
    return ", ".join(parts)


if detail.can_refund:
    lines = _refund_lines()
    if lines == []:
        st.caption("Pick the seats or the number of tickets to refund above.")
    else:
        try:
            amount = refund_amount(detail, lines)
        except DomainError as exc:
            show_error(exc)
            amount = None
        if amount is not None and _ask(
            "Refund…",
            f"Refund {_described(lines)} of {detail.order_number}? {_money(amount)} goes back"
            f" to the buyer and the tickets go back on sale. Reason: “{reason.strip()}”.",
            key=f"refund_{order_id}",
            confirm_label="Yes, refund",
        ):
            try:
                result = refund_order(actor, order_id, reason, lines=lines)
            except Exception as exc:
                show_error(exc)
            else:
                _finish(describe_refund(detail, result, cancelled=False))

if detail.can_cancel:
    paid = detail.status == "completed"
    if _ask(
        "Cancel order…",
        f"Cancel {detail.order_number}? Every ticket still on it goes back on sale"
        + (", and what is left of the payment is refunded" if paid else "")
        + f". Reason: “{reason.strip()}”.",
        key=f"cancel_{order_id}",
        confirm_label="Yes, cancel the order",
    ):
        try:
            result = cancel_order(actor, order_id, reason)
        except Exception as exc:
            show_error(exc)
        else:
            _finish(describe_refund(detail, result, cancelled=True))
