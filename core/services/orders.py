"""Orders for the box office and organizers: find them, read one in full.

Search reads the query the way a person types it and picks the index that answers it:
an order number (or its start) is a range on the unique order_number index, an email is
an equality on idx_orders_billing_email, anything else is a name, matched through the
trigram index on billing_name (or the start of an email, a range on the email index).
Results come newest first, a page at a time, with keyset cursors (created_at, id), so a
later page costs what the first does even among a million orders.

Cancelling and refunding are not here: they belong to the checkout core
(core.checkout.cancel_order / refund_order), which releases the inventory under its locks;
`describe_refund` only words what such a call did.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from core.audit.history import order_history
from core.auth.permissions import BOX_OFFICE_SELL
from core.checkout.pricing import refund_share
from core.checkout.refunds import RefundLine, RefundResult, refund_part
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import NotFound, ValidationError
from core.models.ticketing import LIVE_ORDER_STATUSES, ORDER_STATUSES
from core.services import inputs
from core.services.event_choices import EventChoice, read_event_choices

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
# Trigram indexes answer ILIKE only from three characters on; shorter names would scan
# every order.
MIN_NAME_CHARS = 3
MAX_QUERY_CHARS = 200

_ORDER_NUMBER = re.compile(r"^[A-Za-z]{2,4}-\d[\d-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class OrderCursor:
    """Where a page of results starts or ends: (created_at, id) of an order."""

    created_at: datetime
    order_id: uuid.UUID


@dataclass(frozen=True)
class OrderRow:
    order_id: uuid.UUID
    order_number: str
    created_at: datetime
    buyer_name: str
    buyer_email: str
    event_id: uuid.UUID
    # None when row-level security hides the event (another organizer's draft).
    event_title: str | None
    status: str
    tickets: int
    total: Decimal
    currency: str


@dataclass(frozen=True)
class OrderPage:
    """One page of search results, newest first.

    `matched_by` says how the query was read: recent (no query), order_number, email or
    name. `next` / `previous` are the cursors to pass as `after` / `before` for the
    neighbouring pages, None where there is none.
    """

    rows: tuple[OrderRow, ...]
    matched_by: str
    next: OrderCursor | None
    previous: OrderCursor | None


@dataclass(frozen=True)
class SeatLine:
    seat_id: uuid.UUID
    label: str  # section and seat, e.g. "Floor A12"
    refunded: bool


@dataclass(frozen=True)
class OrderItemLine:
    item_id: uuid.UUID
    ticket_type: str
    tier: str
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    discount: Decimal
    final_price: Decimal
    tax: Decimal
    code: str | None
    seat_lines: tuple[SeatLine, ...]
    refunded_at: datetime | None
    # Given back so far (core.checkout.refunds): tickets, and money with its discount and
    # tax shares.
    refunded_quantity: int = 0
    refunded_discount: Decimal = Decimal("0.00")
    refunded_tax: Decimal = Decimal("0.00")
    refunded_amount: Decimal = Decimal("0.00")

    @property
    def seats(self) -> tuple[str, ...]:
        return tuple(seat.label for seat in self.seat_lines)

    @property
    def total(self) -> Decimal:
        """What the buyer paid for this item."""
        return self.final_price + self.tax

    @property
    def left(self) -> int:
        """Tickets not refunded."""
        return self.quantity - self.refunded_quantity

    @property
    def left_amount(self) -> Decimal:
        """What refunding every ticket left would give back."""
        return self.total - self.refunded_amount

    @property
    def live_seats(self) -> tuple[SeatLine, ...]:
        return tuple(seat for seat in self.seat_lines if not seat.refunded)

    @property
    def unseated_left(self) -> int:
        """Tickets left that have no seat (refunded by number, not by seat)."""
        return self.left - len(self.live_seats)

    @property
    def label(self) -> str:
        seats = f" ({', '.join(self.seats)})" if self.seats else ""
        refunded = f", {self.refunded_quantity} refunded" if self.refunded_quantity else ""
        return f"{self.quantity} × {self.ticket_type}{seats}{refunded}"


@dataclass(frozen=True)
class OrderDiscount:
    code: str
    kind: str  # "discount code" or "promotional code"
    amount: Decimal


@dataclass(frozen=True)
class OrderPayment:
    created_at: datetime
    provider: str
    method: str
    amount: Decimal
    currency: str
    reference: str


@dataclass(frozen=True)
class OrderRefund:
    created_at: datetime
    amount: Decimal
    reason: str
    method: str
    reference: str
    item: str | None
    refunded_by: str | None


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    changes: str


@dataclass(frozen=True)
class OrderDetail:
    order_id: uuid.UUID
    order_number: str
    status: str
    event_id: uuid.UUID
    event_title: str | None
    buyer_name: str
    buyer_email: str
    buyer_phone: str | None
    currency: str
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    payment_method: str | None
    notes: str | None
    created_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None
    refunded_at: datetime | None
    items: tuple[OrderItemLine, ...]
    discounts: tuple[OrderDiscount, ...]
    payments: tuple[OrderPayment, ...]
    refunds: tuple[OrderRefund, ...]
    # The audit trail is readable by admins only (row-level security); for anyone else
    # `history` is empty and `history_visible` False, so a page can say why.
    history: tuple[HistoryEntry, ...]
    history_visible: bool

    @property
    def refundable_items(self) -> tuple[OrderItemLine, ...]:
        """Items a refund may still give back: those of a completed order with tickets
        left."""
        if self.status != "completed":
            return ()
        return tuple(item for item in self.items if item.refunded_at is None)

    @property
    def can_refund(self) -> bool:
        return bool(self.refundable_items)

    @property
    def can_cancel(self) -> bool:
        return self.status in LIVE_ORDER_STATUSES

    @property
    def refunded_total(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal("0.00"))


def _prefix_bound(prefix: str) -> str:
    """The smallest string after every string that starts with `prefix` (for a range
    scan of a btree index; the page re-checks the prefix, so no collation can mislead)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def classify_query(query: str) -> str:
    """How search reads `query`: recent (empty), order_number, email or name."""
    query = query.strip()
    if not query:
        return "recent"
    if "@" in query and _EMAIL.match(query):
        return "email"
    if _ORDER_NUMBER.match(query):
        return "order_number"
    return "name"


def _match_clause(matched_by: str, query: str, params: dict[str, Any]) -> str:
    if matched_by == "recent":
        return "true"
    if matched_by == "order_number":
        prefix = query.upper()
        params.update(num_lo=prefix, num_hi=_prefix_bound(prefix), num_len=len(prefix))
        return (
            "o.order_number >= :num_lo AND o.order_number < :num_hi"
            " AND left(o.order_number, :num_len) = :num_lo"
        )
    if matched_by == "email":
        # The index is on the column as stored: try the address as typed and lowercased
        # (the demo and most buyers store lowercase), both answered by the index.
        params.update(email=query, email_lower=query.lower())
        return "o.billing_email IN (:email, :email_lower)"
    if len(query) < MIN_NAME_CHARS:
        raise ValidationError(
            f"Type at least {MIN_NAME_CHARS} characters of a name, a whole email address"
            " or an order number (e.g. FW-2026-0000123).",
            field="query",
        )
    lowered = query.lower()
    params.update(
        name=f"%{escape_like(query)}%",
        email_lo=lowered,
        email_hi=_prefix_bound(lowered),
        email_len=len(lowered),
    )
    return (
        "(o.billing_name ILIKE :name OR (o.billing_email >= :email_lo"
        " AND o.billing_email < :email_hi AND left(o.billing_email, :email_len) = :email_lo))"
    )


def search_orders(
    actor: Actor,
    *,
    query: str = "",
    event_id: uuid.UUID | None = None,
    status: str | None = None,
    after: OrderCursor | None = None,
    before: OrderCursor | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> OrderPage:
    """Orders matching `query` (an order number or its start, a buyer's email, or part of
    a buyer's name or the start of their email), optionally of one event and status,
    newest first, `limit` at a time. An empty query lists the most recent orders.

    Pass a page's `next` as `after` for older orders, its `previous` as `before` for newer
    ones. Raises ValidationError (a name shorter than three characters, an unknown status,
    a bad limit, both cursors), PermissionDenied without box_office.sell.
    """
    query = inputs.plain_text(query or "", "query", "The search").strip()
    if len(query) > MAX_QUERY_CHARS:
        raise ValidationError(f"Search for at most {MAX_QUERY_CHARS} characters.", field="query")
    if status is not None and (not isinstance(status, str) or status not in ORDER_STATUSES):
        raise ValidationError(
            f"Status must be one of: {', '.join(ORDER_STATUSES)}.", field="status"
        )
    if event_id is not None:
        inputs.uuid_value(event_id, "event_id", label="Event")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"Show between 1 and {MAX_PAGE_SIZE} orders.", field="limit")
    for cursor_, field in ((after, "after"), (before, "before")):
        if cursor_ is not None and not (
            isinstance(cursor_, OrderCursor)
            and isinstance(cursor_.created_at, datetime)
            and isinstance(cursor_.order_id, uuid.UUID)
        ):
            raise ValidationError("Page from an order the search returned.", field=field)
    if after is not None and before is not None:
        raise ValidationError("Page forwards or backwards, not both.", field="before")

    matched_by = classify_query(query)
    params: dict[str, Any] = {"limit": limit + 1}
    where = [_match_clause(matched_by, query, params)]
    if event_id is not None:
        where.append("o.event_id = :event_id")
        params["event_id"] = event_id
    if status is not None:
        where.append("o.status = :status")
        params["status"] = status
    cursor = after or before
    if cursor is not None:
        where.append(f"(o.created_at, o.id) {'<' if after else '>'} (:c_at, :c_id)")
        params.update(c_at=cursor.created_at, c_id=cursor.order_id)
    direction = "ASC" if before is not None else "DESC"
    # The page is chosen on orders alone (the index decides), then decorated: the event
    # title and ticket count cost one lookup per shown row, not per match.
    sql = f"""
        WITH page AS (
            SELECT o.id, o.order_number, o.created_at, o.billing_name, o.billing_email,
                   o.event_id, o.status, o.total_amount, o.currency
              FROM orders o
             WHERE {" AND ".join(where)}
             ORDER BY o.created_at {direction}, o.id {direction}
             LIMIT :limit
        )
        SELECT p.id, p.order_number, p.created_at, p.billing_name, p.billing_email,
               p.event_id, e.title, p.status,
               coalesce((SELECT sum(oi.quantity) FROM order_items oi
                          WHERE oi.order_id = p.id), 0),
               p.total_amount, p.currency
          FROM page p LEFT JOIN events e ON e.id = p.event_id
         ORDER BY p.created_at {direction}, p.id {direction}
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(BOX_OFFICE_SELL)
        rows = [
            OrderRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], int(r[8]), r[9], r[10])
            for r in uow.session.execute(text(sql), params)
        ]
    more = len(rows) > limit
    rows = rows[:limit]
    if before is not None:
        rows.reverse()
    first = OrderCursor(rows[0].created_at, rows[0].order_id) if rows else None
    last = OrderCursor(rows[-1].created_at, rows[-1].order_id) if rows else None
    if before is not None:
        previous, following = (first if more else None), last
    else:
        previous = first if after is not None else None
        following = last if more else None
    return OrderPage(tuple(rows), matched_by, following, previous)


def list_order_events(actor: Actor, *, limit: int = 1000) -> list[EventChoice]:
    """Events whose orders the actor sees (those they organise or work; an admin: all),
    newest start first, for choosing an event's orders or attendees. Raises
    PermissionDenied without box_office.sell."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(BOX_OFFICE_SELL)
        return list(read_event_choices(uow.session, sales_only=not actor.is_system, limit=limit))


_ORDER = text(
    """
    SELECT o.id, o.order_number, o.status, o.event_id, e.title, o.billing_name,
           o.billing_email, o.billing_phone, o.currency, o.subtotal, o.discount_amount,
           o.tax_amount, o.total_amount, o.payment_method, o.notes, o.created_at,
           o.completed_at, o.cancelled_at, o.refunded_at
      FROM orders o LEFT JOIN events e ON e.id = o.event_id
     WHERE o.id = :o
    """
)

_ITEMS = text(
    """
    SELECT oi.id, tt.name, tt.tier, oi.quantity, oi.unit_price, oi.subtotal,
           oi.discount_amount, oi.final_price, oi.tax_amount,
           coalesce(dc.code, pc.code),
           coalesce((SELECT jsonb_agg(jsonb_build_array(
                               s.id,
                               concat_ws(' ', sec.name,
                                         coalesce(vs.row_name, '') || vs.seat_number),
                               coalesce(s.id = ANY(oi.refunded_seat_ids), false))
                             ORDER BY sec.name, vs.row_name, length(vs.seat_number),
                                      vs.seat_number)
                       FROM unnest(oi.seat_ids) AS s(id)
                       JOIN venue_seats vs ON vs.id = s.id
                       JOIN venue_sections sec ON sec.id = vs.section_id), '[]'),
           oi.refunded_at, oi.refunded_quantity, oi.refunded_discount, oi.refunded_tax,
           oi.refunded_amount
      FROM order_items oi
      JOIN ticket_types tt ON tt.id = oi.ticket_type_id
      LEFT JOIN discount_codes dc ON dc.id = oi.discount_code_id
      LEFT JOIN promotional_codes pc ON pc.id = oi.promotional_code_id
     WHERE oi.order_id = :o
     ORDER BY tt.base_price DESC, tt.name, oi.id
    """
)

_DISCOUNTS = text(
    """
    SELECT coalesce(dc.code, pc.code),
           CASE WHEN oi.discount_code_id IS NOT NULL THEN 'discount code'
                ELSE 'promotional code' END,
           sum(oi.discount_amount)
      FROM order_items oi
      LEFT JOIN discount_codes dc ON dc.id = oi.discount_code_id
      LEFT JOIN promotional_codes pc ON pc.id = oi.promotional_code_id
     WHERE oi.order_id = :o
       AND (oi.discount_code_id IS NOT NULL OR oi.promotional_code_id IS NOT NULL)
     GROUP BY 1, 2 ORDER BY 1
    """
)

_PAYMENTS = text(
    "SELECT created_at, provider, method, amount, currency, reference FROM order_payments"
    " WHERE order_id = :o ORDER BY created_at, id"
)

# users is readable row by row under row-level security (own row, or all for admins):
# a refund by someone else shows who only to those allowed to know.
_REFUNDS = text(
    """
    SELECT r.created_at, r.amount, r.reason, r.method, r.reference,
           CASE WHEN oi.id IS NOT NULL THEN coalesce(r.quantity, oi.quantity) || ' × ' || tt.name
                || coalesce(' (' || (SELECT string_agg(coalesce(vs.row_name, '') || vs.seat_number,
                                                       ', ' ORDER BY vs.row_name,
                                                       length(vs.seat_number), vs.seat_number)
                                       FROM unnest(r.seat_ids) AS s(id)
                                       JOIN venue_seats vs ON vs.id = s.id) || ')', '') END,
           CASE WHEN r.refunded_by IS NULL THEN NULL
                ELSE coalesce(u.full_name, 'another user') END
      FROM order_refunds r
      LEFT JOIN order_items oi ON oi.id = r.order_item_id
      LEFT JOIN ticket_types tt ON tt.id = oi.ticket_type_id
      LEFT JOIN users u ON u.id = r.refunded_by
     WHERE r.order_id = :o
     ORDER BY r.created_at, r.id
    """
)


def _changes(old: dict[str, Any] | None, new: dict[str, Any] | None, redacted: bool) -> str:
    if redacted:
        return "(personal data erased)"
    old, new = old or {}, new or {}
    parts = []
    for key in sorted(set(old) | set(new)):
        if key in old and key in new:
            if old[key] != new[key]:
                parts.append(f"{key}: {old[key]} → {new[key]}")
        elif key in new:
            parts.append(f"{key}: {new[key]}")
        else:
            parts.append(f"{key}: {old[key]} → (removed)")
    return "; ".join(parts)


def get_order(actor: Actor, order_id: uuid.UUID) -> OrderDetail:
    """One order in full: buyer, amounts, items (ticket type, seats, prices, discount and
    tax per item, refunded or not), the codes used, payments, refunds and, for admins,
    its history from the audit trail: every entry of the order, its items, payments and
    refunds, oldest first.

    Raises ValidationError (order_id not an id), NotFound, PermissionDenied without
    box_office.sell.
    """
    order_id = inputs.uuid_value(order_id, "order_id", label="Order")
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(BOX_OFFICE_SELL)
        session = uow.session
        params = {"o": order_id}
        order = session.execute(_ORDER, params).first()
        if order is None:
            raise NotFound("That order does not exist.", field="order_id")
        items = tuple(
            OrderItemLine(
                *row[:10],
                tuple(SeatLine(uuid.UUID(i), label, gone) for i, label, gone in row[10]),
                *row[11:],
            )
            for row in session.execute(_ITEMS, params)
        )
        discounts = tuple(OrderDiscount(*row) for row in session.execute(_DISCOUNTS, params))
        payments = tuple(OrderPayment(*row) for row in session.execute(_PAYMENTS, params))
        refunds = tuple(OrderRefund(*row) for row in session.execute(_REFUNDS, params))
        # Asked rather than inferred from an empty result: an admin may see no history
        # because there is none, a non-admin because the policy hides it.
        visible = bool(session.execute(text("SELECT app_has_role('admin')")).scalar())
        history: tuple[HistoryEntry, ...] = ()
        if visible:
            history = tuple(
                HistoryEntry(
                    at=h.created_at,
                    actor=h.full_name
                    or h.email
                    or (f"user {str(h.user_id)[:8]}" if h.user_id else "system"),
                    action=h.action,
                    changes=_changes(h.old_data, h.new_data, h.is_redacted),
                )
                for h in order_history(session, order_id)
            )
    return OrderDetail(
        *order[:19],
        items=items,
        discounts=discounts,
        payments=payments,
        refunds=refunds,
        history=history,
        history_visible=visible,
    )


def describe_refund(detail: OrderDetail, result: RefundResult, *, cancelled: bool) -> str:
    """What a cancel_order / refund_order call on `detail` (the order as read before it)
    did, in a sentence for people: which tickets and seats, how much money by which
    method, how many tickets went back on sale."""
    given = {line.item_id: line for line in result.lines}
    parts = []
    # In the order's own item order, as the question before it listed them.
    for item in detail.items:
        line = given.get(item.item_id)
        if line is None:
            continue
        chosen = set(line.seat_ids)
        seats = [seat.label for seat in item.seat_lines if seat.seat_id in chosen]
        parts.append(
            f"{line.quantity} × {item.ticket_type}" + (f" ({', '.join(seats)})" if seats else "")
        )
    what = ", ".join(parts) or "nothing"
    verb = "Cancelled" if cancelled else "Refunded"
    money = (
        f"{detail.currency} {result.refunded_amount:,.2f} refunded"
        + (f" by {detail.payment_method}" if detail.payment_method else "")
        if result.refunded_amount > 0
        else "nothing to pay back"
    )
    tickets = "ticket" if result.released_tickets == 1 else "tickets"
    return (
        f"{verb} {detail.order_number}: {what}. {money}; {result.released_tickets} {tickets}"
        f" back on sale. The order is now {result.status}."
    )


def refund_amount(detail: OrderDetail, lines: Sequence[RefundLine] | None) -> Decimal:
    """What refund_order(..., lines=lines) on `detail` would give back, for a page to show
    before asking to confirm: each line's share as core.checkout.pricing.refund_share
    computes it, or what is left of every item when `lines` is None.

    Raises ValidationError as refund_order would for a line (core.checkout.refunds
    .refund_part): an item not refundable, a quantity out of range, seats not on it.
    """
    items = {item.item_id: item for item in detail.refundable_items}
    wanted = [RefundLine(item_id) for item_id in items] if lines is None else list(lines)
    total = Decimal("0.00")
    for line in wanted:
        item = items.get(line.item_id)
        if item is None:
            raise ValidationError(
                "An item is not in this order or was refunded already.", field="item_ids"
            )
        count, _ = refund_part(
            line,
            quantity=item.quantity,
            left=item.left,
            live_seats=tuple(seat.seat_id for seat in item.live_seats),
        )
        total += refund_share(
            quantity=item.quantity,
            unit_price=item.unit_price,
            discount=item.discount,
            tax=item.tax,
            already=item.refunded_quantity,
            count=count,
        ).amount
    return total
