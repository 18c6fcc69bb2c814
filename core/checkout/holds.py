"""Holds: reserve tickets or seats for a checkout session until they expire."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import BOX_OFFICE_SELL
from core.checkout.locking import (
    DEFAULT_LOCK_TIMEOUT_MS,
    NS_EVENT,
    for_update,
    lock_all,
    locking_enabled,
)
from core.checkout.wire import PipelinedWork
from core.db import Actor, unit_of_work
from core.errors import ValidationError
from core.models import TicketInventoryLock
from core.services import inputs

DEFAULT_HOLD_MINUTES = 15  # also checkout_hold's default (migration 0004)
# Ceilings on what one hold may ask for: well above any real sale, far below what would
# overflow a counter or keep the database busy.
MAX_QUANTITY = 10_000
MAX_SEATS = 5_000
MAX_TICKET_TYPES = 100


@dataclass(frozen=True)
class HoldRequest:
    """Quantities per ticket type and/or specific seats, for one checkout session."""

    event_id: uuid.UUID
    session_id: str
    quantities: Mapping[uuid.UUID, int] = field(default_factory=dict)
    seat_ids: Sequence[uuid.UUID] = ()


@dataclass(frozen=True)
class Hold:
    event_id: uuid.UUID
    session_id: str
    expires_at: datetime
    quantities: dict[uuid.UUID, int]
    seat_ids: tuple[uuid.UUID, ...]


def held_quantity(session: Session, ticket_type_id: uuid.UUID) -> int:
    """Tickets of the type in unexpired holds (a hold stops counting when it expires)."""
    return int(
        session.execute(
            text(
                "SELECT coalesce(sum(quantity), 0) FROM ticket_inventory_locks"
                " WHERE ticket_type_id = :t AND expires_at > now() AND order_id IS NULL"
            ),
            {"t": ticket_type_id},
        ).scalar()
    )


def lock_event_capacity(session: Session, event_id: uuid.UUID) -> int | None:
    """Lock the event when its own capacity is tighter than its ticket types' together,
    and return that capacity; otherwise the per-type locks already keep the event within
    bounds and nothing is locked (so ticket types of one event do not queue behind one
    another)."""
    capacity, type_total = session.execute(
        text(
            "SELECT e.capacity, (SELECT coalesce(sum(total_capacity), 0) FROM ticket_types"
            " WHERE event_id = e.id) FROM events e WHERE e.id = :e"
        ),
        {"e": event_id},
    ).one()
    if capacity is None or capacity >= type_total:
        return None
    lock_all(session, NS_EVENT, [event_id])
    return int(capacity)


def session_id_of(value: object) -> str:
    """A checkout session id as the holds store it: visible ASCII, at most 200 characters.
    Raises ValidationError on field session_id."""
    return inputs.required_text(TicketInventoryLock.session_id, value, strip=False)


def clean_hold_request(request: HoldRequest) -> HoldRequest:
    """`request` with every field checked: the event and seats are UUIDs, the session id a
    token, each quantity a whole number from 1 to MAX_QUANTITY (1.5, "3" and True are
    refused, never rounded), no seat twice. Raises ValidationError naming the field."""
    if not isinstance(request, HoldRequest):
        raise ValidationError("Give a HoldRequest.", field="request")
    event_id = inputs.uuid_value(request.event_id, "event_id", label="Event")
    session_id = session_id_of(request.session_id)
    if not isinstance(request.quantities, Mapping):
        raise ValidationError(
            "Quantities must map ticket types to numbers of tickets.", field="quantities"
        )
    if len(request.quantities) > MAX_TICKET_TYPES:
        raise ValidationError(
            f"At most {MAX_TICKET_TYPES} ticket types in one hold.", field="quantities"
        )
    quantities = {
        inputs.uuid_value(t, "quantities", label="A ticket type"): inputs.whole_number(
            q, "quantities", label="Each quantity", low=1, high=MAX_QUANTITY
        )
        for t, q in request.quantities.items()
    }
    seat_ids = inputs.uuid_list(request.seat_ids, "seat_ids", label="Seats", most=MAX_SEATS)
    if not quantities and not seat_ids:
        raise ValidationError("Choose at least one ticket or seat.", field="quantities")
    return HoldRequest(event_id, session_id, quantities, tuple(seat_ids))


def hold_tickets(actor: Actor, request: HoldRequest) -> Hold:
    """Reserve the requested tickets and seats for `request.session_id`.

    The hold expires after checkout.hold_minutes (system configuration, default 15).
    Raises ValidationError (see clean_hold_request), NotFound, SaleClosed, LimitExceeded,
    SoldOut, SeatTaken, Busy when the inventory stays locked past the lock timeout and
    Unavailable when the database cannot be reached.
    """
    request = clean_hold_request(request)
    quantities = sorted(request.quantities.items())
    with PipelinedWork(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as work:
        work.require(BOX_OFFICE_SELL)
        # One call does all of it (migration 0004, checkout_hold), in this order:
        # the sale is open; each seat's ticket type; the session's expired holds deleted;
        # the event lock when its capacity binds, the ticket-type locks in key order;
        # per type: on sale, max per order (counting the session's live holds), free =
        # remaining - unexpired holds; the event's capacity; the seats locked and free;
        # then the hold rows and the seats marked held until now + checkout.hold_minutes.
        cursor = work.call(
            "SELECT o_expires_at, o_ticket_type_id, o_quantity FROM checkout_hold("
            "%(e)s, %(s)s, %(types)s::uuid[], %(qty)s::integer[], %(seats)s::uuid[], %(safe)s)",
            {
                "e": request.event_id,
                "s": request.session_id,
                "types": [t for t, _ in quantities],
                "qty": [q for _, q in quantities],
                "seats": list(request.seat_ids),
                "safe": locking_enabled(),
            },
        )
        work.commit()
        rows = cursor.fetchall()
    return Hold(
        request.event_id,
        request.session_id,
        rows[0][0],
        {ticket_type_id: quantity for _, ticket_type_id, quantity in rows},
        tuple(sorted(request.seat_ids)),
    )


def release_hold(actor: Actor, event_id: uuid.UUID, session_id: str) -> int:
    """Give back everything `session_id` holds for the event; returns tickets released.
    Raises ValidationError (event_id, session_id), Busy and Unavailable."""
    event_id = inputs.uuid_value(event_id, "event_id", label="Event")
    session_id = session_id_of(session_id)
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(BOX_OFFICE_SELL)
        released = _delete_holds(
            uow.session, "event_id = :e AND session_id = :s", {"e": event_id, "s": session_id}
        )
        uow.commit()
    return released


def sweep_expired_holds(actor: Actor) -> int:
    """Delete expired holds and free their seats (they already stopped counting when they
    expired; this only tidies up). Returns the tickets released."""
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(BOX_OFFICE_SELL)
        released = _delete_holds(uow.session, "expires_at <= now()", {})
        uow.commit()
    return released


def _delete_holds(session: Session, where: str, params: dict) -> int:
    rows = session.execute(
        text(
            f"SELECT id, quantity FROM ticket_inventory_locks"
            f" WHERE order_id IS NULL AND {where} ORDER BY id" + for_update()
        ),
        params,
    ).all()
    if not rows:
        return 0
    ids = [row[0] for row in rows]
    # Seats first: deleting the hold rows would null their hold_id (ON DELETE SET NULL).
    session.execute(
        text(
            "UPDATE event_seats SET status = 'available', hold_id = NULL, held_until = NULL"
            " WHERE status = 'held' AND hold_id = ANY(:ids)"
        ),
        {"ids": ids},
    )
    session.execute(text("DELETE FROM ticket_inventory_locks WHERE id = ANY(:ids)"), {"ids": ids})
    return sum(row[1] for row in rows)
