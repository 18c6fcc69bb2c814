"""Selling at the box office: what is on sale, and a walk-in sale through the checkout.

A sale is the checkout's own steps (docs/CHECKOUT.md), nothing written here: `quote_sale`
replaces the browser session's hold with the chosen tickets and seats (hold_tickets) and
prices it (quote_order); `take_payment` places the order once per idempotency key
(place_order with the box-office payment provider). Each step is one unit of work of the
checkout, which checks box_office.sell itself; the reads here check it too.

A seller sells only for the events they organise or work (admins: every event): each
service says so first (core.services.event_staff.require_sale_access), and the database
refuses the hold and the order anyway (migration 0013's policies).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text

from core.auth.permissions import BOX_OFFICE_SELL
from core.checkout.availability import read_availability
from core.checkout.holds import Hold, HoldRequest, hold_tickets, release_hold
from core.checkout.orders import (
    Buyer,
    OrderRequest,
    clean_code,
    place_order,
    quote_order,
    validate_buyer,
)
from core.checkout.payments import BoxOfficePayments
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import DomainError, NotFound, ValidationError
from core.models import Order
from core.services import inputs
from core.services.event_staff import require_sale_access

__all__ = [
    "PAYMENT_METHODS",
    "Buyer",
    "CompletedSale",
    "Payment",
    "SaleEventOption",
    "SaleLine",
    "SaleOptions",
    "SaleQuote",
    "SaleRequest",
    "SaleTicketType",
    "get_sale_options",
    "hold_sale",
    "hold_seats",
    "list_sale_events",
    "new_checkout_session_id",
    "new_idempotency_key",
    "quote_sale",
    "release_sale",
    "take_payment",
]

PAYMENT_METHODS = BoxOfficePayments.methods


@dataclass(frozen=True)
class SaleEventOption:
    event_id: uuid.UUID
    title: str
    start_date: datetime
    venue_name: str | None
    seated: bool


@dataclass(frozen=True)
class SaleTicketType:
    ticket_type_id: uuid.UUID
    name: str
    tier: str
    price: Decimal
    capacity: int
    sold: int
    held: int
    max_per_order: int | None
    on_sale: bool
    # Seated types sell specific seats (chosen on the seat map), not bare quantities.
    sold_by_seat: bool
    section_name: str | None

    @property
    def free(self) -> int:
        return max(self.capacity - self.sold - self.held, 0)


@dataclass(frozen=True)
class SaleOptions:
    event_id: uuid.UUID
    title: str
    start_date: datetime
    status: str
    venue_name: str | None
    ticket_types: tuple[SaleTicketType, ...]
    payment_methods: tuple[str, ...] = PAYMENT_METHODS


@dataclass(frozen=True)
class SaleRequest:
    """What the buyer wants: quantities of unseated types and/or specific seats."""

    event_id: uuid.UUID
    session_id: str
    buyer: Buyer
    quantities: Mapping[uuid.UUID, int] = field(default_factory=dict)
    seat_ids: Sequence[uuid.UUID] = ()
    code: str | None = None


@dataclass(frozen=True)
class SaleLine:
    ticket_type_id: uuid.UUID
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    discount: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.tax


@dataclass(frozen=True)
class SaleQuote:
    """The breakdown the buyer is shown; `total` is what take_payment must charge."""

    event_id: uuid.UUID
    session_id: str
    lines: tuple[SaleLine, ...]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    code: str | None
    hold_expires_at: datetime
    seat_ids: tuple[uuid.UUID, ...]


# What the desk charges for: the checkout's own order request.
Payment = OrderRequest


@dataclass(frozen=True)
class CompletedSale:
    order_id: uuid.UUID
    order_number: str
    status: str
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    payment_method: str
    # True when this idempotency key had already sold: the same order, not a second one.
    replayed: bool


def new_checkout_session_id() -> str:
    """A checkout session id for one browser session (holds are kept per session)."""
    return f"box-office-{uuid.uuid4().hex}"


def new_idempotency_key() -> str:
    """A key for one sale attempt: repeating the attempt with it never sells twice."""
    return f"box-office-sale-{uuid.uuid4().hex}"


def _check_sale_access(actor: Actor, event_id: uuid.UUID) -> None:
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(BOX_OFFICE_SELL)
        require_sale_access(uow.session, actor, event_id)


def list_sale_events(actor: Actor, *, search: str = "", limit: int = 50) -> list[SaleEventOption]:
    """Published events that have not ended and that the actor organises or works (an
    admin: all), matching `search` in the title, soonest first, at most `limit`. Raises
    PermissionDenied without box_office.sell."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(BOX_OFFICE_SELL)
        rows = uow.session.execute(
            text(
                "SELECT e.id, e.title, e.start_date, v.name,"
                "       EXISTS (SELECT 1 FROM event_seats es WHERE es.event_id = e.id)"
                "  FROM events e LEFT JOIN venues v ON v.id = e.venue_id"
                " WHERE e.status = 'published' AND e.end_date > now()"
                "   AND (:system OR e.id = ANY(app_my_event_ids()))"
                "   AND (:search = '' OR e.title ILIKE :pattern)"
                " ORDER BY e.start_date, e.id LIMIT :limit"
            ),
            {
                "system": actor.is_system,
                "search": search.strip(),
                "pattern": f"%{escape_like(search.strip())}%",
                "limit": max(1, min(int(limit), 500)),
            },
        ).all()
    return [SaleEventOption(*row) for row in rows]


def get_sale_options(actor: Actor, event_id: uuid.UUID) -> SaleOptions:
    """The event's ticket types with price, free count (capacity less sold and unexpired
    holds), per-order limit and whether they are on sale now. Raises PermissionDenied
    (box_office.sell, and an event the actor organises or works), NotFound."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(BOX_OFFICE_SELL)
        session = uow.session
        require_sale_access(session, actor, event_id)
        event = session.execute(
            text(
                "SELECT e.title, e.start_date, e.status, v.name FROM events e"
                " LEFT JOIN venues v ON v.id = e.venue_id WHERE e.id = :e"
            ),
            {"e": event_id},
        ).first()
        if event is None:
            raise NotFound("That event does not exist.", field="event_id")
        details = {
            row[0]: row[1:]
            for row in session.execute(
                text(
                    "SELECT tt.id, tt.max_quantity_per_order,"
                    " tt.is_active AND tt.sale_start_date <= now() AND now() < tt.sale_end_date,"
                    " tt.seating_section_id IS NOT NULL, s.name"
                    " FROM ticket_types tt"
                    " LEFT JOIN venue_sections s ON s.id = tt.seating_section_id"
                    " WHERE tt.event_id = :e"
                ),
                {"e": event_id},
            )
        }
        types = tuple(
            SaleTicketType(
                ticket_type_id=a.ticket_type_id,
                name=a.name,
                tier=a.tier,
                price=a.price,
                capacity=a.capacity,
                sold=a.sold,
                held=a.held,
                max_per_order=details[a.ticket_type_id][0],
                on_sale=bool(details[a.ticket_type_id][1]) and event[2] == "published",
                sold_by_seat=bool(details[a.ticket_type_id][2]),
                section_name=details[a.ticket_type_id][3],
            )
            for a in read_availability(session, event_id).ticket_types
        )
    return SaleOptions(event_id, event[0], event[1], event[2], event[3], types)


def quote_sale(actor: Actor, request: SaleRequest) -> SaleQuote:
    """Hold what the buyer wants for `request.session_id` and price it.

    The session's earlier hold for the event is given back first (so choosing again
    replaces it instead of adding to it); seats the seat map held for this session are
    simply held again. Raises ValidationError (buyer name or email, nothing chosen,
    quantities), NotFound, SaleClosed, LimitExceeded, SoldOut, SeatTaken, CodeNotValid,
    CodeUsedUp, HoldExpired, PermissionDenied and Busy. When the quote is refused (a code
    that does not apply) the hold is given back, seats from the seat map included.
    """
    validate_buyer(request.buyer)
    if not isinstance(request.quantities, Mapping):
        raise ValidationError(
            "Quantities must map ticket types to numbers of tickets.", field="quantities"
        )
    # A zero is a ticket type not chosen; anything else is the checkout's to judge (1.5
    # is refused there, never truncated here).
    quantities = {
        tt: q
        for tt, q in request.quantities.items()
        if isinstance(q, bool) or not (isinstance(q, int) and q == 0)
    }
    if not quantities and not request.seat_ids:
        raise ValidationError("Choose at least one ticket or seat.", field="quantities")
    code = clean_code(request.code)
    _check_sale_access(actor, request.event_id)
    release_hold(actor, request.event_id, request.session_id)
    hold = hold_tickets(
        actor,
        HoldRequest(request.event_id, request.session_id, quantities, request.seat_ids),
    )
    try:
        quote = quote_order(actor, request.event_id, request.session_id, code, request.buyer)
    except DomainError:
        # A refused code must not keep the tickets from other buyers until the hold runs
        # out; the next quote holds them again.
        release_hold(actor, request.event_id, request.session_id)
        raise
    return SaleQuote(
        event_id=request.event_id,
        session_id=request.session_id,
        lines=tuple(
            SaleLine(
                ticket_type_id=priced.line.ticket_type_id,
                quantity=priced.line.quantity,
                unit_price=priced.line.unit_price,
                subtotal=priced.subtotal,
                discount=priced.discount,
                tax=priced.tax,
            )
            for priced in quote.lines
        ),
        subtotal=quote.subtotal,
        discount=quote.discount,
        tax=quote.tax,
        total=quote.total,
        code=code,
        hold_expires_at=hold.expires_at,
        seat_ids=hold.seat_ids,
    )


def hold_seats(
    actor: Actor, event_id: uuid.UUID, session_id: str, seat_ids: Sequence[uuid.UUID]
) -> Hold:
    """Hold seats for `session_id` (added to what it holds already) until the checkout's
    hold time runs out. Raises ValidationError, NotFound, SaleClosed, LimitExceeded,
    SoldOut, SeatTaken, PermissionDenied (an event the actor neither organises nor works)
    and Busy."""
    _check_sale_access(actor, event_id)
    return hold_tickets(actor, HoldRequest(event_id, session_id, seat_ids=tuple(seat_ids)))


def hold_sale(
    actor: Actor,
    event_id: uuid.UUID,
    session_id: str,
    *,
    quantities: Mapping[uuid.UUID, int] | None = None,
    seat_ids: Sequence[uuid.UUID] = (),
) -> Hold:
    """Hold quantities of ticket types and/or seats for `session_id` (added to what it
    holds already) until the checkout's hold time runs out: hold_seats for any ticket
    type (the API's holds). Raises ValidationError (see
    core.checkout.holds.clean_hold_request), NotFound, SaleClosed, LimitExceeded, SoldOut,
    SeatTaken, PermissionDenied (an event the actor neither organises nor works) and
    Busy."""
    _check_sale_access(actor, event_id)
    return hold_tickets(
        actor, HoldRequest(event_id, session_id, dict(quantities or {}), tuple(seat_ids))
    )


def release_sale(actor: Actor, event_id: uuid.UUID, session_id: str) -> int:
    """Give back everything `session_id` holds for the event; returns tickets released.
    Raises PermissionDenied and Busy."""
    return release_hold(actor, event_id, session_id)


def take_payment(actor: Actor, payment: Payment) -> CompletedSale:
    """Charge the quoted total at the desk (cash, card terminal or complimentary) and
    turn the session's hold into a completed order, once per idempotency key: the same
    key again returns the same order (`replayed`).

    Raises ValidationError (buyer, payment method, a complimentary order above 0.00),
    HoldExpired, SaleClosed, SoldOut, SeatTaken, CodeNotValid, CodeUsedUp,
    AmountChanged (the total is no longer `expected_total`), PermissionDenied and Busy.
    """
    if not isinstance(payment.payment_method, str) or payment.payment_method not in PAYMENT_METHODS:
        raise ValidationError(
            f"Payment method must be one of: {', '.join(PAYMENT_METHODS)}.",
            field="payment_method",
        )
    _check_sale_access(actor, payment.event_id)
    placed = place_order(
        actor,
        replace(
            payment,
            code=clean_code(payment.code),
            notes=inputs.text_value(Order.notes, payment.notes),
        ),
        BoxOfficePayments(),
    )
    return CompletedSale(
        order_id=placed.order_id,
        order_number=placed.order_number,
        status=placed.status,
        subtotal=placed.subtotal,
        discount=placed.discount,
        tax=placed.tax,
        total=placed.total,
        payment_method=payment.payment_method,
        replayed=placed.replayed,
    )
