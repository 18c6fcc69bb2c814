"""Giving tickets back: cancel an order, or refund all of it, some items, some tickets or
some seats of an item.

An item keeps count of what it gave back (refunded_quantity, refunded_discount,
refunded_tax, refunded_amount, refunded_seat_ids; migration 0010): a refund of n tickets
gives back their cumulative per-ticket shares of the item's discount and tax
(pricing.refund_share), so refunding every ticket, at once or one at a time, gives back
exactly what the item cost. Refunded tickets go back on sale (the ticket type's
remaining capacity grows by them), refunded seats become available; the order becomes
refunded when nothing of it is left, and only then is the code use given back.

Each call is one unit of work: the order row is locked first, then the ticket types
(core.checkout.locking), so two refunds of one order queue and a sale never interleaves.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import ORDERS_REFUND
from core.checkout.errors import InvalidOrderState
from core.checkout.locking import DEFAULT_LOCK_TIMEOUT_MS, NS_TICKET_TYPE, lock_all
from core.checkout.payments import BoxOfficePayments
from core.checkout.pricing import ZERO, RefundShare, refund_share
from core.db import Actor, unit_of_work
from core.errors import NotFound, ValidationError
from core.models import OrderRefund
from core.models.ticketing import LIVE_ORDER_STATUSES
from core.services import inputs

MAX_LINES = 500


@dataclass(frozen=True)
class RefundLine:
    """Part of one item to give back: `quantity` of its tickets, among them the seats
    `seat_ids`. With seats only, the quantity is the number of seats; an item whose
    remaining tickets all have seats is refunded by choosing the seats."""

    item_id: uuid.UUID
    quantity: int | None = None
    seat_ids: Sequence[uuid.UUID] = ()


@dataclass(frozen=True)
class RefundedLine:
    """What one item gave back in a refund or cancellation."""

    item_id: uuid.UUID
    quantity: int
    seat_ids: tuple[uuid.UUID, ...]
    amount: Decimal


@dataclass(frozen=True)
class RefundResult:
    order_id: uuid.UUID
    status: str
    refunded_amount: Decimal
    released_tickets: int
    lines: tuple[RefundedLine, ...] = ()


def clean_reason(reason: object) -> str:
    """The reason a refund or cancellation is recorded with, trimmed; ValidationError
    (field reason) when it is missing or too long. Pages ask it before they ask to
    confirm."""
    return inputs.required_text(OrderRefund.reason, reason, field="reason", label="Reason")


def cancel_order(actor: Actor, order_id: uuid.UUID, reason: str) -> RefundResult:
    """Cancel a pending or completed order: every ticket still on it goes back on sale,
    its seats are freed, the code use is given back and what is left of the payment is
    refunded. Raises ValidationError (reason), NotFound, InvalidOrderState, Busy and
    Unavailable."""
    return _give_back(actor, order_id, None, reason, cancel=True)


def refund_order(
    actor: Actor,
    order_id: uuid.UUID,
    reason: str,
    item_ids: Sequence[uuid.UUID] | None = None,
    *,
    lines: Sequence[RefundLine] | None = None,
) -> RefundResult:
    """Refund a completed order: all that is left of it (neither `item_ids` nor
    `lines`), all that is left of some items (`item_ids`), or some tickets and seats of
    items (`lines`). Refunded tickets go back on sale and their seats become free; the
    order is refunded once nothing is left, which also gives the code use back.

    Raises ValidationError (reason; item_ids or lines naming an item not in the order or
    refunded already, a quantity beyond what is left, a seat not on the item, tickets of
    a seated item without saying which seats), NotFound, InvalidOrderState, Busy and
    Unavailable.
    """
    if item_ids is not None and lines is not None:
        raise ValidationError("Refund whole items or lines, not both.", field="lines")
    wanted: list[RefundLine] | None = None
    if item_ids is not None:
        ids = inputs.uuid_list(item_ids, "item_ids", label="Items", most=MAX_LINES)
        wanted = [RefundLine(item_id) for item_id in ids]
    elif lines is not None:
        if isinstance(lines, (str, bytes)) or not isinstance(lines, Sequence):
            raise ValidationError("Lines must be a list of RefundLine.", field="lines")
        if not all(isinstance(line, RefundLine) for line in lines) or len(lines) > MAX_LINES:
            raise ValidationError(
                f"Lines must be at most {MAX_LINES} RefundLine entries.", field="lines"
            )
        wanted = list(lines)
        if not wanted:
            raise ValidationError("Choose what to refund.", field="lines")
    return _give_back(actor, order_id, wanted, reason, cancel=False)


@dataclass(frozen=True)
class _Item:
    id: uuid.UUID
    ticket_type_id: uuid.UUID
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    seat_ids: tuple[uuid.UUID, ...]
    refunded_quantity: int
    refunded_seat_ids: tuple[uuid.UUID, ...]

    @property
    def left(self) -> int:
        return self.quantity - self.refunded_quantity

    @property
    def live_seats(self) -> tuple[uuid.UUID, ...]:
        gone = set(self.refunded_seat_ids)
        return tuple(s for s in self.seat_ids if s not in gone)

    @property
    def unseated_left(self) -> int:
        return self.left - len(self.live_seats)


@dataclass(frozen=True)
class _Take:
    item: _Item
    seat_ids: tuple[uuid.UUID, ...]
    share: RefundShare


_ITEMS = text(
    "SELECT id, ticket_type_id, quantity, unit_price, discount_amount, tax_amount,"
    " coalesce(seat_ids, '{}'), refunded_quantity, coalesce(refunded_seat_ids, '{}')"
    " FROM order_items WHERE order_id = :o AND refunded_at IS NULL ORDER BY id"
)


def _plan(items: Sequence[_Item], wanted: Sequence[RefundLine] | None) -> list[_Take]:
    """What each item gives back: everything left (`wanted` None), or the lines."""
    by_id = {item.id: item for item in items}
    chosen: list[tuple[_Item, int, tuple[uuid.UUID, ...]]] = []
    if wanted is None:
        chosen = [(item, item.left, item.live_seats) for item in items]
    else:
        seen: set[uuid.UUID] = set()
        for line in wanted:
            item_id = inputs.uuid_value(line.item_id, "item_ids", label="An item")
            item = by_id.get(item_id)
            if item is None:
                raise ValidationError(
                    "An item is not in this order or was refunded already.", field="item_ids"
                )
            if item_id in seen:
                raise ValidationError("An item is listed twice.", field="item_ids")
            seen.add(item_id)
            chosen.append((item, *_part(item, line)))
    return [
        _Take(
            item,
            seats,
            refund_share(
                quantity=item.quantity,
                unit_price=item.unit_price,
                discount=item.discount,
                tax=item.tax,
                already=item.refunded_quantity,
                count=count,
            ),
        )
        for item, count, seats in chosen
    ]


def _part(item: _Item, line: RefundLine) -> tuple[int, tuple[uuid.UUID, ...]]:
    """How many tickets and which seats of `item` the line gives back."""
    return refund_part(line, quantity=item.quantity, left=item.left, live_seats=item.live_seats)


def refund_part(
    line: RefundLine,
    *,
    quantity: int,
    left: int,
    live_seats: Sequence[uuid.UUID],
) -> tuple[int, tuple[uuid.UUID, ...]]:
    """How many tickets and which seats `line` gives back of an item of `quantity`
    tickets with `left` not refunded, `live_seats` among them: the one rule refunds and
    the page's preview (core.services.orders.refund_amount) both apply.

    Raises ValidationError (quantity below 1 or beyond what is left; seat_ids naming a
    seat not on the item, more seats than tickets, or tickets of seats left unchosen).
    """
    seats = inputs.uuid_list(line.seat_ids, "seat_ids", label="Seats", most=quantity)
    if line.quantity is None and not seats:
        return left, tuple(live_seats)  # a whole item
    count = (
        len(seats)
        if line.quantity is None
        else inputs.whole_number(
            line.quantity, "quantity", label="Tickets to refund", low=1, high=left
        )
    )
    if not set(seats) <= set(live_seats):
        raise ValidationError(
            "A seat is not on this item or was refunded already.", field="seat_ids"
        )
    if len(seats) > count:
        raise ValidationError(
            f"{len(seats)} seats were chosen for {count} tickets.", field="seat_ids"
        )
    if count - len(seats) > left - len(live_seats):
        raise ValidationError(
            f"Choose which seats to refund: {len(live_seats)} of the {left}"
            " tickets left on this item have seats.",
            field="seat_ids",
        )
    return count, tuple(sorted(seats))


def _give_back(
    actor: Actor,
    order_id: uuid.UUID,
    wanted: Sequence[RefundLine] | None,
    reason: str,
    *,
    cancel: bool,
) -> RefundResult:
    reason = clean_reason(reason)
    order_id = inputs.uuid_value(order_id, "order_id", label="Order")
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(ORDERS_REFUND)
        session = uow.session
        order = session.execute(
            text(
                "SELECT status, event_id, payment_method, order_number FROM orders"
                " WHERE id = :o FOR UPDATE"
            ),
            {"o": order_id},
        ).first()
        if order is None:
            raise NotFound("That order does not exist.", field="order_id")
        status, event_id, method, order_number = order
        allowed = LIVE_ORDER_STATUSES if cancel else ("completed",)
        if status not in allowed:
            verb = "cancelled" if cancel else "refunded"
            raise InvalidOrderState(f"A {status} order cannot be {verb}.")
        items = [
            _Item(r[0], r[1], r[2], r[3], r[4], r[5], tuple(r[6]), r[7], tuple(r[8]))
            for r in session.execute(_ITEMS, {"o": order_id})
        ]
        takes = _plan(items, wanted)
        if not takes:
            raise InvalidOrderState("Nothing left to refund on this order.")

        lock_all(session, NS_TICKET_TYPE, [t.item.ticket_type_id for t in takes])
        paid = status == "completed"
        released = _release(session, event_id, order_id, takes, paid=paid)
        amount = sum((t.share.amount for t in takes), ZERO) if paid else ZERO
        if paid:
            _record(session, actor, order_id, method, order_number, reason, takes, amount)
        left = session.execute(
            text("SELECT count(*) FROM order_items WHERE order_id = :o AND refunded_at IS NULL"),
            {"o": order_id},
        ).scalar()
        if cancel:
            new_status = "cancelled"
            session.execute(
                text("UPDATE orders SET status = 'cancelled', cancelled_at = now() WHERE id = :o"),
                {"o": order_id},
            )
        elif left == 0:
            new_status = "refunded"
            session.execute(
                text("UPDATE orders SET status = 'refunded', refunded_at = now() WHERE id = :o"),
                {"o": order_id},
            )
        else:
            new_status = status
        if new_status != status:
            _return_code_use(session, order_id)
        uow.commit()
    return RefundResult(
        order_id,
        new_status,
        amount,
        released,
        tuple(
            RefundedLine(t.item.id, t.share.quantity, t.seat_ids, t.share.amount if paid else ZERO)
            for t in takes
        ),
    )


def _record(
    session: Session,
    actor: Actor,
    order_id: uuid.UUID,
    method: str | None,
    order_number: str,
    reason: str,
    takes: Sequence[_Take],
    amount: Decimal,
) -> None:
    """The money goes back in one payment; each item's share is a refund row of its own."""
    refund = BoxOfficePayments().refund(
        amount=amount, currency="USD", method=method or "cash", order_number=order_number
    )
    for take in takes:
        paid = take.share
        session.execute(
            text(
                "INSERT INTO order_refunds (order_id, order_item_id, amount, quantity, seat_ids,"
                " discount_amount, tax_amount, reason, method, reference, refunded_by)"
                " VALUES (:o, :i, :a, :q, :seats, :d, :t, :r, :m, :ref, :by)"
            ),
            {
                "o": order_id,
                "i": take.item.id,
                "a": paid.amount,
                "q": paid.quantity,
                "seats": list(take.seat_ids) or None,
                "d": paid.discount,
                "t": paid.tax,
                "r": reason,
                "m": refund.method,
                "ref": refund.reference,
                "by": actor.user_id,
            },
        )


def _release(
    session: Session,
    event_id: uuid.UUID,
    order_id: uuid.UUID,
    takes: Sequence[_Take],
    *,
    paid: bool,
) -> int:
    """Tickets back on sale, seats free, each item's count of what it gave back (money
    only when the order was paid)."""
    quantities: dict[uuid.UUID, int] = defaultdict(int)
    for take in takes:
        quantities[take.item.ticket_type_id] += take.share.quantity
    remaining = dict(
        session.execute(
            text("SELECT id, remaining_capacity FROM ticket_types WHERE id = ANY(:ids)"),
            {"ids": list(quantities)},
        ).all()
    )
    for ticket_type_id, quantity in sorted(quantities.items()):
        # Read, check, write under the ticket type's lock (see locking.py).
        session.execute(
            text("UPDATE ticket_types SET remaining_capacity = :r WHERE id = :t"),
            {"r": remaining[ticket_type_id] + quantity, "t": ticket_type_id},
        )
    seats = sorted(s for take in takes for s in take.seat_ids)
    if seats:
        session.execute(
            text(
                "UPDATE event_seats SET status = 'available', order_id = NULL, price = NULL"
                " WHERE event_id = :e AND order_id = :o AND seat_id = ANY(:s)"
            ),
            {"e": event_id, "o": order_id, "s": seats},
        )
    for take in takes:
        session.execute(
            text(
                "UPDATE order_items SET refunded_quantity = refunded_quantity + :q,"
                " refunded_discount = refunded_discount + :d,"
                " refunded_tax = refunded_tax + :t, refunded_amount = refunded_amount + :a,"
                " refunded_seat_ids = CASE WHEN cardinality(CAST(:seats AS uuid[])) > 0"
                "   THEN ARRAY(SELECT DISTINCT s FROM unnest(coalesce(refunded_seat_ids, '{}')"
                "   || CAST(:seats AS uuid[])) AS s ORDER BY 1) ELSE refunded_seat_ids END,"
                " refunded_at = CASE WHEN refunded_quantity + :q = quantity THEN now() END"
                " WHERE id = :i"
            ),
            {
                "q": take.share.quantity,
                "d": take.share.discount if paid else ZERO,
                "t": take.share.tax if paid else ZERO,
                "a": take.share.amount if paid else ZERO,
                "seats": list(take.seat_ids),
                "i": take.item.id,
            },
        )
    return sum(quantities.values())


def _return_code_use(session: Session, order_id: uuid.UUID) -> None:
    """The whole order is gone: the code may be used again (once per customer included)."""
    codes = session.execute(
        text(
            "SELECT DISTINCT discount_code_id, promotional_code_id FROM order_items"
            " WHERE order_id = :o AND (discount_code_id IS NOT NULL"
            " OR promotional_code_id IS NOT NULL)"
        ),
        {"o": order_id},
    ).all()
    for discount_code_id, promotional_code_id in codes:
        if discount_code_id is not None:
            session.execute(
                text(
                    "UPDATE discount_codes SET current_usage = greatest(current_usage - 1, 0)"
                    " WHERE id = :c"
                ),
                {"c": discount_code_id},
            )
        if promotional_code_id is not None:
            session.execute(
                text(
                    "UPDATE promotional_codes SET usage_count = greatest(usage_count - 1, 0)"
                    " WHERE id = :c"
                ),
                {"c": promotional_code_id},
            )
            session.execute(
                text("DELETE FROM promotional_code_usage WHERE code_id = :c AND order_id = :o"),
                {"c": promotional_code_id, "o": order_id},
            )
