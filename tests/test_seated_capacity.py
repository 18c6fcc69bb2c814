"""Defect 3: a seated ticket type could have more capacity than its section has seats
(100 for 40). Refused with the numbers, by core/services/ticket_types.py before it writes
and by the database for every writer (migration 0010's triggers), in both directions: a
type's capacity above its section's seats, and a section's seats below the capacity of a
type selling it. A section without seats (standing room) is held to neither, and several
types may sell one section, each within its seats.

On a database of this module's own, through the app role (row-level security applies).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.auth import Identity
from core.db import unit_of_work
from core.errors import ValidationError
from core.models import User
from core.services.ticket_types import (
    TicketTypeDraft,
    create_ticket_type,
    get_event_ticket_types,
    update_ticket_type,
)
from core.services.venues import SeatGridSpec, generate_seat_grid
from tests.factories import make_event, make_seated_section

NOW = datetime.now(UTC).replace(microsecond=0)
REFUSED = "Section Floor has 40 seats; capacity 100 is more than that."


def floor(owner: Engine, organizer: Identity, seats: int = 40) -> tuple[uuid.UUID, uuid.UUID]:
    """An event of `organizer` at a venue whose one section, Floor, has `seats` seats;
    (event id, section id)."""
    with Session(owner) as s, s.begin():
        venue, section, _ = make_seated_section(s, seats)
        section.name = "Floor"
        event = make_event(s, s.get(User, organizer.user_id), venue_id=venue.id)
        return event.id, section.id


def draft(section_id: uuid.UUID | None, capacity: int, name: str = "Floor") -> TicketTypeDraft:
    return TicketTypeDraft(
        name=name,
        tier="general",
        price=Decimal("50.00"),
        capacity=capacity,
        sale_start=NOW - timedelta(days=1),
        sale_end=NOW + timedelta(days=10),
        section_id=section_id,
    )


def types_of(owner: Engine, event_id: uuid.UUID) -> list[tuple[str, int]]:
    with owner.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT name, total_capacity FROM ticket_types WHERE event_id = :e"
                    " ORDER BY name"
                ),
                {"e": event_id},
            )
        ]


def seats_of(owner: Engine, section_id: uuid.UUID) -> int:
    with owner.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM venue_seats WHERE section_id = :s"), {"s": section_id}
        ).scalar_one()


def test_the_service_refuses_a_capacity_above_the_sections_seats(
    owner: Engine, organizer: Identity
) -> None:
    event_id, section_id = floor(owner, organizer)
    actor = organizer.actor()
    with pytest.raises(ValidationError) as caught:
        create_ticket_type(actor, event_id, draft(section_id, 100))
    assert (caught.value.field, caught.value.message) == ("total_capacity", REFUSED)
    assert types_of(owner, event_id) == []

    made = create_ticket_type(actor, event_id, draft(section_id, 40))
    with pytest.raises(ValidationError) as caught:
        update_ticket_type(actor, made.ticket_type_id, made.version, draft(section_id, 41))
    assert caught.value.message == "Section Floor has 40 seats; capacity 41 is more than that."
    assert types_of(owner, event_id) == [("Floor", 40)]
    # The page's section picker says how many seats there are.
    (section,) = get_event_ticket_types(actor, event_id).sections
    assert (section.name, section.seats) == ("Floor", 40)


def test_the_database_refuses_it_for_any_writer(owner: Engine, organizer: Identity) -> None:
    """Python bypassed: the app role's own SQL (reported as the service would), and the
    owner's through psycopg."""
    event_id, section_id = floor(owner, organizer)
    made = create_ticket_type(organizer.actor(), event_id, draft(section_id, 40))
    with pytest.raises(ValidationError) as caught, unit_of_work(organizer.actor()) as uow:
        uow.session.execute(
            text("UPDATE ticket_types SET total_capacity = 100 WHERE id = :t"),
            {"t": made.ticket_type_id},
        )
        uow.commit()
    assert (caught.value.field, caught.value.message) == ("total_capacity", REFUSED)

    url = owner.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.CheckViolation) as raw:
        conn.execute(
            "INSERT INTO ticket_types (event_id, name, base_price, total_capacity,"
            " remaining_capacity, sale_start_date, sale_end_date, tier, seating_section_id)"
            " VALUES (%s, 'Sneaky', 1, 100, 100, now(), now() + interval '1 day', 'general', %s)",
            (event_id, section_id),
        )
    assert raw.value.diag.message_primary == REFUSED
    assert raw.value.diag.column_name == "total_capacity"
    assert types_of(owner, event_id) == [("Floor", 40)]


def test_seats_cannot_go_below_the_capacity_of_a_type_selling_them(
    owner: Engine, organizer: Identity
) -> None:
    """The other direction: a smaller seat grid, or seats deleted, under a type of 40."""
    event_id, section_id = floor(owner, organizer)
    create_ticket_type(organizer.actor(), event_id, draft(section_id, 40))
    with pytest.raises(ValidationError) as caught:
        generate_seat_grid(
            organizer.actor(), section_id, SeatGridSpec(rows=5, seats_per_row=6), replace=True
        )
    assert caught.value.message == (
        "Section Floor would have 30 seats, fewer than the 40 a ticket type selling it has"
        " as capacity; lower that capacity first."
    )
    assert seats_of(owner, section_id) == 40

    with owner.connect() as conn, pytest.raises(Exception) as raw, conn.begin():
        conn.execute(
            text(
                "DELETE FROM venue_seats WHERE id = (SELECT id FROM venue_seats"
                " WHERE section_id = :s LIMIT 1)"
            ),
            {"s": section_id},
        )
    assert "would have 39 seats" in str(raw.value)
    assert seats_of(owner, section_id) == 40

    # A grid as large as the capacity, or larger, is fine.
    result = generate_seat_grid(
        organizer.actor(), section_id, SeatGridSpec(rows=5, seats_per_row=8), replace=True
    )
    assert result.seats == 40 and seats_of(owner, section_id) == 40


def test_standing_room_and_several_types_on_one_section(owner: Engine, organizer: Identity) -> None:
    """A section without seats sells by number, unbounded by seats; several types (sale
    rounds, tiers) may sell one section, each within its seats."""
    event_id, section_id = floor(owner, organizer)
    actor = organizer.actor()
    create_ticket_type(actor, event_id, draft(section_id, 40, "Early bird"))
    create_ticket_type(actor, event_id, draft(section_id, 40, "Regular"))
    with pytest.raises(ValidationError):
        create_ticket_type(actor, event_id, draft(section_id, 41, "Late"))
    assert types_of(owner, event_id) == [("Early bird", 40), ("Regular", 40)]

    standing_event, standing = floor(owner, organizer, seats=0)
    made = create_ticket_type(actor, standing_event, draft(standing, 500, "Standing"))
    assert made.capacity == 500


def test_a_capacity_change_and_a_seat_change_of_one_section_cannot_pass_each_other(
    owner: Engine, organizer: Identity
) -> None:
    """Alone, each is fine (30 seats left for a type of 30; 40 capacity on 40 seats);
    together they would leave 40 capacity on 30 seats. The section's lock makes the
    second wait for the first and then see it."""
    event_id, section_id = floor(owner, organizer)
    made = create_ticket_type(organizer.actor(), event_id, draft(section_id, 30))
    outcome: list[BaseException | None] = []

    def raise_capacity() -> None:
        try:
            with owner.begin() as conn:
                conn.execute(
                    text("UPDATE ticket_types SET total_capacity = 40 WHERE id = :t"),
                    {"t": made.ticket_type_id},
                )
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    with owner.connect() as shrink, owner.connect() as monitor:
        shrink.begin()
        shrink.execute(
            text(
                "DELETE FROM venue_seats WHERE id IN (SELECT id FROM venue_seats"
                " WHERE section_id = :s ORDER BY id LIMIT 10)"
            ),
            {"s": section_id},
        )
        other = threading.Thread(target=raise_capacity)
        other.start()
        deadline = time.monotonic() + 10
        while not monitor.execute(
            text(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'advisory'"
                " AND datname = current_database()"
            )
        ).first():
            assert time.monotonic() < deadline, "the capacity change did not wait"
            time.sleep(0.01)
            monitor.rollback()
        shrink.commit()
        other.join(10)
    assert outcome and outcome[0] is not None, "the capacity change must be refused"
    assert "has 30 seats; capacity 40 is more than that" in str(outcome[0])
    assert types_of(owner, event_id) == [("Floor", 30)] and seats_of(owner, section_id) == 30
