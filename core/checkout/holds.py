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

DEFAULT_HOLD_MINUTES = 15  # also checkout_hold's default (migration 0004)


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


def hold_tickets(actor: Actor, request: HoldRequest) -> Hold:
    """Reserve the requested tickets and seats for `request.session_id`.

    The hold expires after checkout.hold_minutes (system configuration, default 15).
    Raises ValidationError (bad quantities), NotFound, SaleClosed, LimitExceeded,
    SoldOut, SeatTaken, and Busy when the inventory stays locked past the lock timeout.
    """
    if not request.quantities and not request.seat_ids:
        raise ValidationError("Choose at least one ticket or seat.", field="quantities")
    if any(q <= 0 for q in request.quantities.values()):
        raise ValidationError("Quantities must be at least 1.", field="quantities")
    if len(set(request.seat_ids)) != len(request.seat_ids):
        raise ValidationError("A seat was chosen twice.", field="seat_ids")

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
    """Give back everything `session_id` holds for the event; returns tickets released."""
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
