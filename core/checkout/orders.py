"""Orders: quote a hold, place it as a paid order, cancel or refund it.

Every function is one unit of work. Placing takes the locks of core.checkout.locking in
their fixed order, re-prices inside the transaction and refuses when the total differs
from the one the buyer was shown; the payment is recorded in the same transaction, so a
failure anywhere leaves no order, no sale and no code use behind.

An order without a code is placed by one database call (checkout_place, migration 0004)
sent with its commit in one round trip (core/checkout/wire.py); an order with a code takes
the statement-by-statement path below, with the same locks in the same order.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import BOX_OFFICE_SELL, ORDERS_REFUND
from core.checkout.errors import (
    AmountChanged,
    CodeNotValid,
    CodeUsedUp,
    HoldExpired,
    InvalidOrderState,
    SaleClosed,
    SeatTaken,
    SoldOut,
)
from core.checkout.holds import lock_event_capacity
from core.checkout.locking import (
    DEFAULT_LOCK_TIMEOUT_MS,
    NS_IDEMPOTENCY,
    NS_TICKET_TYPE,
    for_update,
    lock_all,
    locking_enabled,
    unsafe_pause,
)
from core.checkout.payments import BoxOfficePayments, PaymentProvider
from core.checkout.pricing import BuyerHistory, CodeRule, Line, Quote, price
from core.checkout.wire import PipelinedWork
from core.db import Actor, unit_of_work
from core.errors import NotFound, ValidationError

EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
LIVE_ORDER_STATUSES = ("pending", "completed")


@dataclass(frozen=True)
class Buyer:
    name: str
    email: str
    phone: str | None = None
    user_id: uuid.UUID | None = None


@dataclass(frozen=True)
class OrderRequest:
    event_id: uuid.UUID
    session_id: str
    buyer: Buyer
    payment_method: str
    expected_total: Decimal
    idempotency_key: str
    code: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class PlacedOrder:
    order_id: uuid.UUID
    order_number: str
    status: str
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    replayed: bool = False


@dataclass(frozen=True)
class _HoldRow:
    id: uuid.UUID
    ticket_type_id: uuid.UUID
    quantity: int
    live: bool
    seat_ids: tuple[uuid.UUID, ...]


def validate_buyer(buyer: Buyer) -> None:
    """The buyer details every order needs; a caller may check them before holding
    anything. Raises ValidationError naming billing_name or billing_email."""
    if not buyer.name or not buyer.name.strip():
        raise ValidationError("Buyer name is required.", field="billing_name")
    if not EMAIL.match((buyer.email or "").strip()):
        raise ValidationError("Buyer email must look like name@example.com.", field="billing_email")


def _holds(session: Session, event_id: uuid.UUID, session_id: str, lock: bool) -> list[_HoldRow]:
    rows = session.execute(
        text(
            "SELECT id, ticket_type_id, quantity, expires_at > now(), seat_ids"
            " FROM ticket_inventory_locks WHERE event_id = :e AND session_id = :s"
            " AND order_id IS NULL ORDER BY id" + (" FOR UPDATE" if lock else "")
        ),
        {"e": event_id, "s": session_id},
    ).all()
    holds = [_HoldRow(r[0], r[1], r[2], r[3], tuple(r[4] or ())) for r in rows]
    if not holds or not all(h.live for h in holds):
        raise HoldExpired("Your reservation has expired; choose the tickets again.")
    return holds


def _lines(session: Session, event_id: uuid.UUID, holds: Sequence[_HoldRow]) -> list[Line]:
    quantities: dict[uuid.UUID, int] = defaultdict(int)
    for hold in holds:
        quantities[hold.ticket_type_id] += hold.quantity
    rows = session.execute(
        text(
            "SELECT tt.id, tt.base_price, coalesce(tt.tax_rate, e.tax_rate)"
            " FROM ticket_types tt JOIN events e ON e.id = tt.event_id"
            " WHERE tt.event_id = :e AND tt.id = ANY(:ids) ORDER BY tt.id"
        ),
        {"e": event_id, "ids": list(quantities)},
    ).all()
    return [
        Line(tt_id, event_id, quantities[tt_id], base_price, tax_rate)
        for tt_id, base_price, tax_rate in rows
    ]


_DISCOUNT_CODE = """
    SELECT id, code, discount_type, discount_value, minimum_order_amount,
           maximum_discount_amount, start_date, end_date, usage_limit, current_usage,
           is_active, is_one_time_use, is_first_purchase_only, applies_to_all_events,
           ARRAY(SELECT event_id FROM discount_code_events WHERE discount_code_id = dc.id),
           ARRAY(SELECT ticket_type_id FROM discount_code_ticket_types
                  WHERE discount_code_id = dc.id)
      FROM discount_codes dc WHERE upper(code) = upper(:code)
"""
_PROMO_CODE = """
    SELECT id, code, discount_type, discount_value, coalesce(min_purchase_amount, 0),
           max_discount_amount, start_date, end_date, usage_limit, usage_count,
           is_active, is_single_use, is_first_purchase_only,
           ARRAY(SELECT event_id FROM promotional_code_events
                  WHERE promotional_code_id = pc.id),
           ARRAY(SELECT ticket_type_id FROM promotional_code_ticket_types
                  WHERE promotional_code_id = pc.id)
      FROM promotional_codes pc WHERE upper(code) = upper(:code)
"""


def load_code(session: Session, code: str, *, lock: bool) -> CodeRule:
    """The rule behind a discount or promotional code; the row is locked when `lock`.
    Raises CodeNotValid when no such code exists."""
    code = code.strip()
    suffix = for_update() if lock else ""
    row = session.execute(text(_DISCOUNT_CODE + suffix), {"code": code}).first()
    if row is not None:
        (
            id_,
            text_,
            dtype,
            value,
            minimum,
            maximum,
            start,
            end,
            limit,
            used,
            active,
            once,
            first,
            all_events,
            events,
            types,
        ) = row
        return CodeRule(
            "discount",
            id_,
            text_,
            dtype,
            value,
            minimum or Decimal(0),
            maximum,
            start,
            end,
            limit,
            used,
            active,
            once,
            first,
            None if all_events else frozenset(events),
            frozenset(types) if types else None,
        )
    row = session.execute(text(_PROMO_CODE + suffix), {"code": code}).first()
    if row is not None:
        (
            id_,
            text_,
            dtype,
            value,
            minimum,
            maximum,
            start,
            end,
            limit,
            used,
            active,
            once,
            first,
            events,
            types,
        ) = row
        return CodeRule(
            "promo",
            id_,
            text_,
            dtype,
            value,
            minimum,
            maximum,
            start,
            end,
            limit,
            used,
            active,
            once,
            first,
            frozenset(events) if events else None,
            frozenset(types) if types else None,
        )
    raise CodeNotValid(f"Code {code} does not exist.", field="code")


def _buyer_history(session: Session, rule: CodeRule | None, buyer: Buyer) -> BuyerHistory:
    params = {"u": buyer.user_id, "m": buyer.email, "statuses": list(LIVE_ORDER_STATUSES)}
    mine = (
        "(o.user_id = CAST(:u AS uuid) OR lower(o.billing_email) = lower(:m))"
        " AND o.status = ANY(:statuses)"
    )
    if rule is None:
        return BuyerHistory(has_prior_purchase=False, has_used_code=False)
    prior = False
    if rule.first_purchase_only:
        prior = session.execute(
            text(f"SELECT EXISTS (SELECT 1 FROM orders o WHERE {mine})"), params
        ).scalar()
    used = False
    if rule.one_per_customer:
        column = "discount_code_id" if rule.kind == "discount" else "promotional_code_id"
        used = session.execute(
            text(
                f"SELECT EXISTS (SELECT 1 FROM orders o JOIN order_items oi"
                f" ON oi.order_id = o.id WHERE {mine} AND oi.{column} = :c)"
            ),
            {**params, "c": rule.id},
        ).scalar()
    return BuyerHistory(has_prior_purchase=bool(prior), has_used_code=bool(used))


def quote_order(
    actor: Actor, event_id: uuid.UUID, session_id: str, code: str | None, buyer: Buyer
) -> Quote:
    """The price breakdown of what `session_id` holds, with an optional code, as the buyer
    will be charged. Raises HoldExpired, CodeNotValid, CodeUsedUp."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(BOX_OFFICE_SELL)
        session = uow.session
        holds = _holds(session, event_id, session_id, lock=False)
        lines = _lines(session, event_id, holds)
        rule = load_code(session, code, lock=False) if code else None
        now = session.execute(text("SELECT now()")).scalar()
        return price(lines, rule, now=now, buyer=_buyer_history(session, rule, buyer))


def _replay(session: Session, key: str) -> PlacedOrder | None:
    row = session.execute(
        text(
            "SELECT id, order_number, status, subtotal, discount_amount, tax_amount,"
            " total_amount FROM orders WHERE idempotency_key = :k"
        ),
        {"k": key},
    ).first()
    return PlacedOrder(*row, replayed=True) if row else None


def place_order(
    actor: Actor, request: OrderRequest, provider: PaymentProvider | None = None
) -> PlacedOrder:
    """Turn the session's hold into a paid order, once per idempotency key.

    The same key returns the order it created, even when two requests race. Raises
    ValidationError (buyer details, payment method), HoldExpired, SaleClosed, SoldOut,
    SeatTaken, CodeNotValid, CodeUsedUp, AmountChanged (the total differs from
    `expected_total`) and Busy (locks not granted within the lock timeout).
    """
    provider = provider or BoxOfficePayments()
    validate_buyer(request.buyer)
    if not request.idempotency_key:
        raise ValidationError("an idempotency key is required", field="idempotency_key")

    if not request.code:
        return _place_without_code(actor, request, provider)

    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(BOX_OFFICE_SELL)
        session = uow.session
        lock_all(session, NS_IDEMPOTENCY, [request.idempotency_key], always=True)
        replay = _replay(session, request.idempotency_key)
        if replay is not None:
            return replay

        status, now = session.execute(
            text("SELECT (SELECT status FROM events WHERE id = :e), now()"),
            {"e": request.event_id},
        ).one()
        if status != "published":
            raise SaleClosed("Tickets for this event are not on sale.")
        # The event lock (taken only when its capacity binds) and the ticket-type locks
        # serialise this sale with hold_tickets, which judges our hold by the clock: so our
        # hold must still be live *after* they are granted, not merely when we started.
        lock_event_capacity(session, request.event_id)
        holds = _holds(session, request.event_id, request.session_id, lock=True)
        lines = _lines(session, request.event_id, holds)
        lock_all(session, NS_TICKET_TYPE, [line.ticket_type_id for line in lines])
        _check_still_live(session, holds)
        remaining = dict(
            session.execute(
                text("SELECT id, remaining_capacity FROM ticket_types WHERE id = ANY(:ids)"),
                {"ids": [line.ticket_type_id for line in lines]},
            ).all()
        )
        for line in lines:
            if remaining[line.ticket_type_id] < line.quantity:
                raise SoldOut("Those tickets sold out while you were paying.", field="quantities")
        seat_ids = sorted(s for hold in holds for s in hold.seat_ids)
        if seat_ids:
            _check_held_seats(session, request.event_id, seat_ids, [h.id for h in holds])

        rule = load_code(session, request.code, lock=True) if request.code else None
        quote = price(lines, rule, now=now, buyer=_buyer_history(session, rule, request.buyer))
        if quote.total != request.expected_total:
            raise AmountChanged(
                f"The total is now {quote.total:.2f}, not the {request.expected_total:.2f}"
                " shown; please confirm the new total.",
                field="expected_total",
            )

        if rule is not None and quote.discount == 0:
            # A code worth nothing on these tickets is not used up by them: the order
            # carries no code, and the code's count and once-per-customer rule stay as
            # they were.
            rule = None

        unsafe_pause(session)
        order_id, order_number = _insert_order(session, actor, request, quote)
        seats_by_type: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for hold in holds:
            seats_by_type[hold.ticket_type_id].extend(hold.seat_ids)
        _insert_items(session, order_id, quote, rule, seats_by_type)
        for line in lines:
            # Read, check, write under the ticket type's lock (see locking.py).
            session.execute(
                text("UPDATE ticket_types SET remaining_capacity = :r WHERE id = :t"),
                {"r": remaining[line.ticket_type_id] - line.quantity, "t": line.ticket_type_id},
            )
        if seat_ids:
            session.execute(
                text(
                    "UPDATE event_seats es SET status = 'sold', order_id = :o, hold_id = NULL,"
                    " held_until = NULL, price = tt.base_price FROM ticket_types tt"
                    " WHERE tt.id = es.ticket_type_id AND es.event_id = :e"
                    " AND es.seat_id = ANY(:seats)"
                ),
                {"o": order_id, "e": request.event_id, "seats": seat_ids},
            )
        session.execute(
            text("DELETE FROM ticket_inventory_locks WHERE id = ANY(:ids)"),
            {"ids": [h.id for h in holds]},
        )
        if rule is not None:
            _use_code(session, rule, order_id, request.buyer, quote)

        payment = provider.charge(
            amount=quote.total,
            currency="USD",
            method=request.payment_method,
            order_number=order_number,
        )
        session.execute(
            text(
                "INSERT INTO order_payments (order_id, provider, method, amount, currency,"
                " reference) VALUES (:o, :p, :m, :a, 'USD', :r)"
            ),
            {
                "o": order_id,
                "p": payment.provider,
                "m": payment.method,
                "a": payment.amount,
                "r": payment.reference,
            },
        )
        session.execute(
            text(
                "UPDATE orders SET status = 'completed', completed_at = now(),"
                " payment_method = :m, payment_intent_id = :r WHERE id = :o"
            ),
            {"m": payment.method, "r": payment.reference, "o": order_id},
        )
        uow.commit()
    return PlacedOrder(
        order_id, order_number, "completed", quote.subtotal, quote.discount, quote.tax, quote.total
    )


_PLACE = (
    "SELECT o_id, o_number, o_status, o_subtotal, o_discount, o_tax, o_total, o_replayed"
    " FROM checkout_place(%(key)s, %(event)s, %(session)s, %(expected)s, %(user)s, %(email)s,"
    " %(name)s, %(phone)s, %(notes)s, %(ip)s, %(ua)s, %(provider)s, %(method)s,"
    " %(reference)s, %(methods)s::text[], %(free)s::text[], %(safe)s)"
)


def _place_without_code(
    actor: Actor, request: OrderRequest, provider: PaymentProvider
) -> PlacedOrder:
    """place_order for an order without a code: one call (checkout_place, migration
    0004) takes the locks in their order, checks, prices and writes, in the server.

    The built-in box-office provider's charge() only records the payment, so the call
    checks the method where charge() would, and records the payment, and the commit goes
    in the same round trip (core/checkout/wire.py). Any other provider is charged here,
    between the writes and the commit, as before."""
    buyer = request.buyer
    local = type(provider).charge is BoxOfficePayments.charge
    params = {
        "key": request.idempotency_key,
        "event": request.event_id,
        "session": request.session_id,
        "expected": request.expected_total,
        "user": buyer.user_id,
        "email": buyer.email.strip(),
        "name": buyer.name.strip(),
        "phone": buyer.phone,
        "notes": request.notes,
        "ip": actor.ip_address,
        "ua": actor.user_agent,
        "provider": BoxOfficePayments.name if local else None,
        "method": request.payment_method if local else None,
        "reference": BoxOfficePayments.new_reference() if local else None,
        "methods": list(BoxOfficePayments.methods),
        "free": list(BoxOfficePayments.free_methods),
        "safe": locking_enabled(),
    }
    try:
        with PipelinedWork(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as work:
            work.require(BOX_OFFICE_SELL)
            cursor = work.call(_PLACE, params)
            if local:
                work.commit()
                row = cursor.fetchone()
                assert row is not None
            else:
                work.sync()
                row = cursor.fetchone()
                assert row is not None
                if row[7]:  # replayed
                    return PlacedOrder(*row[:7], replayed=True)
                payment = provider.charge(
                    amount=row[6], currency="USD", method=request.payment_method,
                    order_number=row[1],
                )  # fmt: skip
                work.call(
                    "SELECT checkout_record_payment(%(o)s, %(p)s, %(m)s, %(a)s, %(r)s)",
                    {
                        "o": row[0],
                        "p": payment.provider,
                        "m": payment.method,
                        "a": payment.amount,
                        "r": payment.reference,
                    },
                )
                work.commit()
    except AmountChanged as exc:
        raise AmountChanged(
            f"The total is now {Decimal(exc.message):.2f}, not the"
            f" {request.expected_total:.2f} shown; please confirm the new total.",
            field="expected_total",
        ) from None
    except ValidationError as exc:
        if exc.field != "payment_method" or not local:
            raise
        BoxOfficePayments.check(Decimal(exc.message), request.payment_method)
        raise  # not reached: the function refuses only what check() refuses
    order_id, order_number, _, subtotal, discount, tax, total, replayed = row
    if replayed:
        return PlacedOrder(order_id, order_number, row[2], subtotal, discount, tax, total, True)
    return PlacedOrder(order_id, order_number, "completed", subtotal, discount, tax, total)


def _check_still_live(session: Session, holds: Sequence[_HoldRow]) -> None:
    live = session.execute(
        text(
            "SELECT count(*) FROM ticket_inventory_locks"
            " WHERE id = ANY(:ids) AND expires_at > clock_timestamp()"
        ),
        {"ids": [h.id for h in holds]},
    ).scalar()
    if live != len(holds):
        raise HoldExpired("Your reservation has expired; choose the tickets again.")


def _check_held_seats(
    session: Session, event_id: uuid.UUID, seat_ids: list[uuid.UUID], hold_ids: list[uuid.UUID]
) -> None:
    rows = session.execute(
        text(
            "SELECT seat_id, status = 'held' AND hold_id = ANY(:h)"
            " AND held_until > clock_timestamp()"
            " FROM event_seats WHERE event_id = :e AND seat_id = ANY(:s)"
            " ORDER BY seat_id" + for_update()
        ),
        {"e": event_id, "s": seat_ids, "h": hold_ids},
    ).all()
    if len(rows) != len(seat_ids) or not all(mine for _, mine in rows):
        raise SeatTaken(
            "A seat you chose is no longer held for you; choose again.", field="seat_ids"
        )


def _insert_order(
    session: Session, actor: Actor, request: OrderRequest, quote: Quote
) -> tuple[uuid.UUID, str]:
    buyer = request.buyer
    row = session.execute(
        text(
            "INSERT INTO orders (order_number, user_id, event_id, status, subtotal,"
            " discount_amount, tax_amount, total_amount, currency, idempotency_key,"
            " billing_email, billing_name, billing_phone, notes, ip_address, user_agent)"
            " VALUES ('FW-' || to_char(now(), 'YYYY') || '-'"
            "   || lpad(nextval('order_number_seq')::text, 7, '0'),"
            " :u, :e, 'pending', :sub, :disc, :tax, :total, 'USD', :k, :email, :name,"
            " :phone, :notes, :ip, :ua) RETURNING id, order_number"
        ),
        {
            "u": buyer.user_id,
            "e": request.event_id,
            "sub": quote.subtotal,
            "disc": quote.discount,
            "tax": quote.tax,
            "total": quote.total,
            "k": request.idempotency_key,
            "email": buyer.email.strip(),
            "name": buyer.name.strip(),
            "phone": buyer.phone,
            "notes": request.notes,
            "ip": actor.ip_address,
            "ua": actor.user_agent,
        },
    ).one()
    return row[0], row[1]


def _insert_items(
    session: Session,
    order_id: uuid.UUID,
    quote: Quote,
    rule: CodeRule | None,
    seats_by_type: dict[uuid.UUID, list[uuid.UUID]],
) -> None:
    for priced in quote.lines:
        line = priced.line
        discounted = priced.discount > 0 and rule is not None
        session.execute(
            text(
                "INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price,"
                " subtotal, discount_amount, final_price, tax_amount, discount_code_id,"
                " promotional_code_id, seat_ids)"
                " VALUES (:o, :t, :q, :p, :s, :d, :f, :tax, :dc, :pc, :seats)"
            ),
            {
                "o": order_id,
                "t": line.ticket_type_id,
                "q": line.quantity,
                "p": line.unit_price,
                "s": priced.subtotal,
                "d": priced.discount,
                "f": priced.final_price,
                "tax": priced.tax,
                "dc": rule.id if discounted and rule.kind == "discount" else None,
                "pc": rule.id if discounted and rule.kind == "promo" else None,
                "seats": sorted(seats_by_type.get(line.ticket_type_id, [])) or None,
            },
        )


def _use_code(
    session: Session, rule: CodeRule, order_id: uuid.UUID, buyer: Buyer, quote: Quote
) -> None:
    """Count one use of the code: read, check the limit, write (the row is locked)."""
    if rule.usage_limit is not None and rule.used >= rule.usage_limit:
        raise CodeUsedUp(f"Code {rule.code} has been used up.", field="code")
    if rule.kind == "discount":
        session.execute(
            text("UPDATE discount_codes SET current_usage = :n WHERE id = :c"),
            {"n": rule.used + 1, "c": rule.id},
        )
    else:
        session.execute(
            text("UPDATE promotional_codes SET usage_count = :n WHERE id = :c"),
            {"n": rule.used + 1, "c": rule.id},
        )
        session.execute(
            text(
                "INSERT INTO promotional_code_usage (code_id, user_id, order_id,"
                " discount_amount, order_total) VALUES (:c, :u, :o, :d, :t)"
            ),
            {
                "c": rule.id,
                "u": buyer.user_id,
                "o": order_id,
                "d": quote.discount,
                "t": quote.total,
            },
        )


@dataclass(frozen=True)
class RefundResult:
    order_id: uuid.UUID
    status: str
    refunded_amount: Decimal
    released_tickets: int


def cancel_order(actor: Actor, order_id: uuid.UUID, reason: str) -> RefundResult:
    """Cancel a pending or completed order: every remaining ticket goes back on sale, its
    seats are freed, the code use is given back and what was paid is refunded.
    Raises NotFound, InvalidOrderState, Busy."""
    return _give_back(actor, order_id, None, reason, cancel=True)


def refund_order(
    actor: Actor, order_id: uuid.UUID, reason: str, item_ids: Sequence[uuid.UUID] | None = None
) -> RefundResult:
    """Refund a completed order, whole or per item. Refunded tickets go back on sale; a
    whole refund (the last items) also gives the code use back. Raises NotFound,
    InvalidOrderState, ValidationError (an item not in the order or already refunded)."""
    return _give_back(actor, order_id, item_ids, reason, cancel=False)


def _give_back(
    actor: Actor,
    order_id: uuid.UUID,
    item_ids: Sequence[uuid.UUID] | None,
    reason: str,
    *,
    cancel: bool,
) -> RefundResult:
    if not reason or not reason.strip():
        raise ValidationError("a reason is required", field="reason")
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
        items = session.execute(
            text(
                "SELECT id, ticket_type_id, quantity, final_price + tax_amount, seat_ids,"
                " discount_code_id, promotional_code_id FROM order_items"
                " WHERE order_id = :o AND refunded_at IS NULL ORDER BY id"
            ),
            {"o": order_id},
        ).all()
        if item_ids is not None:
            unknown = set(item_ids) - {item[0] for item in items}
            if unknown:
                raise ValidationError(
                    "An item is not in this order or was refunded already.", field="item_ids"
                )
            items = [item for item in items if item[0] in set(item_ids)]
        if not items:
            raise InvalidOrderState("Nothing left to refund on this order.")

        lock_all(session, NS_TICKET_TYPE, [item[1] for item in items])
        released = _release(session, event_id, order_id, items)
        left = session.execute(
            text("SELECT count(*) FROM order_items WHERE order_id = :o AND refunded_at IS NULL"),
            {"o": order_id},
        ).scalar()
        paid = status == "completed"
        amount = sum((item[3] for item in items), Decimal("0.00")) if paid else Decimal("0.00")
        if amount > 0:
            refund = BoxOfficePayments().refund(
                amount=amount, currency="USD", method=method or "cash", order_number=order_number
            )
            for item in items:
                session.execute(
                    text(
                        "INSERT INTO order_refunds (order_id, order_item_id, amount, reason,"
                        " method, reference, refunded_by) VALUES (:o, :i, :a, :r, :m, :ref,"
                        " :by)"
                    ),
                    {
                        "o": order_id,
                        "i": item[0],
                        "a": item[3],
                        "r": reason.strip(),
                        "m": refund.method,
                        "ref": refund.reference,
                        "by": actor.user_id,
                    },
                )
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
    return RefundResult(order_id, new_status, amount, released)


def _release(session: Session, event_id: uuid.UUID, order_id: uuid.UUID, items: Sequence) -> int:
    quantities: dict[uuid.UUID, int] = defaultdict(int)
    for item in items:
        quantities[item[1]] += item[2]
    remaining = dict(
        session.execute(
            text("SELECT id, remaining_capacity FROM ticket_types WHERE id = ANY(:ids)"),
            {"ids": list(quantities)},
        ).all()
    )
    for ticket_type_id, quantity in sorted(quantities.items()):
        session.execute(
            text("UPDATE ticket_types SET remaining_capacity = :r WHERE id = :t"),
            {"r": remaining[ticket_type_id] + quantity, "t": ticket_type_id},
        )
    seats = sorted(s for item in items for s in (item[4] or ()))
    if seats:
        session.execute(
            text(
                "UPDATE event_seats SET status = 'available', order_id = NULL, price = NULL"
                " WHERE event_id = :e AND order_id = :o AND seat_id = ANY(:s)"
            ),
            {"e": event_id, "o": order_id, "s": seats},
        )
    session.execute(
        text("UPDATE order_items SET refunded_at = now() WHERE id = ANY(:ids)"),
        {"ids": [item[0] for item in items]},
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
