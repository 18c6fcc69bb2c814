"""Holds: reserve tickets or seats for a checkout session until they expire."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import BOX_OFFICE_SELL
from core.checkout.errors import LimitExceeded, SaleClosed, SeatTaken, SoldOut
from core.checkout.locking import (
    DEFAULT_LOCK_TIMEOUT_MS,
    NS_EVENT,
    NS_TICKET_TYPE,
    for_update,
    lock_all,
    unsafe_pause,
)
from core.db import Actor, unit_of_work
from core.errors import NotFound, ValidationError
from core.settings import get_setting

DEFAULT_HOLD_MINUTES = 15


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


@dataclass(frozen=True)
class _TicketType:
    id: uuid.UUID
    name: str
    total: int
    remaining: int
    is_active: bool
    sale_start: datetime
    sale_end: datetime
    max_per_order: int | None


def _ticket_types(
    session: Session, event_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, _TicketType]:
    rows = session.execute(
        text(
            "SELECT id, name, total_capacity, remaining_capacity, is_active,"
            " sale_start_date, sale_end_date, max_quantity_per_order"
            " FROM ticket_types WHERE event_id = :e AND id = ANY(:ids)"
        ),
        {"e": event_id, "ids": list(ids)},
    ).all()
    found = {row[0]: _TicketType(*row) for row in rows}
    missing = set(ids) - set(found)
    if missing:
        raise NotFound("That ticket type does not belong to this event.", field="ticket_type_id")
    return found


def held_quantity(session: Session, ticket_type_id: uuid.UUID) -> int:
    return int(
        session.execute(
            text(
                "SELECT coalesce(sum(quantity), 0) FROM ticket_inventory_locks"
                " WHERE ticket_type_id = :t AND expires_at > now() AND order_id IS NULL"
            ),
            {"t": ticket_type_id},
        ).scalar()
    )


def _session_held(session: Session, session_id: str, ticket_type_id: uuid.UUID) -> int:
    return int(
        session.execute(
            text(
                "SELECT coalesce(sum(quantity), 0) FROM ticket_inventory_locks"
                " WHERE ticket_type_id = :t AND session_id = :s AND expires_at > now()"
                " AND order_id IS NULL"
            ),
            {"t": ticket_type_id, "s": session_id},
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


def event_committed(session: Session, event_id: uuid.UUID) -> int:
    """Tickets sold plus unexpired holds across the event."""
    return int(
        session.execute(
            text(
                "SELECT coalesce(sum(tt.total_capacity - tt.remaining_capacity), 0)"
                " + coalesce((SELECT sum(quantity) FROM ticket_inventory_locks"
                "   WHERE event_id = :e AND expires_at > now() AND order_id IS NULL), 0)"
                " FROM ticket_types tt WHERE tt.event_id = :e"
            ),
            {"e": event_id},
        ).scalar()
    )


def _seat_ticket_types(
    session: Session, event_id: uuid.UUID, seat_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Each seat's ticket type: the event's active type for the seat's section."""
    rows = session.execute(
        text(
            "SELECT vs.id, (SELECT tt.id FROM ticket_types tt WHERE tt.event_id = :e"
            "   AND tt.seating_section_id = vs.section_id AND tt.is_active"
            "   ORDER BY tt.base_price, tt.id LIMIT 1)"
            " FROM venue_seats vs WHERE vs.id = ANY(:ids)"
        ),
        {"e": event_id, "ids": list(seat_ids)},
    ).all()
    mapping = dict(rows)
    if set(seat_ids) - set(mapping):
        raise NotFound("A chosen seat does not exist.", field="seat_ids")
    unsold = [seat for seat, tt in mapping.items() if tt is None]
    if unsold:
        raise ValidationError(
            "No ticket type sells seats in that section for this event.", field="seat_ids"
        )
    return mapping


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

    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(BOX_OFFICE_SELL)
        session = uow.session
        status, now = session.execute(
            text("SELECT (SELECT status FROM events WHERE id = :e), now()"),
            {"e": request.event_id},
        ).one()
        if status is None:
            raise NotFound("That event does not exist.", field="event_id")
        if status != "published":
            raise SaleClosed(f"Tickets are not on sale: the event is {status}.")

        seat_types = (
            _seat_ticket_types(session, request.event_id, request.seat_ids)
            if request.seat_ids
            else {}
        )
        wanted: dict[uuid.UUID, int] = defaultdict(int)
        for ticket_type_id, quantity in request.quantities.items():
            wanted[ticket_type_id] += quantity
        for ticket_type_id in seat_types.values():
            wanted[ticket_type_id] += 1

        # A session that chooses again after its hold ran out starts clean: its stale rows
        # would otherwise make its next order fail as expired (they count for nothing).
        _delete_holds(
            session,
            "event_id = :e AND session_id = :s AND expires_at <= now()",
            {"e": request.event_id, "s": request.session_id},
        )
        event_capacity = lock_event_capacity(session, request.event_id)
        lock_all(session, NS_TICKET_TYPE, wanted)
        types = _ticket_types(session, request.event_id, list(wanted))

        for ticket_type_id, quantity in sorted(wanted.items()):
            tt = types[ticket_type_id]
            if not tt.is_active or not (tt.sale_start <= now < tt.sale_end):
                raise SaleClosed(f"{tt.name} is not on sale now.", field="ticket_type_id")
            if tt.max_per_order is not None:
                # Several holds of one session become one order, so they share the limit.
                already = _session_held(session, request.session_id, ticket_type_id)
                if quantity + already > tt.max_per_order:
                    more = f" (you already hold {already})" if already else ""
                    raise LimitExceeded(
                        f"At most {tt.max_per_order} × {tt.name} per order{more}.",
                        field="quantities",
                    )
            free = tt.remaining - held_quantity(session, ticket_type_id)
            if quantity > free:
                left = f"only {free} left" if free > 0 else "sold out"
                raise SoldOut(f"{tt.name}: {left}.", field="quantities")
        if event_capacity is not None:
            committed = event_committed(session, request.event_id)
            if committed + sum(wanted.values()) > event_capacity:
                raise SoldOut("The event is sold out.", field="quantities")

        if request.seat_ids:
            _check_seats(session, request.event_id, request.seat_ids)

        unsafe_pause(session)
        minutes = int(get_setting(session, "checkout", "hold_minutes", DEFAULT_HOLD_MINUTES))
        expires_at = now + timedelta(minutes=minutes)
        seats_by_type: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for seat_id, ticket_type_id in seat_types.items():
            seats_by_type[ticket_type_id].append(seat_id)
        for ticket_type_id, quantity in sorted(wanted.items()):
            seats = sorted(seats_by_type.get(ticket_type_id, []))
            lock_id = session.execute(
                text(
                    "INSERT INTO ticket_inventory_locks"
                    " (ticket_type_id, event_id, quantity, session_id, expires_at, seat_ids)"
                    " VALUES (:t, :e, :q, :s, :x, :seats) RETURNING id"
                ),
                {
                    "t": ticket_type_id,
                    "e": request.event_id,
                    "q": quantity,
                    "s": request.session_id,
                    "x": expires_at,
                    "seats": seats or None,
                },
            ).scalar()
            if seats:
                session.execute(
                    text(
                        "UPDATE event_seats SET status = 'held', hold_id = :h,"
                        " held_until = :x, ticket_type_id = :t, order_id = NULL"
                        " WHERE event_id = :e AND seat_id = ANY(:seats)"
                    ),
                    {
                        "h": lock_id,
                        "x": expires_at,
                        "t": ticket_type_id,
                        "e": request.event_id,
                        "seats": seats,
                    },
                )
        uow.commit()
    return Hold(
        request.event_id,
        request.session_id,
        expires_at,
        dict(wanted),
        tuple(sorted(request.seat_ids)),
    )


def _check_seats(session: Session, event_id: uuid.UUID, seat_ids: Sequence[uuid.UUID]) -> None:
    rows = session.execute(
        text(
            "SELECT es.seat_id, es.status, es.held_until > now(), vs.row_name, vs.seat_number"
            " FROM event_seats es JOIN venue_seats vs ON vs.id = es.seat_id"
            " WHERE es.event_id = :e AND es.seat_id = ANY(:ids)"
            " ORDER BY es.seat_id" + for_update()
        ),
        {"e": event_id, "ids": sorted(seat_ids)},
    ).all()
    if len(rows) != len(seat_ids):
        raise NotFound("A chosen seat is not part of this event's venue.", field="seat_ids")
    taken = [
        f"{row_name or ''}{number}"
        for _, status, live, row_name, number in rows
        if status in ("sold", "blocked") or (status == "held" and live)
    ]
    if taken:
        raise SeatTaken(f"Seat {', '.join(taken)} is no longer available.", field="seat_ids")


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
