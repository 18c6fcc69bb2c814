"""Venues for organizers: venues and their sections, seat grids, and seats taken out of use.

A seat out of use is recorded twice, as the checkout needs it: on the physical seat
(venue_seats.status 'blocked' or 'maintenance', the reason in notes) and on every event's
copy of that seat that is still free (event_seats.status 'blocked', the same reason in
blocked_reason), because the checkout sells from event_seats alone. Unblocking undoes
exactly the event blocks that carry the venue's reason; a block an event set for its own
reason stays.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import func, insert, literal_column, select, text
from sqlalchemy.orm import Session

from core.auth.audit import record_by_person
from core.auth.permissions import EVENTS_MANAGE
from core.checkout.locking import DEFAULT_LOCK_TIMEOUT_MS
from core.db import Actor, UnitOfWork, unit_of_work
from core.errors import Conflict, NotFound, ValidationError
from core.models import Venue, VenueSeat, VenueSection
from core.models.venues import SECTION_TYPES, VENUE_STATUSES
from core.services import inputs
from core.services.inputs import blank_to_none
from core.services.seat_inventory import open_section_seats

MAX_ROWS = 100
MAX_SEATS_PER_ROW = 200
MAX_GRID_SEATS = 5000
# Seat-map units, the same as the demo venues use, so generated and demo sections line up.
SEAT_PITCH = 24
ROW_PITCH = 30
SECTION_GAP = 60
BLOCK_STATUSES = ("blocked", "maintenance")
VENUE_LIST_LIMIT = 500

# The exact expression of idx_venues_fts (migration 0001), so the index serves the search.
VENUE_DOCUMENT = literal_column(
    "to_tsvector('english', coalesce(venues.name, '') || ' ' || coalesce(venues.description, '')"
    " || ' ' || coalesce(venues.address, '') || ' ' || coalesce(venues.city, '')"
    " || ' ' || coalesce(venues.country, ''))"
)


# -- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VenueSummary:
    venue_id: uuid.UUID
    name: str
    city: str
    country: str
    status: str
    capacity: int | None
    sections: int
    seats: int


@dataclass(frozen=True)
class SectionSummary:
    section_id: uuid.UUID
    name: str
    section_type: str
    capacity: int
    price_multiplier: Decimal
    description: str | None
    accessibility: bool
    seats: int
    blocked: int
    accessible: int


@dataclass(frozen=True)
class VenueDetail:
    venue_id: uuid.UUID
    name: str
    slug: str
    description: str | None
    address: str
    city: str
    state: str | None
    country: str
    postal_code: str | None
    capacity: int | None
    status: str
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    website: str | None
    sections: tuple[SectionSummary, ...]


@dataclass(frozen=True)
class PlannedSeat:
    row_name: str
    seat_number: str
    x: float
    y: float
    is_accessible: bool


@dataclass(frozen=True)
class GridResult:
    section_id: uuid.UUID
    seats: int
    rows: int
    accessible: int
    replaced: int


@dataclass(frozen=True)
class SeatInfo:
    seat_id: uuid.UUID
    row_name: str | None
    seat_number: str
    x: float | None
    y: float | None
    status: str
    is_accessible: bool
    notes: str | None

    @property
    def label(self) -> str:
        return f"{self.row_name or ''}{self.seat_number}"


@dataclass(frozen=True)
class BlockResult:
    seats: int
    # Event copies of the seats that changed with them (free ones only).
    event_seats: int
    # Event copies left alone because they are sold or held for that event.
    sold_or_held: int


# -- inputs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VenueInput:
    name: str
    address: str
    city: str
    country: str
    state: str | None = None
    postal_code: str | None = None
    description: str | None = None
    capacity: int | None = None
    status: str = "active"
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class SectionInput:
    name: str
    section_type: str = "general"
    capacity: int = 0
    price_multiplier: Decimal = Decimal("1.00")
    description: str | None = None
    accessibility: bool = True


@dataclass(frozen=True)
class SeatGridSpec:
    """A rectangular grid: `rows` rows of `seats_per_row` seats numbered 1, 2, ...

    Rows are named A, B, ... Z, AA, ... (`row_naming="letters"`) or 1, 2, ...
    (`"numbers"`). An aisle (one seat's width of gap) follows each seat number in
    `aisles_after`. Accessible seats are the first row's two end seats when
    `accessible_first_row_ends`, plus those named in `accessible_seats` ("A1", "C12"; with
    numbered rows "3-12").
    """

    rows: int
    seats_per_row: int
    row_naming: Literal["letters", "numbers"] = "letters"
    aisles_after: tuple[int, ...] = ()
    accessible_first_row_ends: bool = False
    accessible_seats: tuple[str, ...] = ()


# -- helpers ----------------------------------------------------------------------------


def _clean_venue(data: VenueInput) -> dict[str, Any]:
    if not isinstance(data, VenueInput):
        raise ValidationError("Give a VenueInput.", field="venue")
    if data.status not in VENUE_STATUSES:
        raise ValidationError(
            f"Status must be one of: {', '.join(VENUE_STATUSES)}.", field="status"
        )
    if data.capacity is not None:
        inputs.whole_number(data.capacity, "capacity", label="Capacity", low=0, high=2_147_483_647)
    email = inputs.text_value(Venue.contact_email, data.contact_email)
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise ValidationError(
            "Contact email must look like name@example.com.", field="contact_email"
        )
    return {
        "name": inputs.required_text(Venue.name, data.name),
        "address": inputs.required_text(Venue.address, data.address),
        "city": inputs.required_text(Venue.city, data.city),
        "country": inputs.required_text(Venue.country, data.country),
        "state": inputs.text_value(Venue.state, data.state),
        "postal_code": inputs.text_value(Venue.postal_code, data.postal_code),
        "description": inputs.text_value(Venue.description, data.description),
        "capacity": data.capacity,
        "status": data.status,
        "contact_name": inputs.text_value(Venue.contact_name, data.contact_name),
        "contact_email": email,
        "contact_phone": inputs.text_value(Venue.contact_phone, data.contact_phone),
        "website": inputs.text_value(Venue.website, data.website),
    }


def _clean_section(data: SectionInput) -> dict[str, Any]:
    if not isinstance(data, SectionInput):
        raise ValidationError("Give a SectionInput.", field="section")
    if data.section_type not in SECTION_TYPES:
        raise ValidationError(
            f"Section type must be one of: {', '.join(SECTION_TYPES)}.", field="section_type"
        )
    inputs.whole_number(data.capacity, "capacity", label="Capacity", low=0, high=2_147_483_647)
    try:
        multiplier = Decimal(data.price_multiplier)
    except (TypeError, ValueError, ArithmeticError):
        raise ValidationError(
            "Price multiplier must be a number.", field="price_multiplier"
        ) from None
    if not multiplier.is_finite() or multiplier < 0:
        raise ValidationError("Price multiplier cannot be negative.", field="price_multiplier")
    return {
        "name": inputs.required_text(VenueSection.name, data.name),
        "section_type": data.section_type,
        "capacity": data.capacity,
        "price_multiplier": multiplier,
        "description": inputs.text_value(VenueSection.description, data.description),
        "accessibility": bool(data.accessibility),
    }


def _audit(
    uow: UnitOfWork,
    action: str,
    record_id: uuid.UUID,
    table: str,
    new: dict[str, Any] | None = None,
) -> None:
    record_by_person(uow.session, uow.actor, action, record_id, new=new, table=table)


def _sections(session: Session, venue_id: uuid.UUID) -> tuple[SectionSummary, ...]:
    counts = (
        select(
            VenueSeat.section_id,
            func.count().label("seats"),
            func.count().filter(VenueSeat.status != "available").label("blocked"),
            func.count().filter(VenueSeat.is_accessible).label("accessible"),
        )
        .join(VenueSection, VenueSection.id == VenueSeat.section_id)
        .where(VenueSection.venue_id == venue_id)
        .group_by(VenueSeat.section_id)
        .subquery()
    )
    rows = session.execute(
        select(
            VenueSection,
            func.coalesce(counts.c.seats, 0),
            func.coalesce(counts.c.blocked, 0),
            func.coalesce(counts.c.accessible, 0),
        )
        .outerjoin(counts, counts.c.section_id == VenueSection.id)
        .where(VenueSection.venue_id == venue_id)
        .order_by(VenueSection.name)
    ).all()
    return tuple(_section(s, seats, blocked, accessible) for s, seats, blocked, accessible in rows)


def _section(s: VenueSection, seats: int, blocked: int, accessible: int) -> SectionSummary:
    return SectionSummary(
        section_id=s.id,
        name=s.name,
        section_type=s.section_type,
        capacity=s.capacity,
        price_multiplier=s.price_multiplier,
        description=s.description,
        accessibility=s.accessibility,
        seats=int(seats),
        blocked=int(blocked),
        accessible=int(accessible),
    )


def _detail(session: Session, venue_id: uuid.UUID) -> VenueDetail:
    venue = session.get(Venue, venue_id, populate_existing=True)
    if venue is None:
        raise NotFound("That venue does not exist.", field="venue_id")
    return VenueDetail(
        venue_id=venue.id,
        name=venue.name,
        slug=venue.slug,
        description=venue.description,
        address=venue.address,
        city=venue.city,
        state=venue.state,
        country=venue.country,
        postal_code=venue.postal_code,
        capacity=venue.capacity,
        status=venue.status,
        contact_name=venue.contact_name,
        contact_email=venue.contact_email,
        contact_phone=venue.contact_phone,
        website=venue.website,
        sections=_sections(session, venue.id),
    )


def _section_summary(session: Session, section_id: uuid.UUID) -> SectionSummary:
    section = session.get(VenueSection, section_id, populate_existing=True)
    if section is None:
        raise NotFound("That section does not exist.", field="section_id")
    seats, blocked, accessible = session.execute(
        select(
            func.count(),
            func.count().filter(VenueSeat.status != "available"),
            func.count().filter(VenueSeat.is_accessible),
        ).where(VenueSeat.section_id == section_id)
    ).one()
    return _section(section, seats, blocked, accessible)


def _row_label(index: int, naming: str) -> str:
    """The name of row `index` (0 first): A ... Z, AA, AB ... or 1, 2, ..."""
    if naming == "numbers":
        return str(index + 1)
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


_SEAT_NAME = {
    "letters": re.compile(r"([A-Za-z]+)[\s\-:/]*(\d+)"),
    "numbers": re.compile(r"(\d+)[\s\-:/]+(\d+)"),
}


def plan_seat_grid(spec: SeatGridSpec) -> tuple[PlannedSeat, ...]:
    """The seats `spec` describes, in row then seat order, with coordinates from (0, 0).

    Pure (no database): the page previews a grid with it before generating it. Raises
    ValidationError naming the field at fault (rows, seats_per_row, row_naming,
    aisles_after, accessible_seats).
    """
    if spec.row_naming not in _SEAT_NAME:
        raise ValidationError("Row naming must be letters or numbers.", field="row_naming")
    if not 1 <= spec.rows <= MAX_ROWS:
        raise ValidationError(f"Rows must be between 1 and {MAX_ROWS}.", field="rows")
    if not 1 <= spec.seats_per_row <= MAX_SEATS_PER_ROW:
        raise ValidationError(
            f"Seats per row must be between 1 and {MAX_SEATS_PER_ROW}.", field="seats_per_row"
        )
    if spec.rows * spec.seats_per_row > MAX_GRID_SEATS:
        raise ValidationError(
            f"A section holds at most {MAX_GRID_SEATS:,} seats; make fewer rows or seats.",
            field="seats_per_row",
        )
    aisles = sorted(set(spec.aisles_after))
    if any(not 1 <= a < spec.seats_per_row for a in aisles):
        raise ValidationError(
            f"Aisles must come after a seat number from 1 to {spec.seats_per_row - 1}.",
            field="aisles_after",
        )
    names = [_row_label(r, spec.row_naming) for r in range(spec.rows)]
    accessible: set[tuple[str, int]] = set()
    if spec.accessible_first_row_ends:
        accessible |= {(names[0], 1), (names[0], spec.seats_per_row)}
    example = "A1" if spec.row_naming == "letters" else "1-1"
    for raw in spec.accessible_seats:
        wanted = raw.strip()
        if not wanted:
            continue
        match = _SEAT_NAME[spec.row_naming].fullmatch(wanted)
        if match is None:
            raise ValidationError(
                f"Accessible seat {wanted!r} is not a seat name like {example}.",
                field="accessible_seats",
            )
        row, number = match.group(1).upper(), int(match.group(2))
        if row not in names or not 1 <= number <= spec.seats_per_row:
            raise ValidationError(
                f"Accessible seat {wanted!r} is not in the grid (rows {names[0]}–{names[-1]},"
                f" seats 1–{spec.seats_per_row}).",
                field="accessible_seats",
            )
        accessible.add((row, number))
    seats = []
    for r, name in enumerate(names):
        for n in range(1, spec.seats_per_row + 1):
            gaps = sum(1 for a in aisles if a < n)
            seats.append(
                PlannedSeat(
                    row_name=name,
                    seat_number=str(n),
                    x=float((n - 1 + gaps) * SEAT_PITCH),
                    y=float(r * ROW_PITCH),
                    is_accessible=(name, n) in accessible,
                )
            )
    return tuple(seats)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float | Decimal) else None


def _lock_section(session: Session, section_id: uuid.UUID) -> VenueSection:
    section = session.scalars(
        select(VenueSection).where(VenueSection.id == section_id).with_for_update()
    ).first()
    if section is None:
        raise NotFound("That section does not exist.", field="section_id")
    return section


# -- services ---------------------------------------------------------------------------


def list_venues(actor: Actor, search: str = "", *, limit: int = 200) -> tuple[VenueSummary, ...]:
    """Venues by name, optionally matching `search` (full text over name, description,
    address, city and country), with their section and seat counts.

    Raises PermissionDenied without events.manage and ValidationError for a bad limit.
    """
    if not 1 <= limit <= VENUE_LIST_LIMIT:
        raise ValidationError(f"Limit must be between 1 and {VENUE_LIST_LIMIT}.", field="limit")
    query = select(Venue.id, Venue.name, Venue.city, Venue.country, Venue.status, Venue.capacity)
    if search.strip():
        query = query.where(
            VENUE_DOCUMENT.op("@@")(
                func.websearch_to_tsquery(literal_column("'english'"), search.strip())
            )
        )
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        venues = uow.session.execute(query.order_by(Venue.name, Venue.id).limit(limit)).all()
        ids = [v[0] for v in venues]
        counts: dict[uuid.UUID, tuple[int, int]] = {}
        if ids:
            # Seats counted per section first: a hash aggregate, where counting distinct
            # sections over the joined seats sorted every seat of every venue.
            per_section = (
                select(VenueSeat.section_id, func.count().label("seats"))
                .join(VenueSection, VenueSection.id == VenueSeat.section_id)
                .where(VenueSection.venue_id.in_(ids))
                .group_by(VenueSeat.section_id)
                .subquery()
            )
            for venue_id, sections, seats in uow.session.execute(
                select(
                    VenueSection.venue_id,
                    func.count(),
                    func.coalesce(func.sum(per_section.c.seats), 0),
                )
                .outerjoin(per_section, per_section.c.section_id == VenueSection.id)
                .where(VenueSection.venue_id.in_(ids))
                .group_by(VenueSection.venue_id)
            ):
                counts[venue_id] = (int(sections), int(seats))
    return tuple(
        VenueSummary(v[0], v[1], v[2], v[3], v[4], v[5], *counts.get(v[0], (0, 0))) for v in venues
    )


def get_venue(actor: Actor, venue_id: uuid.UUID) -> VenueDetail:
    """A venue with its sections and their seat counts.

    Raises PermissionDenied without events.manage and NotFound.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        return _detail(uow.session, venue_id)


def create_venue(actor: Actor, data: VenueInput) -> VenueDetail:
    """Add a venue (its slug is made from the name).

    Raises PermissionDenied, ValidationError naming the field (name, address, city,
    country, status, capacity, contact_email) and Conflict for a duplicate.
    """
    values = _clean_venue(data)
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        venue = Venue(**values)
        uow.session.add(venue)
        uow.session.flush()
        _audit(uow, "venue.created", venue.id, "venues", {"name": venue.name})
        detail = _detail(uow.session, venue.id)
        uow.commit()
    return detail


def update_venue(actor: Actor, venue_id: uuid.UUID, data: VenueInput) -> VenueDetail:
    """Change a venue's details. Raises PermissionDenied, NotFound and ValidationError."""
    values = _clean_venue(data)
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        venue = uow.session.get(Venue, venue_id, with_for_update=True)
        if venue is None:
            raise NotFound("That venue does not exist.", field="venue_id")
        for key, value in values.items():
            if getattr(venue, key) != value:
                setattr(venue, key, value)
        uow.session.flush()
        detail = _detail(uow.session, venue.id)
        uow.commit()
    return detail


def create_section(actor: Actor, venue_id: uuid.UUID, data: SectionInput) -> SectionSummary:
    """Add a seating section to a venue (its seats come from generate_seat_grid).

    Raises PermissionDenied, NotFound (venue), ValidationError (name, section_type,
    capacity, price_multiplier) and Conflict when the venue has a section of that name.
    """
    values = _clean_section(data)
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        if uow.session.get(Venue, venue_id) is None:
            raise NotFound("That venue does not exist.", field="venue_id")
        section = VenueSection(venue_id=venue_id, **values)
        uow.session.add(section)
        uow.session.flush()
        summary = _section_summary(uow.session, section.id)
        uow.commit()
    return summary


def update_section(actor: Actor, section_id: uuid.UUID, data: SectionInput) -> SectionSummary:
    """Change a section's details. Raises PermissionDenied, NotFound, ValidationError and
    Conflict (a name another section of the venue has)."""
    values = _clean_section(data)
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        section = _lock_section(uow.session, section_id)
        for key, value in values.items():
            if getattr(section, key) != value:
                setattr(section, key, value)
        uow.session.flush()
        summary = _section_summary(uow.session, section.id)
        uow.commit()
    return summary


def generate_seat_grid(
    actor: Actor, section_id: uuid.UUID, spec: SeatGridSpec, *, replace: bool = False
) -> GridResult:
    """Create a section's seats from `spec` in one transaction, and set the section's
    capacity and seat-map box to match.

    The grid is placed below the venue's other seats unless the section already has a
    position. A section that has seats is refused unless `replace`; replacing is refused
    while any of its seats is sold or held for an event, and events that had the old
    seats get the new ones, free. Raises PermissionDenied, NotFound, ValidationError (the
    spec, see plan_seat_grid) and Conflict (field replace).
    """
    planned = plan_seat_grid(spec)
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        section = _lock_section(session, section_id)
        existing = session.scalar(
            select(func.count()).select_from(VenueSeat).where(VenueSeat.section_id == section.id)
        )
        # The database's rule (section_seats_refusal, migration 0010; its trigger holds
        # every writer to it), asked before the old seats go.
        refusal = session.scalar(
            text("SELECT section_seats_refusal(:s, :n)"), {"s": section.id, "n": len(planned)}
        )
        if refusal is not None:
            raise ValidationError(refusal, field="section_id", code="check_violation")
        events_with_seats: list[uuid.UUID] = []
        if existing:
            if not replace:
                raise Conflict(
                    f"Section {section.name} already has {existing:,} seats; choose"
                    " “replace the existing seats” to build it again.",
                    field="replace",
                    code="has_seats",
                )
            # Row locks in the checkout's order (seat id), so a sale in flight either
            # finishes first and is seen here, or waits and then finds its seats gone.
            taken = session.execute(
                text(
                    "SELECT count(*) FILTER (WHERE status = 'sold'),"
                    " count(*) FILTER (WHERE status = 'held' AND held_until > now())"
                    " FROM (SELECT es.status, es.held_until FROM event_seats es"
                    " JOIN venue_seats vs ON vs.id = es.seat_id WHERE vs.section_id = :s"
                    " ORDER BY es.seat_id FOR UPDATE OF es) locked"
                ),
                {"s": section.id},
            ).one()
            if taken[0] or taken[1]:
                raise Conflict(
                    f"Section {section.name} cannot be rebuilt: {taken[0]:,} of its seats are"
                    f" sold and {taken[1]:,} held for events.",
                    field="replace",
                    code="seats_in_use",
                )
            events_with_seats = list(
                session.scalars(
                    text(
                        "SELECT DISTINCT es.event_id FROM event_seats es"
                        " JOIN venue_seats vs ON vs.id = es.seat_id WHERE vs.section_id = :s"
                    ),
                    {"s": section.id},
                )
            )
            session.execute(
                text("DELETE FROM venue_seats WHERE section_id = :s"), {"s": section.id}
            )

        box = dict(section.coordinates or {})
        origin_x, origin_y = _number(box.get("x")), _number(box.get("y"))
        if origin_x is None or origin_y is None:
            below = session.scalar(
                select(func.max(VenueSeat.y))
                .join(VenueSection, VenueSection.id == VenueSeat.section_id)
                .where(VenueSection.venue_id == section.venue_id, VenueSection.id != section.id)
            )
            origin_x = 0.0
            origin_y = 0.0 if below is None else float(below) + ROW_PITCH + SECTION_GAP
        rows = [
            {
                "section_id": section.id,
                "row_name": seat.row_name,
                "seat_number": seat.seat_number,
                "x": Decimal(str(origin_x + seat.x)),
                "y": Decimal(str(origin_y + seat.y)),
                "is_accessible": seat.is_accessible,
                "accessibility_features": ["wheelchair"] if seat.is_accessible else None,
            }
            for seat in planned
        ]
        new_ids = list(session.scalars(insert(VenueSeat).returning(VenueSeat.id), rows))
        if events_with_seats:
            session.execute(
                text(
                    "INSERT INTO event_seats (event_id, seat_id, status)"
                    " SELECT e, s, 'available' FROM unnest(CAST(:events AS uuid[])) e"
                    " CROSS JOIN unnest(CAST(:seats AS uuid[])) s"
                ),
                {"events": events_with_seats, "seats": new_ids},
            )
        # Events whose ticket types sell this section get the new seats too.
        open_section_seats(session, section.id)
        section.capacity = len(planned)
        section.coordinates = {
            **box,
            "x": origin_x,
            "y": origin_y,
            "width": max(s.x for s in planned) + SEAT_PITCH,
            "height": spec.rows * ROW_PITCH,
        }
        session.flush()
        result = GridResult(
            section_id=section.id,
            seats=len(planned),
            rows=spec.rows,
            accessible=sum(1 for s in planned if s.is_accessible),
            replaced=int(existing or 0),
        )
        _audit(
            uow,
            "venue.seat_grid.generated",
            section.id,
            "venue_sections",
            {"seats": result.seats, "rows": result.rows, "replaced": result.replaced},
        )
        uow.commit()
    return result


def list_section_seats(actor: Actor, section_id: uuid.UUID) -> tuple[SeatInfo, ...]:
    """A section's seats in row and seat order, with coordinates and physical status.

    Raises PermissionDenied without events.manage and NotFound.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        if uow.session.get(VenueSection, section_id) is None:
            raise NotFound("That section does not exist.", field="section_id")
        seats = uow.session.scalars(
            select(VenueSeat)
            .where(VenueSeat.section_id == section_id)
            .order_by(VenueSeat.y, VenueSeat.x, VenueSeat.row_name, VenueSeat.seat_number)
            .limit(MAX_GRID_SEATS)
        ).all()
        return tuple(
            SeatInfo(
                seat_id=s.id,
                row_name=s.row_name,
                seat_number=s.seat_number,
                x=float(s.x) if s.x is not None else None,
                y=float(s.y) if s.y is not None else None,
                status=s.status,
                is_accessible=s.is_accessible,
                notes=s.notes,
            )
            for s in seats
        )


def _section_seat_ids(
    session: Session, section_id: uuid.UUID, seat_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    wanted = sorted(set(seat_ids))
    if not wanted:
        raise ValidationError("Choose at least one seat.", field="seat_ids")
    _lock_section(session, section_id)
    found = list(
        session.scalars(
            select(VenueSeat.id)
            .where(VenueSeat.section_id == section_id, VenueSeat.id.in_(wanted))
            .order_by(VenueSeat.id)
            .with_for_update()
        )
    )
    if len(found) != len(wanted):
        raise ValidationError("A chosen seat is not in this section.", field="seat_ids")
    return found


def _lock_event_seats(session: Session, seat_ids: list[uuid.UUID]) -> None:
    # Sorted like the checkout locks seats, so the two wait for each other, not deadlock.
    session.execute(
        text(
            "SELECT 1 FROM event_seats WHERE seat_id = ANY(:ids)"
            " ORDER BY event_id, seat_id FOR UPDATE"
        ),
        {"ids": seat_ids},
    )


def block_seats(
    actor: Actor,
    section_id: uuid.UUID,
    seat_ids: Sequence[uuid.UUID],
    reason: str,
    *,
    status: str = "blocked",
) -> BlockResult:
    """Take seats out of use, for every event: the physical seat gets `status` ('blocked'
    or 'maintenance') and `reason`; each event's copy of the seat that is free (or whose
    hold expired) becomes blocked with the same reason. Seats sold or held for an event
    stay so (counted in `sold_or_held`).

    The block reaches every event that lists the seat, past ones included: events are
    row-level secured and another organizer's draft would otherwise keep the seat on sale.
    Raises PermissionDenied, NotFound, ValidationError (reason, status, seat_ids) and
    Busy when a sale holds the seats past the lock timeout.
    """
    cleaned = blank_to_none(reason)
    if cleaned is None:
        raise ValidationError("Give a reason for blocking the seats.", field="reason")
    if status not in BLOCK_STATUSES:
        raise ValidationError(
            f"Status must be one of: {', '.join(BLOCK_STATUSES)}.", field="status"
        )
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        ids = _section_seat_ids(session, section_id, seat_ids)
        _lock_event_seats(session, ids)
        # Before the seats change: an event block that carries the seat's current reason
        # came from the venue and takes the new reason, so unblocking still finds it.
        changed = session.execute(
            text(
                "UPDATE event_seats es SET status = 'blocked', blocked_reason = :r,"
                " hold_id = NULL, held_until = NULL, ticket_type_id = NULL, price = NULL"
                " FROM venue_seats vs WHERE vs.id = es.seat_id AND vs.id = ANY(:ids)"
                " AND (es.status = 'available'"
                "      OR (es.status = 'held' AND es.held_until <= now())"
                "      OR (es.status = 'blocked' AND vs.status <> 'available'"
                "          AND es.blocked_reason IS NOT DISTINCT FROM vs.notes))"
            ),
            {"r": cleaned, "ids": ids},
        ).rowcount
        session.execute(
            text("UPDATE venue_seats SET status = :st, notes = :r WHERE id = ANY(:ids)"),
            {"st": status, "r": cleaned, "ids": ids},
        )
        left = session.scalar(
            text(
                "SELECT count(*) FROM event_seats WHERE seat_id = ANY(:ids)"
                " AND (status = 'sold' OR (status = 'held' AND held_until > now()))"
            ),
            {"ids": ids},
        )
        result = BlockResult(len(ids), int(changed or 0), int(left or 0))
        _audit(
            uow,
            "venue.seats.blocked",
            section_id,
            "venue_seats",
            {"seats": [str(i) for i in ids], "status": status, "reason": cleaned},
        )
        uow.commit()
    return result


def unblock_seats(
    actor: Actor, section_id: uuid.UUID, seat_ids: Sequence[uuid.UUID]
) -> BlockResult:
    """Put blocked seats back in use: the physical seat becomes available and every event
    block that carries the seat's reason is lifted (`event_seats`); blocks an event set
    for another reason stay.

    Raises PermissionDenied, NotFound, ValidationError (seat_ids) and Busy.
    """
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        ids = _section_seat_ids(session, section_id, seat_ids)
        _lock_event_seats(session, ids)
        changed = session.execute(
            text(
                "UPDATE event_seats es SET status = 'available', blocked_reason = NULL"
                " FROM venue_seats vs WHERE vs.id = es.seat_id AND vs.id = ANY(:ids)"
                " AND vs.status <> 'available' AND es.status = 'blocked'"
                " AND es.blocked_reason IS NOT DISTINCT FROM vs.notes"
            ),
            {"ids": ids},
        ).rowcount
        seats = session.execute(
            text(
                "UPDATE venue_seats SET status = 'available', notes = NULL"
                " WHERE id = ANY(:ids) AND status <> 'available'"
            ),
            {"ids": ids},
        ).rowcount
        left = session.scalar(
            text(
                "SELECT count(*) FROM event_seats WHERE seat_id = ANY(:ids)"
                " AND (status = 'sold' OR (status = 'held' AND held_until > now()))"
            ),
            {"ids": ids},
        )
        result = BlockResult(int(seats or 0), int(changed or 0), int(left or 0))
        _audit(
            uow,
            "venue.seats.unblocked",
            section_id,
            "venue_seats",
            {"seats": [str(i) for i in ids]},
        )
        uow.commit()
    return result
