"""Small factories for test rows, unique per call; they add to a session and flush."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from core.models import (
    DiscountCode,
    Event,
    EventStaff,
    TicketType,
    User,
    Venue,
    VenueSeat,
    VenueSection,
)


def _tag() -> str:
    return uuid.uuid4().hex[:10]


def make_user(session: Session, **overrides: object) -> User:
    tag = _tag()
    values: dict[str, object] = {
        "email": f"user-{tag}@example.com",
        "full_name": f"Test User {tag}",
        "user_type": "organizer",
        "status": "active",
    }
    values.update(overrides)
    user = User(**values)
    session.add(user)
    session.flush()
    return user


def make_event(session: Session, organizer: User | None = None, **overrides: object) -> Event:
    start = datetime.now(UTC) + timedelta(days=30)
    values: dict[str, object] = {
        "organizer_id": (organizer or make_user(session)).id,
        "title": f"Test Show {_tag()}",
        "start_date": start,
        "end_date": start + timedelta(hours=3),
        "type": "fashion_show",
    }
    values.update(overrides)
    event = Event(**values)
    session.add(event)
    session.flush()
    return event


def assign_staff(
    session: Session, event_id: uuid.UUID, user_id: uuid.UUID, *, by: uuid.UUID | None = None
) -> EventStaff:
    """`user_id` works `event_id` (sells at its box office, sees its orders)."""
    row = EventStaff(event_id=event_id, user_id=user_id, assigned_by=by)
    session.add(row)
    session.flush()
    return row


def make_ticket_type(
    session: Session, event: Event | None = None, **overrides: object
) -> TicketType:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "event_id": (event or make_event(session)).id,
        "name": f"General {_tag()}",
        "base_price": Decimal("50.00"),
        "total_capacity": 100,
        "remaining_capacity": 100,
        "sale_start_date": now - timedelta(days=1),
        "sale_end_date": now + timedelta(days=20),
        "tier": "general",
    }
    values.update(overrides)
    ticket_type = TicketType(**values)
    session.add(ticket_type)
    session.flush()
    return ticket_type


def make_discount_code(session: Session, **overrides: object) -> DiscountCode:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "code": f"CODE{_tag().upper()}",
        "discount_type": "percentage",
        "discount_value": Decimal("10"),
        "start_date": now - timedelta(days=1),
        "end_date": now + timedelta(days=30),
    }
    values.update(overrides)
    code = DiscountCode(**values)
    session.add(code)
    session.flush()
    return code


def make_seated_section(
    session: Session, seats: int, *, section_type: str = "general"
) -> tuple[Venue, VenueSection, list[VenueSeat]]:
    """A venue with one section of `seats` seats in row A, numbered from 1."""
    venue = Venue(
        name=f"Hall {_tag()}", address="1 Runway Road", city="Milan", country="IT", capacity=seats
    )
    session.add(venue)
    session.flush()
    section = VenueSection(
        venue_id=venue.id, name="Front row", capacity=seats, section_type=section_type
    )
    session.add(section)
    session.flush()
    rows = [
        VenueSeat(section_id=section.id, row_name="A", seat_number=str(n + 1)) for n in range(seats)
    ]
    session.add_all(rows)
    session.flush()
    return venue, section, rows
