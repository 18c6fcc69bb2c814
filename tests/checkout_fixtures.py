"""Shared by the checkout tests: a migrated scratch database and what the checkout sells.

API (kept small on purpose):

- `checkout_engine` (fixture, module scope): the Engine of a fresh database of its own,
  migrated to head, no demo data, installed as the process engine with core.db.use_engine
  while the module runs; the engine that was installed before is put back afterwards.
  Use it from a test module with

      from tests.checkout_fixtures import checkout_engine_fixture  # noqa: F401

  and ask for `checkout_engine` in a test's arguments. Its pool holds up to 40
  connections, enough for a few dozen buyer threads.
- `migrated_engine(databases, prefix)`: the same database, not installed (for a second
  database a module keeps apart, e.g. one where the tests' negative controls may leave
  broken invariants behind); dispose of it yourself.
- `installed(engine)`: a context manager that makes `engine` the process engine and puts
  the previous one back on leaving.
- `make_sale_event(session, *, capacity, ...) -> SaleEvent` and
  `make_code(session, *, usage_limit, ...) -> DiscountCode`: factories that add rows to
  `session` and flush; the caller commits (e.g. inside `unit_of_work(...)`, then
  `uow.commit()`), so the services under test, which use their own transactions, see them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

import core.db.engine as engine_module
from core.db import use_engine
from core.models import DiscountCode, DiscountCodeEvent, EventSeat, VenueSeat
from tests.factories import (
    make_discount_code,
    make_event,
    make_seated_section,
    make_ticket_type,
    make_user,
)

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory

__all__ = [
    "SaleEvent",
    "checkout_engine_fixture",
    "installed",
    "make_code",
    "make_sale_event",
    "migrated_engine",
]


def migrated_engine(databases: DatabaseFactory, prefix: str = "fashionistas_checkout") -> Engine:
    """A new database on the test server, migrated to head (about 1.5 s), not installed.

    It is dropped with the test session's other scratch databases; dispose of the engine.
    """
    from core.migrate import upgrade

    engine = create_engine(
        databases.create(prefix),
        pool_size=10,
        max_overflow=30,
        connect_args={"options": "-c timezone=UTC"},
    )
    upgrade(engine)
    return engine


@contextmanager
def installed(engine: Engine) -> Iterator[Engine]:
    """Make `engine` the process engine (core.db.use_engine) until the block ends."""
    previous = engine_module._engine
    use_engine(engine)
    try:
        yield engine
    finally:
        if previous is not None:
            use_engine(previous)
        else:
            with engine_module._lock:
                engine_module._engine = None
                engine_module._sessionmaker = None


@pytest.fixture(scope="module", name="checkout_engine")
def checkout_engine_fixture(databases: DatabaseFactory) -> Iterator[Engine]:
    """A migrated scratch database of the module's own, installed as the process engine."""
    engine = migrated_engine(databases)
    try:
        with installed(engine):
            yield engine
    finally:
        engine.dispose()


@dataclass(frozen=True)
class SaleEvent:
    """A published event with one ticket type on sale (and its seats, when it has any)."""

    event_id: uuid.UUID
    ticket_type_id: uuid.UUID
    seat_ids: tuple[uuid.UUID, ...]
    section_id: uuid.UUID | None


def make_sale_event(
    session: Session,
    *,
    capacity: int,
    event_capacity: int | None = None,
    seats: int = 0,
    tax_rate: Decimal = Decimal("0.0825"),
    price: Decimal = Decimal("40.00"),
    max_per_order: int | None = None,
) -> SaleEvent:
    """A published event (tax `tax_rate`, own capacity `event_capacity`) with one active
    ticket type of `capacity` at `price`, on sale since yesterday.

    With `seats` > 0 the event is at a new venue with one section of that many seats
    (row A, numbers 1..seats), each with an `available` event_seats row, and the ticket
    type sells that section (`seating_section_id`), so holding a seat needs no quantity.
    """
    venue_id = section_id = None
    seat_rows: list[VenueSeat] = []
    if seats:
        venue, section, seat_rows = make_seated_section(session, seats)
        venue_id, section_id = venue.id, section.id

    event = make_event(
        session,
        make_user(session),
        status="published",
        capacity=event_capacity,
        tax_rate=tax_rate,
        venue_id=venue_id,
        published_at=datetime.now(UTC),
    )
    ticket_type = make_ticket_type(
        session,
        event,
        base_price=price,
        total_capacity=capacity,
        remaining_capacity=capacity,
        seating_section_id=section_id,
        max_quantity_per_order=max_per_order,
    )
    session.add_all(EventSeat(event_id=event.id, seat_id=seat.id) for seat in seat_rows)
    session.flush()
    return SaleEvent(
        event.id, ticket_type.id, tuple(sorted(seat.id for seat in seat_rows)), section_id
    )


def make_code(
    session: Session,
    *,
    usage_limit: int | None,
    event_id: uuid.UUID | None = None,
    percent: Decimal = Decimal("10"),
    **overrides: object,
) -> DiscountCode:
    """An active `percent` % discount code valid from yesterday for 30 days, usable
    `usage_limit` times (None: unlimited); for every event, or only `event_id`'s.
    `overrides` are DiscountCode columns (e.g. is_one_time_use=True)."""
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "discount_type": "percentage",
        "discount_value": percent,
        "usage_limit": usage_limit,
        "applies_to_all_events": event_id is None,
        "start_date": now - timedelta(days=1),
        "end_date": now + timedelta(days=30),
    }
    values.update(overrides)
    code = make_discount_code(session, **values)
    if event_id is not None:
        session.add(DiscountCodeEvent(discount_code_id=code.id, event_id=event_id))
        session.flush()
    return code
