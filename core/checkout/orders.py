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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.auth.permissions import BOX_OFFICE_SELL
from core.checkout.errors import (
    AmountChanged,
    CodeNotValid,
    CodeUsedUp,
    HoldExpired,
    SaleClosed,
    SeatTaken,
    SoldOut,
)
from core.checkout.holds import lock_event_capacity, session_id_of
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
from core.checkout.refunds import (  # noqa: F401  (their home was this module)
    RefundLine,
    RefundResult,
    cancel_order,
    clean_reason,
    refund_order,
)
from core.checkout.refusals import refusal
from core.checkout.wire import PipelinedWork
from core.db import Actor, unit_of_work
from core.errors import NotFound, ValidationError
from core.models import DiscountCode, Order
from core.services import inputs

EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


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


def clean_buyer(buyer: Buyer) -> Buyer:
    """The buyer details every order needs, trimmed and held to the orders table's
    limits: a name, an email that looks like one, an optional phone, an optional user id.
    Raises ValidationError naming billing_name, billing_email, billing_phone or user_id."""
    if not isinstance(buyer, Buyer):
        raise ValidationError("Give the buyer's details.", field="billing_name")
    name = inputs.required_text(Order.billing_name, buyer.name)
    email = inputs.text_value(Order.billing_email, buyer.email)
    if email is None or not EMAIL.match(email):
        raise ValidationError("Buyer email must look like name@example.com.", field="billing_email")
    phone = inputs.text_value(Order.billing_phone, buyer.phone)
    user_id = (
        None
        if buyer.user_id is None
        else inputs.uuid_value(buyer.user_id, "user_id", label="The buyer's account")
    )
    return Buyer(name, email, phone, user_id)


def validate_buyer(buyer: Buyer) -> None:
    """clean_buyer for a caller that checks the buyer before holding anything."""
    clean_buyer(buyer)


def clean_code(code: object) -> str | None:
    """A discount or promotional code as typed, trimmed, or None. Raises ValidationError
    on field code."""
    return inputs.text_value(DiscountCode.code, code, field="code", label="Code")


def clean_order_request(request: OrderRequest) -> OrderRequest:
    """`request` with every field checked and trimmed: ids are UUIDs, the session id and
    the idempotency key tokens (visible ASCII, at most 200), the buyer as clean_buyer, the
    payment method, code and notes text within their columns' limits, and the expected
    total an exact amount (a Decimal or an int in whole cents; a float is refused, see
    inputs.money). Raises ValidationError naming the field."""
    if not isinstance(request, OrderRequest):
        raise ValidationError("Give an OrderRequest.", field="request")
    return OrderRequest(
        event_id=inputs.uuid_value(request.event_id, "event_id", label="Event"),
        session_id=session_id_of(request.session_id),
        buyer=clean_buyer(request.buyer),
        payment_method=inputs.required_text(
            Order.payment_method, request.payment_method, label="Payment method"
        ),
        expected_total=inputs.money(
            request.expected_total, "expected_total", label="Expected total"
        ),
        idempotency_key=inputs.required_text(
            Order.idempotency_key, request.idempotency_key, strip=False
        ),
        code=clean_code(request.code),
        notes=inputs.text_value(Order.notes, request.notes),
    )


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
    # Across all of the buyer's live orders, not only those of the seller's events that
    # row-level security shows: one yes/no each from checkout_buyer_history (migration 0013).
    if rule is None or not (rule.first_purchase_only or rule.one_per_customer):
        return BuyerHistory(has_prior_purchase=False, has_used_code=False)
    prior, used = session.execute(
        text("SELECT * FROM checkout_buyer_history(CAST(:u AS uuid), :m, :kind, :c)"),
        {
            "u": buyer.user_id,
            "m": buyer.email,
            "kind": rule.kind,
            "c": rule.id if rule.one_per_customer else None,
        },
    ).one()
    return BuyerHistory(
        has_prior_purchase=bool(prior) and rule.first_purchase_only,
        has_used_code=bool(used),
    )


def quote_order(
    actor: Actor, event_id: uuid.UUID, session_id: str, code: str | None, buyer: Buyer
) -> Quote:
    """The price breakdown of what `session_id` holds, with an optional code, as the buyer
    will be charged. Raises ValidationError (event_id, session_id, code, the buyer's
    fields), HoldExpired, CodeNotValid, CodeUsedUp and Unavailable."""
    event_id = inputs.uuid_value(event_id, "event_id", label="Event")
    session_id = session_id_of(session_id)
    code = clean_code(code)
    buyer = clean_buyer(buyer)
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(BOX_OFFICE_SELL)
        session = uow.session
        holds = _holds(session, event_id, session_id, lock=False)
        lines = _lines(session, event_id, holds)
        rule = load_code(session, code, lock=False) if code else None
        now = session.execute(text("SELECT now()")).scalar()
        return price(lines, rule, now=now, buyer=_buyer_history(session, rule, buyer))


def preview_code(
    actor: Actor,
    event_id: uuid.UUID,
    code: str,
    quantities: Mapping[uuid.UUID, int],
    buyer: Buyer | None = None,
) -> Quote:
    """What `code` would take off these tickets of the event now, without holding them:
    the price breakdown quote_order would give for a hold of `quantities` (the same rule,
    check_code and price), for a shop to check a code before the buyer chooses seats.
    The once-per-customer and first-purchase rules are judged only when `buyer` is given.
    Raises ValidationError (event_id, quantities, code, buyer), NotFound (a ticket type
    not of the event), CodeNotValid, CodeUsedUp and Unavailable."""
    event_id = inputs.uuid_value(event_id, "event_id", label="Event")
    cleaned = clean_code(code)
    if not cleaned:
        raise ValidationError("Give the code to check.", field="code")
    if not isinstance(quantities, Mapping) or not quantities or len(quantities) > 100:
        raise ValidationError("Give 1 to 100 ticket types with quantities.", field="quantities")
    wanted = {
        inputs.uuid_value(t, "quantities", label="A ticket type"): inputs.whole_number(
            q, "quantities", label="Each quantity", low=1, high=10_000
        )
        for t, q in quantities.items()
    }
    buyer = clean_buyer(buyer) if buyer is not None else None
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(BOX_OFFICE_SELL)
        session = uow.session
        holds = [_HoldRow(uuid.uuid4(), t, q, True, ()) for t, q in sorted(wanted.items())]
        lines = _lines(session, event_id, holds)
        if len(lines) != len(wanted):
            raise NotFound("A ticket type is not one of this event's.", field="quantities")
        rule = load_code(session, cleaned, lock=False)
        now = session.execute(text("SELECT now()")).scalar()
        history = _buyer_history(session, rule, buyer) if buyer else BuyerHistory()
        return price(lines, rule, now=now, buyer=history)


def _request_params(request: OrderRequest) -> dict[str, object]:
    """What checkout_replay and checkout_fingerprint (migration 0010) compare."""
    buyer = request.buyer
    return {
        "k": request.idempotency_key,
        "e": request.event_id,
        "s": request.session_id,
        "u": buyer.user_id,
        "email": buyer.email,
        "name": buyer.name,
        "phone": buyer.phone,
        "notes": request.notes,
        "method": request.payment_method,
        "code": request.code,
        "expected": request.expected_total,
    }


def _replay(session: Session, request: OrderRequest) -> PlacedOrder | None:
    """The order placed under the request's key when the request is the same; None when
    the key is new. Raises IdempotencyConflict for a different request under the key."""
    try:
        row = session.execute(
            text(
                "SELECT o_id, o_number, o_status, o_subtotal, o_discount, o_tax, o_total"
                " FROM checkout_replay(:k, :e, :s, :u, :email, :name, :phone, :notes, :method,"
                " :code, :expected)"
            ),
            _request_params(request),
        ).first()
    except DBAPIError as exc:
        refused = refusal(exc)
        if refused is None:
            raise
        raise refused from exc
    return PlacedOrder(*row, replayed=True) if row else None


def place_order(
    actor: Actor, request: OrderRequest, provider: PaymentProvider | None = None
) -> PlacedOrder:
    """Turn the session's hold into a paid order, once per idempotency key.

    The same request under a key returns the order it created, even when two requests
    race; a different request under a key already used (another buyer, session, tickets,
    seats, payment method, code, notes or total) is refused with IdempotencyConflict and
    changes nothing: its own hold stays its own, to place under a new key. Raises
    ValidationError (see clean_order_request), IdempotencyConflict, HoldExpired,
    SaleClosed, SoldOut, SeatTaken, CodeNotValid, CodeUsedUp, AmountChanged (the total
    differs from `expected_total`), Busy (locks not granted within the lock timeout) and
    Unavailable (the database could not be reached; retrying with the same key is safe).
    """
    provider = provider or BoxOfficePayments()
    request = clean_order_request(request)

    if not request.code:
        return _place_without_code(actor, request, provider)

    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(BOX_OFFICE_SELL)
        session = uow.session
        lock_all(session, NS_IDEMPOTENCY, [request.idempotency_key], always=True)
        replay = _replay(session, request)
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
        order_id, order_number = _insert_order(session, actor, request, quote, holds)
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
        "email": buyer.email,
        "name": buyer.name,
        "phone": buyer.phone,
        "notes": request.notes,
        "ip": actor.ip_address,
        "ua": actor.user_agent,
        "provider": BoxOfficePayments.name if local else None,
        # Always: the fingerprint covers it; the function records it only when it records
        # the payment (a reference is given).
        "method": request.payment_method,
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
    session: Session,
    actor: Actor,
    request: OrderRequest,
    quote: Quote,
    holds: Sequence[_HoldRow],
) -> tuple[uuid.UUID, str]:
    row = session.execute(
        text(
            "INSERT INTO orders (order_number, user_id, event_id, status, subtotal,"
            " discount_amount, tax_amount, total_amount, currency, idempotency_key,"
            " billing_email, billing_name, billing_phone, notes, ip_address, user_agent,"
            " idempotency_fingerprint)"
            " VALUES ('FW-' || to_char(now(), 'YYYY') || '-'"
            "   || lpad(nextval('order_number_seq')::text, 7, '0'),"
            " :u, :e, 'pending', :sub, :disc, :tax, :total, 'USD', :k, :email, :name,"
            " :phone, :notes, :ip, :ua,"
            " checkout_fingerprint(:e, :s, :u, :email, :name, :phone, :notes, :method, :code,"
            "   :expected, checkout_lines_of_holds(CAST(:holds AS uuid[]))))"
            " RETURNING id, order_number"
        ),
        {
            **_request_params(request),
            "sub": quote.subtotal,
            "disc": quote.discount,
            "tax": quote.tax,
            "total": quote.total,
            "ip": actor.ip_address,
            "ua": actor.user_agent,
            "holds": [h.id for h in holds],
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
