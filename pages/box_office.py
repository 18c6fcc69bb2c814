"""Box office: sell to a walk-in buyer. Pick tickets (or bring seats from the seat map),
enter a code, see the price, take the payment, hand over the order number."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pandas as pd
import streamlit as st

from core.checkout.errors import AmountChanged, HoldExpired
from core.services.box_office import (
    PAYMENT_METHODS,
    Buyer,
    Payment,
    SaleEventOption,
    SaleQuote,
    SaleRequest,
    get_sale_options,
    list_sale_events,
    new_checkout_session_id,
    new_idempotency_key,
    quote_sale,
    release_sale,
    take_payment,
)
from dashboard import session
from dashboard.forms import number_input
from dashboard.registry import PAGES_DIR
from dashboard.runtime import show_error
from dashboard.text import md

# Shared with pages/seat_map.py: one checkout session per browser session, so seats the
# seat map holds are part of the sale here; and the seats it sends over to be sold.
CHECKOUT_SESSION = "checkout.session_id"
SEATS_FOR_SALE = "checkout.seats"
# The quote on screen: what it was for, the breakdown, and the key of this sale attempt.
QUOTE = "box_office.quote"
DONE = "box_office.done"
METHOD_LABELS = {"cash": "Cash", "card_terminal": "Card terminal", "complimentary": "Complimentary"}
BUYER_KEYS = ("bo_name", "bo_email", "bo_phone", "bo_code", "bo_notes")

session.signed_in()
st.title("Box office")
st.caption("Sell to a walk-in buyer: tickets or seats, a code, the price, the payment.")

actor = session.actor()
checkout_session = st.session_state.setdefault(CHECKOUT_SESSION, new_checkout_session_id())

done = st.session_state.pop(DONE, None)
if done:
    st.success(md(done), icon=":material/check_circle:")

seats_for_sale = st.session_state.get(SEATS_FOR_SALE)
pinned = uuid.UUID(seats_for_sale["event_id"]) if seats_for_sale else None

search = st.text_input("Find an event", key="bo_search", placeholder="Title")
try:
    events = list_sale_events(actor, search=search, limit=50)
except Exception as exc:
    show_error(exc)
    st.stop()
if pinned is not None and pinned not in {e.event_id for e in events}:
    try:
        extra = get_sale_options(actor, pinned)
    except Exception as exc:
        # Seats of an event this page cannot sell: drop them rather than stick on it.
        st.session_state.pop(SEATS_FOR_SALE, None)
        seats_for_sale = pinned = None
        show_error(exc)
    else:
        events.insert(
            0, SaleEventOption(pinned, extra.title, extra.start_date, extra.venue_name, True)
        )
if not events:
    st.info(
        "No event of yours is on sale: you sell for the published events you organise or"
        " work. Publish one, or ask an event's organizer to add you to its staff."
    )
    st.stop()

by_id = {str(e.event_id): e for e in events}
if seats_for_sale and not seats_for_sale.get("event_chosen"):
    # Seats sent from the seat map choose their event, once: the seller may pick another.
    st.session_state["bo_event"] = str(pinned)
    seats_for_sale["event_chosen"] = True
picked = st.selectbox(
    "Event",
    tuple(by_id),
    format_func=lambda key: (
        f"{by_id[key].title} · {by_id[key].start_date:%Y-%m-%d %H:%M}"
        + (f" · {by_id[key].venue_name}" if by_id[key].venue_name else "")
    ),
    key="bo_event",
)
event_id = uuid.UUID(picked)
if pinned is not None and pinned != event_id:
    # Another event was chosen: the seats sent over belong to the previous one.
    st.session_state.pop(SEATS_FOR_SALE, None)
    seats_for_sale = None

try:
    options = get_sale_options(actor, event_id)
except Exception as exc:
    show_error(exc)
    st.stop()

names = {t.ticket_type_id: t.name for t in options.ticket_types}
st.dataframe(
    pd.DataFrame(
        {
            "Ticket type": [t.name for t in options.ticket_types],
            "Tier": [t.tier for t in options.ticket_types],
            "Price": [float(t.price) for t in options.ticket_types],
            "Free": [t.free for t in options.ticket_types],
            "Per order": [t.max_per_order for t in options.ticket_types],
            "Seated": [t.section_name or "" for t in options.ticket_types],
            "On sale": [t.on_sale for t in options.ticket_types],
        }
    ),
    hide_index=True,
    column_config={"Price": st.column_config.NumberColumn(format="$%.2f")},
    key="bo_types",
)
if any(t.sold_by_seat for t in options.ticket_types):
    st.page_link(
        PAGES_DIR / "seat_map.py",
        label="Seated tickets are sold by seat: choose them on the seat map",
        icon=":material/event_seat:",
    )

seat_ids: list[uuid.UUID] = []
if seats_for_sale:
    seat_ids = [uuid.UUID(s) for s in seats_for_sale["seat_ids"]]
    labels = ", ".join(seats_for_sale["labels"][:30])
    more = len(seat_ids) - 30
    st.info(
        md(
            f"Seats from the seat map ({len(seat_ids)}): {labels}"
            + (f" and {more} more" if more > 0 else "")
        ),
        icon=":material/event_seat:",
    )
    if st.button("Remove these seats", key="bo_clear_seats", icon=":material/close:"):
        st.session_state.pop(SEATS_FOR_SALE, None)
        st.session_state.pop(QUOTE, None)
        st.rerun()

sellable = [t for t in options.ticket_types if not t.sold_by_seat]
with st.form(f"bo_sale_{event_id}"):
    quantities: dict[uuid.UUID, int] = {}
    if sellable:
        st.markdown("**Tickets**")
        columns = st.columns(min(len(sellable), 4))
        for i, tt in enumerate(sellable):
            limit = f", at most {tt.max_per_order} per order" if tt.max_per_order else ""
            quantities[tt.ticket_type_id] = int(
                number_input(
                    columns[i % len(columns)],
                    f"{md(tt.name)} · ${tt.price:,.2f}",
                    value=0,
                    step=1,
                    key=f"bo_qty_{tt.ticket_type_id}",
                    help=f"{tt.free} free{limit}" + ("" if tt.on_sale else " · not on sale now"),
                )
            )
    code = st.text_input("Discount or promo code", key="bo_code", placeholder="optional")
    st.markdown("**Buyer**")
    left, middle, right = st.columns(3)
    name = left.text_input("Name", key="bo_name")
    email = middle.text_input("Email", key="bo_email")
    phone = right.text_input("Phone", key="bo_phone", placeholder="optional")
    method = st.radio(
        "Payment",
        PAYMENT_METHODS,
        format_func=lambda m: METHOD_LABELS.get(m, m),
        horizontal=True,
        key="bo_method",
    )
    notes = st.text_input("Notes", key="bo_notes", placeholder="optional")
    review = st.form_submit_button("Review price", type="primary", icon=":material/calculate:")

buyer = Buyer(name=name.strip(), email=email.strip(), phone=phone.strip() or None)
chosen = {tt: q for tt, q in quantities.items() if q > 0}
# What the quote on screen was made for: any change to it asks for a new quote.
fingerprint = (
    str(event_id),
    tuple(sorted((str(k), v) for k, v in chosen.items())),
    tuple(sorted(map(str, seat_ids))),
    code.strip().upper(),
    buyer.name,
    buyer.email.lower(),
)

if review:
    st.session_state.pop(QUOTE, None)
    try:
        fresh = quote_sale(
            actor,
            SaleRequest(event_id, checkout_session, buyer, chosen, tuple(seat_ids), code),
        )
    except Exception as exc:
        show_error(exc)
    else:
        st.session_state[QUOTE] = {
            "fingerprint": fingerprint,
            "quote": fresh,
            # One key per sale attempt: a double click or a retry finds the same order.
            "key": new_idempotency_key(),
        }

pending = st.session_state.get(QUOTE)
if pending and pending["fingerprint"] != fingerprint:
    st.info("The sale changed since the price was shown; review the price again.")
    pending = None

if pending:
    quote: SaleQuote = pending["quote"]
    st.subheader("Price")
    st.dataframe(
        pd.DataFrame(
            {
                "Ticket type": [names.get(line.ticket_type_id, "?") for line in quote.lines],
                "Qty": [line.quantity for line in quote.lines],
                "Unit price": [float(line.unit_price) for line in quote.lines],
                "Subtotal": [float(line.subtotal) for line in quote.lines],
                "Discount": [float(line.discount) for line in quote.lines],
                "Tax": [float(line.tax) for line in quote.lines],
                "Total": [float(line.total) for line in quote.lines],
            }
        ),
        hide_index=True,
        column_config={
            c: st.column_config.NumberColumn(format="$%.2f")
            for c in ("Unit price", "Subtotal", "Discount", "Tax", "Total")
        },
        key="bo_quote_lines",
    )
    figures = st.columns(4)
    figures[0].metric("Subtotal", f"${quote.subtotal:,.2f}")
    figures[1].metric(
        "Discount", f"-${quote.discount:,.2f}", help=quote.code and f"Code {md(quote.code)}"
    )
    figures[2].metric("Tax", f"${quote.tax:,.2f}")
    figures[3].metric("Total", f"${quote.total:,.2f}")
    st.caption(
        f"Tickets held for this sale until {quote.hold_expires_at:%H:%M:%S %Z}."
        + (f" Seats: {len(quote.seat_ids)}." if quote.seat_ids else "")
    )
    pay, cancel = st.columns(2)
    paid = pay.button(
        f"Take payment · ${quote.total:,.2f} · {METHOD_LABELS.get(method, method)}",
        type="primary",
        key="bo_pay",
        icon=":material/point_of_sale:",
    )
    if cancel.button("Cancel sale", key="bo_cancel", icon=":material/undo:"):
        try:
            release_sale(actor, event_id, checkout_session)
        except Exception as exc:
            show_error(exc)
        else:
            st.session_state.pop(QUOTE, None)
            st.rerun()
    if paid:
        try:
            sale = take_payment(
                actor,
                Payment(
                    event_id=event_id,
                    session_id=checkout_session,
                    buyer=buyer,
                    payment_method=method,
                    expected_total=Decimal(quote.total),
                    idempotency_key=pending["key"],
                    code=quote.code,
                    notes=notes,
                ),
            )
        except (AmountChanged, HoldExpired) as exc:
            # The quote on screen no longer stands: the seller must review it again.
            st.session_state.pop(QUOTE, None)
            show_error(exc)
        except Exception as exc:
            show_error(exc)
        else:
            st.session_state.pop(QUOTE, None)
            st.session_state.pop(SEATS_FOR_SALE, None)
            for key in [*BUYER_KEYS, *(f"bo_qty_{tt.ticket_type_id}" for tt in sellable)]:
                st.session_state.pop(key, None)
            paid_by = METHOD_LABELS.get(sale.payment_method, sale.payment_method)
            st.session_state[DONE] = (
                f"Order {sale.order_number} is complete: ${sale.total:,.2f} · {paid_by}."
            )
            st.rerun()
