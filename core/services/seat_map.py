"""The seat map of an event: every seat of its venue with its status for that event, and
blocking seats out of (and back into) sale.

Statuses follow core.checkout.availability: a held seat whose hold has expired counts as
available, whether or not the sweeper has tidied it up. Blocking takes the seats' row
locks in the checkout's order (sorted by id, core/checkout/locking.py), so it never
interleaves with a hold or a sale of the same seats; the checkout refuses blocked seats.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.audit import record_by_person
from core.auth.permissions import BOX_OFFICE_SELL, EVENTS_MANAGE
from core.checkout.locking import DEFAULT_LOCK_TIMEOUT_MS
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.models import EventSeat
from core.models.limits import max_length
from core.services.event_staff import require_sale_access

STATUSES = ("available", "held", "sold", "blocked")
MAX_SEATS_PER_CHANGE = 5000
# The column's declared limit (core/models/limits.py).
MAX_REASON = max_length(EventSeat, "blocked_reason")
# Where seats without coordinates are laid out (the demo's pitch, for a similar look).
SEAT_PITCH, ROW_PITCH, SECTION_GAP = 24, 30, 60


@dataclass(frozen=True)
class SeatMapEvent:
    event_id: uuid.UUID
    title: str
    start_date: datetime
    status: str
    venue_name: str
    seats: int


@dataclass(frozen=True)
class MapSeat:
    seat_id: uuid.UUID
    section_id: uuid.UUID
    section: str
    section_type: str
    row: str
    number: str
    x: float
    y: float
    status: str  # one of STATUSES
    held_by_me: bool
    held_until: datetime | None
    # What the seat sold for, or what the section's ticket type sells it for now.
    price: Decimal | None
    ticket_type: str | None
    order_number: str | None
    blocked_reason: str | None

    @property
    def label(self) -> str:
        return f"{self.row}{self.number}"


@dataclass(frozen=True)
class MapSection:
    section_id: uuid.UUID
    name: str
    section_type: str
    x0: float
    y0: float
    x1: float
    y1: float
    seats: int
    available: int


@dataclass(frozen=True)
class SeatMap:
    event_id: uuid.UUID
    title: str
    event_status: str
    venue_name: str | None
    seats: tuple[MapSeat, ...]
    sections: tuple[MapSection, ...]
    counts: Mapping[str, int]
    # The actor may block and unblock seats of this event.
    can_block: bool

    def by_id(self) -> dict[uuid.UUID, MapSeat]:
        return {seat.seat_id: seat for seat in self.seats}


@dataclass(frozen=True)
class SeatChange:
    """Seats (as "Section A12") a block or unblock changed, and the ones already so."""

    changed: tuple[str, ...]
    unchanged: tuple[str, ...]


def list_seat_map_events(actor: Actor, *, search: str = "", limit: int = 50) -> list[SeatMapEvent]:
    """Events with a seated venue that have not ended, matching `search` in the title,
    soonest first, at most `limit` (drafts only to their organizer and admins). Raises
    PermissionDenied without box_office.sell or events.manage."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(BOX_OFFICE_SELL, EVENTS_MANAGE)
        rows = uow.session.execute(
            text(
                "SELECT e.id, e.title, e.start_date, e.status, v.name,"
                "       (SELECT count(*) FROM event_seats es WHERE es.event_id = e.id)"
                "  FROM events e JOIN venues v ON v.id = e.venue_id"
                " WHERE e.end_date > now() AND e.status IN ('draft', 'published', 'postponed')"
                "   AND EXISTS (SELECT 1 FROM event_seats es WHERE es.event_id = e.id)"
                "   AND (:search = '' OR e.title ILIKE :pattern)"
                " ORDER BY e.start_date, e.id LIMIT :limit"
            ),
            {
                "search": search.strip(),
                "pattern": f"%{escape_like(search.strip())}%",
                "limit": max(1, min(int(limit), 500)),
            },
        ).all()
    return [SeatMapEvent(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in rows]


# One statement for every seat: the section's current price comes from the event's
# cheapest active ticket type for it, the type core.checkout.holds assigns a seat to.
_SEATS = text("""
    WITH section_types AS (
        SELECT DISTINCT ON (seating_section_id) seating_section_id AS section_id,
               name, base_price
          FROM ticket_types
         WHERE event_id = :e AND is_active AND seating_section_id IS NOT NULL
         ORDER BY seating_section_id, base_price, id
    )
    SELECT es.seat_id, vs.section_id, sec.name, sec.section_type,
           coalesce(vs.row_name, ''), vs.seat_number, vs.x, vs.y,
           CASE WHEN es.status = 'held' AND es.held_until <= now() THEN 'available'
                ELSE es.status END,
           es.status = 'held' AND es.held_until > now() AND l.session_id = :session,
           CASE WHEN es.status = 'held' AND es.held_until > now() THEN es.held_until END,
           CASE WHEN es.status = 'sold' THEN es.price ELSE st.base_price END,
           CASE WHEN es.status IN ('sold', 'held') AND tt.name IS NOT NULL THEN tt.name
                ELSE st.name END,
           CASE WHEN es.status = 'sold' THEN o.order_number END,
           CASE WHEN es.status = 'blocked' THEN es.blocked_reason END
      FROM event_seats es
      JOIN venue_seats vs ON vs.id = es.seat_id
      JOIN venue_sections sec ON sec.id = vs.section_id
      LEFT JOIN section_types st ON st.section_id = vs.section_id
      LEFT JOIN ticket_types tt ON tt.id = es.ticket_type_id
      LEFT JOIN orders o ON o.id = es.order_id
      LEFT JOIN ticket_inventory_locks l ON l.id = es.hold_id
     WHERE es.event_id = :e
     ORDER BY sec.name, vs.row_name, length(vs.seat_number), vs.seat_number
""")


def get_seat_map(actor: Actor, event_id: uuid.UUID, session_id: str | None = None) -> SeatMap:
    """Every seat of the event's venue at its coordinates with its status for the event
    (seats without coordinates are laid out in rows under the others), section outlines
    and counts per status; `held_by_me` marks seats `session_id` holds. Raises
    PermissionDenied (box_office.sell or events.manage; without events.manage, an event
    the actor works) and NotFound."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(BOX_OFFICE_SELL, EVENTS_MANAGE)
        session = uow.session
        event = session.execute(
            text(
                "SELECT e.title, e.status, v.name, e.organizer_id, app_has_permission(:manage)"
                " FROM events e LEFT JOIN venues v ON v.id = e.venue_id WHERE e.id = :e"
            ),
            {"e": event_id, "manage": EVENTS_MANAGE},
        ).first()
        if event is None:
            raise NotFound("That event does not exist.", field="event_id")
        # Venue managers see every event's seats (they block seats venue-wide); a seller
        # only the events they work, as row-level security on event_seats has it.
        if not event[4]:
            require_sale_access(session, actor, event_id)
        rows = session.execute(_SEATS, {"e": event_id, "session": session_id or ""}).all()
        can_block = _may_block(session, actor, event[3])
    seats = _place(rows)
    counts = {status: 0 for status in STATUSES}
    for seat in seats:
        counts[seat.status] += 1
    return SeatMap(
        event_id=event_id,
        title=event[0],
        event_status=event[1],
        venue_name=event[2],
        seats=seats,
        sections=_outline(seats),
        counts=counts,
        can_block=can_block,
    )


def block_seats(
    actor: Actor, event_id: uuid.UUID, seat_ids: Sequence[uuid.UUID], reason: str
) -> SeatChange:
    """Take seats out of sale for this event with a reason (a camera platform, a broken
    seat). Seats blocked already are left as they are, reason included (a block the
    venue set must keep its reason, core.services.venues lifts it by that). Raises
    ValidationError (no seats, no reason), NotFound (a seat not in the event's venue),
    Conflict (a seat sold, or held by a checkout that has not expired), PermissionDenied
    (events.manage, and the event's organizer or an admin) and Busy."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give a reason for blocking the seats.", field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"The reason is at most {MAX_REASON} characters.", field="reason")
    wanted = _check_seat_ids(seat_ids)
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        _check_may_block(session, actor, event_id)
        rows = _lock_seats(session, event_id, wanted)
        sold = _labels([r for r in rows if r.status == "sold"])
        if sold:
            raise Conflict(
                f"Seat {', '.join(sold)} is sold; refund or cancel its order first.",
                field="seat_ids",
            )
        held = _labels([r for r in rows if r.status == "held" and r.live])
        if held:
            raise Conflict(
                f"Seat {', '.join(held)} is held by a checkout; block it once the hold"
                " is sold or has expired.",
                field="seat_ids",
            )
        changed = [r for r in rows if r.status != "blocked"]
        if changed:
            # An expired hold's seat leaves its hold behind: that hold can no longer be
            # placed, and the sweeper frees only seats still marked held.
            session.execute(
                text(
                    "UPDATE event_seats SET status = 'blocked', blocked_reason = :r,"
                    " hold_id = NULL, held_until = NULL, order_id = NULL,"
                    " ticket_type_id = NULL, price = NULL, updated_at = now()"
                    " WHERE event_id = :e AND seat_id = ANY(:s)"
                ),
                {"r": reason, "e": event_id, "s": [r.seat_id for r in changed]},
            )
            _audit(session, actor, "event.seats.blocked", event_id, changed, reason)
        uow.commit()
    return SeatChange(_labels(changed), _labels([r for r in rows if r.status == "blocked"]))


def unblock_seats(actor: Actor, event_id: uuid.UUID, seat_ids: Sequence[uuid.UUID]) -> SeatChange:
    """Put blocked seats of this event back on sale; seats not blocked are left alone.
    Raises ValidationError (no seats, or a seat out of service at the venue), NotFound,
    PermissionDenied (events.manage, and the event's organizer or an admin) and Busy."""
    wanted = _check_seat_ids(seat_ids)
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        _check_may_block(session, actor, event_id)
        rows = _lock_seats(session, event_id, wanted)
        broken = _labels(
            [r for r in rows if r.status == "blocked" and r.venue_status != "available"]
        )
        if broken:
            raise ValidationError(
                f"Seat {', '.join(broken)} is out of service at the venue; repair it there first.",
                field="seat_ids",
            )
        blocked = [r for r in rows if r.status == "blocked"]
        if blocked:
            session.execute(
                text(
                    "UPDATE event_seats SET status = 'available', blocked_reason = NULL,"
                    " updated_at = now() WHERE event_id = :e AND seat_id = ANY(:s)"
                ),
                {"e": event_id, "s": [r.seat_id for r in blocked]},
            )
            _audit(session, actor, "event.seats.unblocked", event_id, blocked, None)
        uow.commit()
    return SeatChange(_labels(blocked), _labels([r for r in rows if r.status != "blocked"]))


# -- helpers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _LockedSeat:
    seat_id: uuid.UUID
    section: str
    row: str
    number: str
    status: str
    live: bool
    venue_status: str

    @property
    def label(self) -> str:
        return f"{self.section} {self.row}{self.number}"


def _labels(seats: Sequence[_LockedSeat]) -> tuple[str, ...]:
    """Seat labels in the order people read them (A2 before A10)."""
    ordered = sorted(seats, key=lambda s: (s.section, len(s.row), s.row, len(s.number), s.number))
    return tuple(s.label for s in ordered)


def _check_seat_ids(seat_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    wanted = sorted(set(seat_ids))
    if not wanted:
        raise ValidationError("Choose at least one seat.", field="seat_ids")
    if len(wanted) > MAX_SEATS_PER_CHANGE:
        raise ValidationError(
            f"Change at most {MAX_SEATS_PER_CHANGE} seats at once.", field="seat_ids"
        )
    return wanted


def _lock_seats(
    session: Session, event_id: uuid.UUID, seat_ids: list[uuid.UUID]
) -> list[_LockedSeat]:
    """The seats' event rows, locked in id order as every checkout locks them."""
    rows = session.execute(
        text(
            "SELECT es.seat_id, sec.name, coalesce(vs.row_name, ''), vs.seat_number,"
            " es.status, es.held_until > now(), vs.status"
            " FROM event_seats es JOIN venue_seats vs ON vs.id = es.seat_id"
            " JOIN venue_sections sec ON sec.id = vs.section_id"
            " WHERE es.event_id = :e AND es.seat_id = ANY(:s)"
            " ORDER BY es.seat_id FOR UPDATE OF es"
        ),
        {"e": event_id, "s": seat_ids},
    ).all()
    if len(rows) != len(seat_ids):
        raise NotFound("A chosen seat is not part of this event's venue.", field="seat_ids")
    return [_LockedSeat(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6]) for r in rows]


def _may_block(session: Session, actor: Actor, organizer_id: uuid.UUID | None) -> bool:
    if actor.is_system:
        return True
    if actor.user_id is None:
        return False
    return bool(
        session.scalar(
            text(
                "SELECT app_has_permission(:manage)"
                " AND (CAST(:me AS uuid) = CAST(:owner AS uuid) OR app_has_role('admin'))"
            ),
            {"manage": EVENTS_MANAGE, "me": actor.user_id, "owner": organizer_id},
        )
    )


def _check_may_block(session: Session, actor: Actor, event_id: uuid.UUID) -> None:
    row = session.execute(
        text("SELECT organizer_id FROM events WHERE id = :e"), {"e": event_id}
    ).first()
    if row is None:
        raise NotFound("That event does not exist.", field="event_id")
    if not _may_block(session, actor, row[0]):
        raise PermissionDenied("Only the event's organizer or an admin can block its seats.")


def _place(rows: Sequence) -> tuple[MapSeat, ...]:
    """MapSeats from the query's rows; seats without coordinates go in rows per section
    under the drawn ones, so a venue entered without a floor plan still shows."""
    placed = [r for r in rows if r[6] is not None and r[7] is not None]
    loose = [r for r in rows if r[6] is None or r[7] is None]
    positions: dict[uuid.UUID, tuple[float, float]] = {
        r[0]: (float(r[6]), float(r[7])) for r in placed
    }
    if loose:
        top = max((float(r[7]) for r in placed), default=-SECTION_GAP) + SECTION_GAP
        by_section: dict[uuid.UUID, list] = defaultdict(list)
        for r in loose:
            by_section[r[1]].append(r)
        for section_rows in by_section.values():
            row_names = sorted({r[4] for r in section_rows}, key=lambda n: (len(n), n))
            row_index = {name: i for i, name in enumerate(row_names)}
            seat_in_row: dict[str, int] = defaultdict(int)
            for r in section_rows:  # already ordered by row and number
                x = seat_in_row[r[4]] * SEAT_PITCH
                seat_in_row[r[4]] += 1
                positions[r[0]] = (float(x), top + row_index[r[4]] * ROW_PITCH)
            top += len(row_names) * ROW_PITCH + SECTION_GAP
    return tuple(
        MapSeat(
            seat_id=r[0],
            section_id=r[1],
            section=r[2],
            section_type=r[3],
            row=r[4],
            number=r[5],
            x=positions[r[0]][0],
            y=positions[r[0]][1],
            status=r[8],
            held_by_me=bool(r[9]),
            held_until=r[10],
            price=r[11],
            ticket_type=r[12],
            order_number=r[13],
            blocked_reason=r[14],
        )
        for r in rows
    )


def _outline(seats: Sequence[MapSeat]) -> tuple[MapSection, ...]:
    grouped: dict[uuid.UUID, list[MapSeat]] = defaultdict(list)
    for seat in seats:
        grouped[seat.section_id].append(seat)
    sections = []
    for section_id, members in grouped.items():
        xs = [s.x for s in members]
        ys = [s.y for s in members]
        sections.append(
            MapSection(
                section_id=section_id,
                name=members[0].section,
                section_type=members[0].section_type,
                x0=min(xs),
                y0=min(ys),
                x1=max(xs),
                y1=max(ys),
                seats=len(members),
                available=sum(1 for s in members if s.status == "available"),
            )
        )
    return tuple(sorted(sections, key=lambda s: (s.y0, s.x0)))


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    event_id: uuid.UUID,
    seats: Sequence[_LockedSeat],
    reason: str | None,
) -> None:
    new: dict[str, object] = {"seats": list(_labels(seats))}
    if reason is not None:
        new["reason"] = reason
    record_by_person(session, actor, action, event_id, new=new, table="event_seats")
