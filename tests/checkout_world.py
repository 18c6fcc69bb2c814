"""A scratch database for the checkout tests, and factories for what the checkout sells.

`checkout_db` (module-scoped, requested as `checkout_db`) creates a database of its own,
migrates it to head and points core.db at it; afterwards the session database is put back.
Import it into a test module with `from tests.checkout_world import checkout_db_fixture`.

Every factory commits in a unit of work of its own, so the services under test see the rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from core.auth.permissions import role_id
from core.checkout.holds import Hold, HoldRequest, hold_tickets
from core.checkout.invariants import find_violations
from core.checkout.orders import Buyer, OrderRequest, PlacedOrder, place_order, quote_order
from core.db import Actor, unit_of_work, use_engine
from core.models import (
    DiscountCodeEvent,
    DiscountCodeTicketType,
    EventSeat,
    PromotionalCode,
    PromotionalCodeEvent,
    PromotionalCodeTicketType,
    VenueSeat,
)
from tests.factories import (
    make_discount_code,
    make_event,
    make_seated_section,
    make_ticket_type,
    make_user,
)

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory

ACTOR = Actor.system("pytest-checkout")
CODE_CHECKS = ("discount code", "promotional code")


@pytest.fixture(scope="module", name="checkout_db")
def checkout_db_fixture(databases: DatabaseFactory, engine: Engine) -> Iterator[Engine]:
    """A migrated database of this module's own; core.db uses it while the module runs."""
    from core.migrate import upgrade

    scratch = create_engine(
        databases.create("fashionistas_checkout"),
        pool_size=5,
        max_overflow=5,
        connect_args={"options": "-c timezone=UTC"},
    )
    upgrade(scratch)
    use_engine(scratch)
    try:
        yield scratch
    finally:
        use_engine(engine)
        scratch.dispose()


def tag() -> str:
    return uuid.uuid4().hex[:10]


# --- reading the database -------------------------------------------------------------


def rows(sql: str, **params: Any) -> list[Any]:
    with unit_of_work(ACTOR, read_only=True) as uow:
        return list(uow.session.execute(text(sql), params).all())


def one(sql: str, **params: Any) -> Any:
    with unit_of_work(ACTOR, read_only=True) as uow:
        return uow.session.execute(text(sql), params).one()


def scalar(sql: str, **params: Any) -> Any:
    with unit_of_work(ACTOR, read_only=True) as uow:
        return uow.session.execute(text(sql), params).scalar()


def execute(sql: str, **params: Any) -> None:
    """Write directly (simulating time passing or an organiser's change)."""
    with unit_of_work(ACTOR) as uow:
        uow.session.execute(text(sql), params)
        uow.commit()


def violations(
    event_id: uuid.UUID, codes: Sequence[str] = (), session: Session | None = None
) -> list[str]:
    """find_violations for the event; the code checks (which always cover every code in the
    database) are kept only for `codes`, so one test's broken code cannot fail another."""
    if session is None:
        with unit_of_work(ACTOR, read_only=True) as uow:
            found = find_violations(uow.session, event_id)
    else:
        found = find_violations(session, event_id)
    kept = []
    for violation in found:
        if violation.startswith(CODE_CHECKS):
            named = set(violation.split(": ", 1)[1].split(", "))
            if not named & set(codes):
                continue
        kept.append(violation)
    return kept


# --- what is on sale ------------------------------------------------------------------


@dataclass(frozen=True)
class SaleEvent:
    event_id: uuid.UUID
    organizer_id: uuid.UUID
    ticket_type_ids: tuple[uuid.UUID, ...]
    seat_type_id: uuid.UUID | None = None
    section_id: uuid.UUID | None = None
    seat_ids: tuple[uuid.UUID, ...] = ()


def make_sale_event(
    types: Sequence[Mapping[str, Any]] = ({},),
    *,
    status: str = "published",
    tax_rate: str | Decimal = "0",
    capacity: int | None = None,
    seats: int = 0,
    seat_type: Mapping[str, Any] | None = None,
) -> SaleEvent:
    """A published event with on-sale ticket types (50.00, capacity 10 unless overridden;
    `capacity` in a type's mapping sets total and remaining), and optionally a venue with
    one section of `seats` seats (row A), sold by one more ticket type, and its event_seats."""
    with unit_of_work(ACTOR) as uow:
        session = uow.session
        organizer = make_user(session)
        venue_id = None
        section = None
        seat_rows: list[VenueSeat] = []
        if seats:
            venue, section, seat_rows = make_seated_section(session, seats, section_type="vip")
            venue_id = venue.id
        event = make_event(
            session,
            organizer,
            status=status,
            tax_rate=Decimal(tax_rate),
            capacity=capacity,
            venue_id=venue_id,
        )
        type_ids = []
        for overrides in types:
            values = dict(overrides)
            cap = values.pop("capacity", 10)
            values.setdefault("total_capacity", cap)
            values.setdefault("remaining_capacity", values["total_capacity"])
            type_ids.append(make_ticket_type(session, event, **values).id)
        seat_type_id = None
        if section is not None:
            values = {"base_price": Decimal("80.00"), "tier": "vip", **(seat_type or {})}
            seat_type_id = make_ticket_type(
                session,
                event,
                total_capacity=seats,
                remaining_capacity=seats,
                seating_section_id=section.id,
                **values,
            ).id
            session.add_all(EventSeat(event_id=event.id, seat_id=seat.id) for seat in seat_rows)
            session.flush()
        uow.commit()
        return SaleEvent(
            event.id,
            organizer.id,
            tuple(type_ids),
            seat_type_id,
            section.id if section is not None else None,
            tuple(seat.id for seat in seat_rows),
        )


@dataclass(frozen=True)
class Code:
    kind: str  # discount or promo
    id: uuid.UUID
    code: str


def make_code(
    kind: str = "discount",
    discount_type: str = "percentage",
    value: str | Decimal = "10",
    *,
    events: Sequence[uuid.UUID] = (),
    ticket_types: Sequence[uuid.UUID] = (),
    maximum: str | Decimal | None = None,
    minimum: str | Decimal | None = None,
    usage_limit: int | None = None,
    once_per_customer: bool = False,
    first_purchase_only: bool = False,
    active: bool = True,
    starts: datetime | None = None,
    ends: datetime | None = None,
) -> Code:
    """A discount code (kind="discount") or a promotional code (kind="promo"), valid from
    yesterday for 30 days, for every event unless `events` is given."""
    now = datetime.now(UTC)
    text_ = f"{kind.upper()}{tag().upper()}"
    start = starts or now - timedelta(days=1)
    end = ends or now + timedelta(days=30)
    with unit_of_work(ACTOR) as uow:
        session = uow.session
        if kind == "discount":
            row: Any = make_discount_code(
                session,
                code=text_,
                discount_type=discount_type,
                discount_value=Decimal(value),
                minimum_order_amount=Decimal(minimum or 0),
                maximum_discount_amount=None if maximum is None else Decimal(maximum),
                usage_limit=usage_limit,
                is_one_time_use=once_per_customer,
                is_first_purchase_only=first_purchase_only,
                is_active=active,
                applies_to_all_events=not events,
                start_date=start,
                end_date=end,
            )
            session.add_all(DiscountCodeEvent(discount_code_id=row.id, event_id=e) for e in events)
            session.add_all(
                DiscountCodeTicketType(discount_code_id=row.id, ticket_type_id=t)
                for t in ticket_types
            )
        else:
            row = PromotionalCode(
                code=text_,
                discount_type=discount_type,
                discount_value=Decimal(value),
                min_purchase_amount=None if minimum is None else Decimal(minimum),
                max_discount_amount=None if maximum is None else Decimal(maximum),
                usage_limit=usage_limit,
                is_single_use=once_per_customer,
                is_first_purchase_only=first_purchase_only,
                is_active=active,
                start_date=start,
                end_date=end,
            )
            session.add(row)
            session.flush()
            session.add_all(
                PromotionalCodeEvent(promotional_code_id=row.id, event_id=e) for e in events
            )
            session.add_all(
                PromotionalCodeTicketType(promotional_code_id=row.id, ticket_type_id=t)
                for t in ticket_types
            )
        session.flush()
        uow.commit()
        return Code(kind, row.id, text_)


def code_usage(code: Code) -> int:
    if code.kind == "discount":
        return scalar("SELECT current_usage FROM discount_codes WHERE id = :c", c=code.id)
    return scalar("SELECT usage_count FROM promotional_codes WHERE id = :c", c=code.id)


def make_person(*roles: str) -> uuid.UUID:
    """A user with `roles` (default: organizer, who sells and refunds), for actors whose id
    must exist (order_refunds.refunded_by) and who pass the services' permission checks."""
    with unit_of_work(ACTOR) as uow:
        user_id = make_user(uow.session, user_type="organizer").id
        for role in roles or ("organizer",):
            uow.session.execute(
                text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
                {"u": user_id, "r": role_id(role)},
            )
        uow.commit()
    return user_id


@contextmanager
def hold_minutes(minutes: int) -> Iterator[None]:
    """Set system_configurations ('checkout', 'hold_minutes') for the block."""
    execute(
        "INSERT INTO system_configurations (category, key, value, value_type)"
        " VALUES ('checkout', 'hold_minutes', CAST(:v AS jsonb), 'number')"
        " ON CONFLICT (category, key) DO UPDATE SET value = excluded.value",
        v=str(minutes),
    )
    try:
        yield
    finally:
        execute("DELETE FROM system_configurations WHERE category = 'checkout'")


def expire_holds(event_id: uuid.UUID, session_id: str | None = None, **where: Any) -> None:
    """Move holds' expiry into the past, as if time had passed: the hold rows and the
    seats they hold (event_seats.held_until) alike. `lock_id=` narrows to one hold row."""
    lock_id = where.get("lock_id")
    execute(
        "WITH moved AS (UPDATE ticket_inventory_locks SET expires_at = now() - interval '1 minute'"
        " WHERE event_id = :e AND order_id IS NULL"
        " AND (CAST(:s AS text) IS NULL OR session_id = :s)"
        " AND (CAST(:l AS uuid) IS NULL OR id = :l) RETURNING id, expires_at)"
        " UPDATE event_seats es SET held_until = moved.expires_at FROM moved"
        " WHERE es.hold_id = moved.id",
        e=event_id,
        s=session_id,
        l=lock_id,
    )


# --- driving the services -------------------------------------------------------------


def buyer(**overrides: Any) -> Buyer:
    values: dict[str, Any] = {"name": "Ada Buyer", "email": f"ada-{tag()}@example.com"}
    values.update(overrides)
    return Buyer(**values)


def hold(
    event: SaleEvent,
    quantities: Mapping[uuid.UUID, int] | None = None,
    seats: Sequence[uuid.UUID] = (),
    session_id: str | None = None,
) -> Hold:
    return hold_tickets(
        ACTOR,
        HoldRequest(event.event_id, session_id or f"s-{tag()}", dict(quantities or {}), seats),
    )


def place(
    held: Hold,
    *,
    code: str | None = None,
    who: Buyer | None = None,
    method: str = "cash",
    key: str | None = None,
    expected: Decimal | None = None,
    actor: Actor = ACTOR,
) -> PlacedOrder:
    """Place the hold's session as an order; the expected total is the quote's unless given."""
    who = who or buyer()
    if expected is None:
        expected = quote_order(actor, held.event_id, held.session_id, code, who).total
    return place_order(
        actor,
        OrderRequest(
            event_id=held.event_id,
            session_id=held.session_id,
            buyer=who,
            payment_method=method,
            expected_total=expected,
            idempotency_key=key or f"k-{tag()}",
            code=code,
        ),
    )


def items(order_id: uuid.UUID) -> list[Any]:
    """The order's items, cheapest unit price first: id, ticket_type_id, quantity,
    unit_price, subtotal, discount_amount, final_price, tax_amount, discount_code_id,
    promotional_code_id, seat_ids, refunded_at."""
    return rows(
        "SELECT id, ticket_type_id, quantity, unit_price, subtotal, discount_amount,"
        " final_price, tax_amount, discount_code_id, promotional_code_id, seat_ids,"
        " refunded_at FROM order_items WHERE order_id = :o ORDER BY unit_price, id",
        o=order_id,
    )


def remaining(ticket_type_id: uuid.UUID) -> int:
    return scalar("SELECT remaining_capacity FROM ticket_types WHERE id = :t", t=ticket_type_id)


def seat_rows(event: SaleEvent) -> dict[uuid.UUID, Any]:
    """seat_id -> (status, hold_id, held_until, order_id, ticket_type_id, price)."""
    found = rows(
        "SELECT seat_id, status, hold_id, held_until, order_id, ticket_type_id, price"
        " FROM event_seats WHERE event_id = :e",
        e=event.event_id,
    )
    return {row[0]: row[1:] for row in found}
