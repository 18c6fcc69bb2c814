"""A seated event built from nothing through the organizer services can sell its seats:
venue, section, seat grid, event, ticket type for the section, then the checkout."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, text

from core.auth import Identity
from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.orders import Buyer, OrderRequest, place_order, quote_order
from core.services.events import EventInput, create_event, publish_event
from core.services.ticket_types import TicketTypeDraft, create_ticket_type
from core.services.venues import (
    SeatGridSpec,
    SectionInput,
    VenueInput,
    block_seats,
    create_section,
    create_venue,
    generate_seat_grid,
    list_section_seats,
)


def seat_statuses(owner: Engine, event_id: uuid.UUID) -> dict[str, int]:
    with owner.connect() as conn:
        rows = conn.execute(
            text("SELECT status, count(*) FROM event_seats WHERE event_id = :e GROUP BY 1"),
            {"e": event_id},
        ).all()
    return {status: n for status, n in rows}


def test_a_new_seated_event_gets_its_seats_and_sells_them(
    owner: Engine, organizer: Identity
) -> None:
    actor = organizer.actor(user_agent="pytest")
    tag = uuid.uuid4().hex[:6]
    venue = create_venue(
        actor, VenueInput(name=f"Hall {tag}", address="1 Main St", city="Lyon", country="FR")
    )
    section = create_section(actor, venue.venue_id, SectionInput(name="Stalls", capacity=30))
    generate_seat_grid(actor, section.section_id, SeatGridSpec(rows=3, seats_per_row=10))
    seats = list_section_seats(actor, section.section_id)
    broken = seats[0]
    block_seats(actor, section.section_id, [broken.seat_id], "broken armrest")

    start = datetime.now(UTC) + timedelta(days=20)
    event = create_event(
        actor,
        EventInput(
            title=f"Seated show {tag}",
            start_date=start,
            end_date=start + timedelta(hours=2),
            type="fashion_show",
            venue_id=venue.venue_id,
        ),
    )
    assert seat_statuses(owner, event.event_id) == {}, "no ticket type sells a section yet"

    create_ticket_type(
        actor,
        event.event_id,
        TicketTypeDraft(
            name="Stalls",
            tier="general",
            price=Decimal("40.00"),
            capacity=30,
            sale_start=datetime.now(UTC) - timedelta(days=1),
            sale_end=start,
            section_id=section.section_id,
        ),
    )
    assert seat_statuses(owner, event.event_id) == {"available": 29, "blocked": 1}
    with owner.connect() as conn:
        reason = conn.execute(
            text("SELECT blocked_reason FROM event_seats WHERE event_id = :e AND seat_id = :s"),
            {"e": event.event_id, "s": broken.seat_id},
        ).scalar_one()
    assert reason == "broken armrest"

    publish_event(actor, event.event_id)
    session_id = f"seated-{tag}"
    chosen = [seats[1].seat_id, seats[2].seat_id]
    hold_tickets(actor, HoldRequest(event.event_id, session_id, seat_ids=chosen))
    buyer = Buyer(name="Walk In", email=f"walk-{tag}@example.com")
    total = quote_order(actor, event.event_id, session_id, None, buyer).total
    placed = place_order(
        actor,
        OrderRequest(
            event_id=event.event_id,
            session_id=session_id,
            buyer=buyer,
            payment_method="cash",
            expected_total=total,
            idempotency_key=f"seated-{tag}",
        ),
    )
    assert placed.status == "completed" and placed.total == Decimal("80.00")
    assert seat_statuses(owner, event.event_id) == {"available": 27, "blocked": 1, "sold": 2}


def test_a_grid_built_after_the_ticket_type_reaches_the_event(
    owner: Engine, organizer: Identity
) -> None:
    actor = organizer.actor(user_agent="pytest")
    tag = uuid.uuid4().hex[:6]
    venue = create_venue(
        actor, VenueInput(name=f"Loft {tag}", address="2 Side St", city="Oslo", country="NO")
    )
    section = create_section(actor, venue.venue_id, SectionInput(name="Floor", capacity=12))
    start = datetime.now(UTC) + timedelta(days=9)
    event = create_event(
        actor,
        EventInput(
            title=f"Loft show {tag}",
            start_date=start,
            end_date=start + timedelta(hours=1),
            type="fashion_show",
            venue_id=venue.venue_id,
        ),
    )
    create_ticket_type(
        actor,
        event.event_id,
        TicketTypeDraft(
            name="Floor",
            tier="general",
            price=Decimal("15.00"),
            capacity=12,
            sale_start=datetime.now(UTC),
            sale_end=start,
            section_id=section.section_id,
        ),
    )
    assert seat_statuses(owner, event.event_id) == {}
    generate_seat_grid(actor, section.section_id, SeatGridSpec(rows=2, seats_per_row=6))
    assert seat_statuses(owner, event.event_id) == {"available": 12}
