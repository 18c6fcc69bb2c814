"""What is left to sell for an event: per ticket type and per seat."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import BOX_OFFICE_SELL, EVENTS_MANAGE
from core.db import Actor, unit_of_work


@dataclass(frozen=True)
class TicketTypeAvailability:
    ticket_type_id: uuid.UUID
    name: str
    tier: str
    price: Decimal
    capacity: int
    sold: int
    held: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.sold - self.held, 0)


@dataclass(frozen=True)
class SeatStatus:
    seat_id: uuid.UUID
    status: str  # available, held, sold, blocked
    order_id: uuid.UUID | None
    ticket_type_id: uuid.UUID | None


@dataclass(frozen=True)
class EventAvailability:
    event_id: uuid.UUID
    ticket_types: tuple[TicketTypeAvailability, ...]
    seats: dict[uuid.UUID, SeatStatus]


# Sold is what the ticket type no longer has; held counts unexpired holds only, so a hold
# stops counting the moment it expires, sweeper or not.
TICKET_TYPES = text("""
    SELECT tt.id, tt.name, tt.tier, tt.base_price, tt.total_capacity,
           tt.total_capacity - tt.remaining_capacity AS sold,
           coalesce((SELECT sum(l.quantity) FROM ticket_inventory_locks l
                      WHERE l.ticket_type_id = tt.id AND l.expires_at > now()
                        AND l.order_id IS NULL), 0) AS held
      FROM ticket_types tt
     WHERE tt.event_id = :event_id
     ORDER BY tt.base_price, tt.name
""")

SEATS = text("""
    SELECT seat_id,
           CASE WHEN status = 'held' AND held_until <= now() THEN 'available' ELSE status END,
           CASE WHEN status = 'sold' THEN order_id END,
           ticket_type_id
      FROM event_seats
     WHERE event_id = :event_id
""")


def read_availability(session: Session, event_id: uuid.UUID) -> EventAvailability:
    """Availability inside the caller's transaction."""
    types = tuple(
        TicketTypeAvailability(row[0], row[1], row[2], row[3], row[4], int(row[5]), int(row[6]))
        for row in session.execute(TICKET_TYPES, {"event_id": event_id})
    )
    seats = {
        row[0]: SeatStatus(row[0], row[1], row[2], row[3])
        for row in session.execute(SEATS, {"event_id": event_id})
    }
    return EventAvailability(event_id, types, seats)


def get_availability(actor: Actor, event_id: uuid.UUID) -> EventAvailability:
    """Capacity, sold, held (unexpired) and free per ticket type, and each seat's status
    for this event. Raises core.errors.DomainError subclasses on database refusals."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE, BOX_OFFICE_SELL)
        return read_availability(uow.session, event_id)
