"""Ticket types of an event: tiers, prices, capacities, sale windows, per-order limits and
the venue section a type sells, with live availability from the checkout.

Writers need events.manage and must organise the event (admins manage every event), the
rule row-level security applies to the events themselves. Edits carry the version the
person read: a ticket type changed in between (an edit, or a sale, which moves its
remaining capacity) is refused as ConcurrentUpdate. Capacity changes take the checkout's
locks (core.checkout.locking), so a sale never interleaves with them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.auth.permissions import EVENTS_MANAGE
from core.checkout.availability import read_availability
from core.checkout.holds import held_quantity, lock_event_capacity
from core.checkout.locking import DEFAULT_LOCK_TIMEOUT_MS, NS_TICKET_TYPE, lock_all
from core.checkout.pricing import money
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import ConcurrentUpdate, NotFound, PermissionDenied, ValidationError
from core.models import Event, TicketType, Venue
from core.models.ticketing import TICKET_TIERS
from core.services import inputs
from core.services.seat_inventory import open_section_seats

MAX_PRICE = inputs.MONEY_MAX


@dataclass(frozen=True)
class ManagedEvent:
    """An event whose ticket types the actor may change."""

    event_id: uuid.UUID
    title: str
    start_date: datetime
    status: str
    venue_name: str | None


@dataclass(frozen=True)
class SectionOption:
    section_id: uuid.UUID
    name: str
    section_type: str
    seats: int


@dataclass(frozen=True)
class TicketTypeView:
    """A ticket type with its live availability (held counts unexpired holds only)."""

    ticket_type_id: uuid.UUID
    name: str
    description: str | None
    tier: str
    price: Decimal
    tax_rate: Decimal | None
    capacity: int
    sold: int
    held: int
    sale_start: datetime
    sale_end: datetime
    max_per_order: int | None
    is_active: bool
    section_id: uuid.UUID | None
    section_name: str | None
    version: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.sold - self.held, 0)


@dataclass(frozen=True)
class EventTicketTypes:
    event_id: uuid.UUID
    title: str
    status: str
    start_date: datetime
    venue_name: str | None
    event_tax_rate: Decimal
    sections: tuple[SectionOption, ...]
    ticket_types: tuple[TicketTypeView, ...]


@dataclass(frozen=True)
class TicketTypeDraft:
    """What a person enters for a ticket type; checked by create/update."""

    name: str
    tier: str
    price: Decimal
    capacity: int
    sale_start: datetime
    sale_end: datetime
    max_per_order: int | None = None
    section_id: uuid.UUID | None = None
    description: str | None = None
    tax_rate: Decimal | None = None
    is_active: bool = True


def list_manageable_events(
    actor: Actor, *, search: str = "", limit: int = 50
) -> list[ManagedEvent]:
    """Events the actor may set ticket types for (their own; every event for admins),
    matching `search` in the title: upcoming first by start, then past ones, at most
    `limit`. Raises PermissionDenied without events.manage."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        rows = uow.session.execute(
            text(
                "SELECT e.id, e.title, e.start_date, e.status, v.name"
                "  FROM events e LEFT JOIN venues v ON v.id = e.venue_id"
                " WHERE (:all OR e.organizer_id = :me)"
                "   AND (:search = '' OR e.title ILIKE :pattern)"
                " ORDER BY e.end_date < now(), e.start_date, e.id"
                " LIMIT :limit"
            ),
            {
                "all": _manages_all(uow.session, actor),
                "me": actor.user_id,
                "search": search.strip(),
                "pattern": f"%{escape_like(search.strip())}%",
                "limit": max(1, min(int(limit), 500)),
            },
        ).all()
    return [ManagedEvent(*row) for row in rows]


def get_event_ticket_types(actor: Actor, event_id: uuid.UUID) -> EventTicketTypes:
    """The event's ticket types with capacity, sold, held and free, and the sections of
    its venue a type may sell. Raises PermissionDenied (events.manage, or not the event's
    organizer) and NotFound."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        event = _managed_event(session, actor, event_id)
        venue_name = (
            session.scalar(select(Venue.name).where(Venue.id == event.venue_id))
            if event.venue_id
            else None
        )
        sections = _sections(session, event.venue_id)
        names = {s.section_id: s.name for s in sections}
        availability = {
            a.ticket_type_id: a for a in read_availability(session, event_id).ticket_types
        }
        types = session.scalars(
            select(TicketType)
            .where(TicketType.event_id == event_id)
            .order_by(TicketType.base_price, TicketType.name, TicketType.id)
        ).all()
        views = tuple(_view(tt, availability[tt.id].held, names) for tt in types)
        return EventTicketTypes(
            event.id,
            event.title,
            event.status,
            event.start_date,
            venue_name,
            event.tax_rate,
            sections,
            views,
        )


def create_ticket_type(actor: Actor, event_id: uuid.UUID, draft: TicketTypeDraft) -> TicketTypeView:
    """Add a ticket type to the event with all its capacity free; a type that sells a
    section gives the event that section's seats.

    Raises ValidationError naming the field at fault (name, description, tier,
    base_price, total_capacity, sale_end_date, max_quantity_per_order, tax_rate,
    seating_section_id; a seated type's capacity above its section's seats: "Section
    Floor has 40 seats; capacity 100 is more than that."), PermissionDenied, NotFound and
    Unavailable.
    """
    draft = _check_draft(draft)
    event_id = inputs.uuid_value(event_id, "event_id", label="Event")
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        event = _managed_event(session, actor, event_id)
        sections = _sections(session, event.venue_id)
        _check_section(session, draft, sections)
        tt = TicketType(
            event_id=event_id,
            name=draft.name,
            description=draft.description,
            tier=draft.tier,
            base_price=money(draft.price),
            total_capacity=draft.capacity,
            remaining_capacity=draft.capacity,
            sale_start_date=draft.sale_start,
            sale_end_date=draft.sale_end,
            max_quantity_per_order=draft.max_per_order,
            seating_section_id=draft.section_id,
            tax_rate=draft.tax_rate,
            is_active=draft.is_active,
        )
        session.add(tt)
        session.flush()
        if tt.seating_section_id is not None:
            open_section_seats(session, tt.seating_section_id, event_id)
        view = _committed_view(session, tt, sections)
        uow.commit()
    return view


def update_ticket_type(
    actor: Actor, ticket_type_id: uuid.UUID, version: int, draft: TicketTypeDraft
) -> TicketTypeView:
    """Change a ticket type read at `version`.

    Capacity may not go below what is sold plus held, nor above the seats of the section
    the type sells; the section may not change once seats of this type are sold or held.
    Raises ConcurrentUpdate when the type changed since `version` (reload it),
    ValidationError naming the field, PermissionDenied, NotFound, Busy (a checkout holds
    the ticket type's lock past the lock timeout) and Unavailable.
    """
    draft = _check_draft(draft)
    ticket_type_id = inputs.uuid_value(ticket_type_id, "ticket_type_id", label="Ticket type")
    version = inputs.whole_number(version, "version", label="Version", low=1)
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        tt = _locked_type(session, actor, ticket_type_id, version)
        event = session.get(Event, tt.event_id)
        assert event is not None
        sections = _sections(session, event.venue_id)
        _check_section(session, draft, sections)

        sold = tt.total_capacity - tt.remaining_capacity
        held = held_quantity(session, tt.id)
        if draft.capacity < sold + held:
            raise ValidationError(
                f"Capacity cannot go below {sold + held} ({sold} sold, {held} held).",
                field="total_capacity",
            )
        if draft.section_id != tt.seating_section_id and _has_seats(session, tt.id):
            raise ValidationError(
                "The section cannot change once seats of this type are sold or held.",
                field="seating_section_id",
            )
        tt.name = draft.name
        tt.description = draft.description
        tt.tier = draft.tier
        tt.base_price = money(draft.price)
        tt.total_capacity = draft.capacity
        tt.remaining_capacity = draft.capacity - sold
        tt.sale_start_date = draft.sale_start
        tt.sale_end_date = draft.sale_end
        tt.max_quantity_per_order = draft.max_per_order
        tt.seating_section_id = draft.section_id
        tt.tax_rate = draft.tax_rate
        tt.is_active = draft.is_active
        session.flush()
        if tt.seating_section_id is not None:
            open_section_seats(session, tt.seating_section_id, tt.event_id)
        view = _committed_view(session, tt, sections)
        uow.commit()
    return view


def set_ticket_type_active(
    actor: Actor, ticket_type_id: uuid.UUID, version: int, active: bool
) -> TicketTypeView:
    """Put a ticket type on sale (within its sale window) or take it off sale. Existing
    holds and orders stay. Raises ConcurrentUpdate, PermissionDenied, NotFound, Busy."""
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        tt = _locked_type(session, actor, ticket_type_id, version)
        if tt.is_active != active:
            tt.is_active = active
            session.flush()
        event = session.get(Event, tt.event_id)
        assert event is not None
        view = _committed_view(session, tt, _sections(session, event.venue_id))
        uow.commit()
    return view


# -- helpers ----------------------------------------------------------------------------


def _committed_view(
    session: Session, tt: TicketType, sections: tuple[SectionOption, ...]
) -> TicketTypeView:
    """The type as it will commit: the version trigger moved its version on in the
    database, behind the ORM's back."""
    session.flush()
    version = session.scalar(select(TicketType.version).where(TicketType.id == tt.id))
    view = _view(tt, held_quantity(session, tt.id), {s.section_id: s.name for s in sections})
    return replace(view, version=int(version or 1))


def _view(tt: TicketType, held: int, section_names: dict[uuid.UUID, str]) -> TicketTypeView:
    return TicketTypeView(
        ticket_type_id=tt.id,
        name=tt.name,
        description=tt.description,
        tier=tt.tier,
        price=tt.base_price,
        tax_rate=tt.tax_rate,
        capacity=tt.total_capacity,
        sold=tt.total_capacity - tt.remaining_capacity,
        held=held,
        sale_start=tt.sale_start_date,
        sale_end=tt.sale_end_date,
        max_per_order=tt.max_quantity_per_order,
        is_active=tt.is_active,
        section_id=tt.seating_section_id,
        section_name=section_names.get(tt.seating_section_id) if tt.seating_section_id else None,
        version=tt.version,
    )


def _manages_all(session: Session, actor: Actor) -> bool:
    if actor.is_system:
        return True
    return bool(session.scalar(text("SELECT app_has_role('admin')")))


def _managed_event(session: Session, actor: Actor, event_id: uuid.UUID) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound("That event does not exist.", field="event_id")
    if event.organizer_id != actor.user_id and not _manages_all(session, actor):
        raise PermissionDenied(
            "Only the event's organizer or an admin can change its ticket types."
        )
    return event


def _locked_type(
    session: Session, actor: Actor, ticket_type_id: uuid.UUID, version: int
) -> TicketType:
    """The ticket type under the checkout's locks (event, when its capacity binds, then
    the type: the order every sale takes them in), at the version the person read."""
    event_id = session.scalar(select(TicketType.event_id).where(TicketType.id == ticket_type_id))
    if event_id is None:
        raise NotFound("That ticket type does not exist.", field="ticket_type_id")
    _managed_event(session, actor, event_id)
    lock_event_capacity(session, event_id)
    lock_all(session, NS_TICKET_TYPE, [ticket_type_id])
    tt = session.get(TicketType, ticket_type_id, with_for_update=True, populate_existing=True)
    assert tt is not None
    if tt.version != version:
        raise ConcurrentUpdate(
            f"{tt.name} was changed by someone else since you opened it (a sale counts too);"
            " reload it and try again.",
            field="version",
        )
    return tt


def _sections(session: Session, venue_id: uuid.UUID | None) -> tuple[SectionOption, ...]:
    if venue_id is None:
        return ()
    rows = session.execute(
        text(
            "SELECT s.id, s.name, s.section_type,"
            " (SELECT count(*) FROM venue_seats vs WHERE vs.section_id = s.id)"
            " FROM venue_sections s WHERE s.venue_id = :v ORDER BY s.name"
        ),
        {"v": venue_id},
    ).all()
    return tuple(SectionOption(r[0], r[1], r[2], int(r[3])) for r in rows)


def _check_section(
    session: Session, draft: TicketTypeDraft, sections: tuple[SectionOption, ...]
) -> None:
    """The section belongs to the event's venue, and has room for the capacity: the
    database's own rule (ticket_type_seats_refusal, migration 0010; its trigger holds
    every writer to it), asked first so the refusal comes before anything is written."""
    if draft.section_id is None:
        return
    if draft.section_id not in {s.section_id for s in sections}:
        raise ValidationError(
            "That section is not part of the event's venue.", field="seating_section_id"
        )
    refusal = session.scalar(
        text("SELECT ticket_type_seats_refusal(:s, :c)"),
        {"s": draft.section_id, "c": draft.capacity},
    )
    if refusal is not None:
        raise ValidationError(refusal, field="total_capacity", code="check_violation")


def _has_seats(session: Session, ticket_type_id: uuid.UUID) -> bool:
    return bool(
        session.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM event_seats WHERE ticket_type_id = :t"
                " AND status IN ('sold', 'held'))"
            ),
            {"t": ticket_type_id},
        )
    )


def _check_draft(draft: TicketTypeDraft) -> TicketTypeDraft:
    """The draft with its texts trimmed, every field checked; ValidationError naming the
    field otherwise."""
    if not isinstance(draft, TicketTypeDraft):
        raise ValidationError("Give a TicketTypeDraft.", field="draft")
    name = inputs.required_text(TicketType.name, draft.name, label="Name")
    description = inputs.text_value(TicketType.description, draft.description)
    if draft.tier not in TICKET_TIERS:
        raise ValidationError(f"Tier must be one of: {', '.join(TICKET_TIERS)}.", field="tier")
    if not isinstance(draft.price, Decimal) or not draft.price.is_finite():
        raise ValidationError("Price must be a number.", field="base_price")
    if draft.price < 0:
        raise ValidationError("Price must be 0 or more.", field="base_price")
    if draft.price > MAX_PRICE:
        raise ValidationError("Price is too large.", field="base_price")
    if isinstance(draft.capacity, bool) or not isinstance(draft.capacity, int):
        raise ValidationError("Capacity must be a whole number.", field="total_capacity")
    if draft.capacity < 0:
        raise ValidationError("Capacity must be 0 or more.", field="total_capacity")
    inputs.whole_number(
        draft.capacity, "total_capacity", label="Capacity", low=0, high=2_147_483_647
    )
    for value, field in ((draft.sale_start, "sale_start_date"), (draft.sale_end, "sale_end_date")):
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValidationError("Give a date and time with a time zone.", field=field)
    if draft.sale_end <= draft.sale_start:
        raise ValidationError("Sale end must be after the sale start.", field="sale_end_date")
    if draft.max_per_order is not None:
        inputs.whole_number(
            draft.max_per_order,
            "max_quantity_per_order",
            label="Per-order limit",
            low=1,
            high=2_147_483_647,
        )
    if draft.section_id is not None:
        inputs.uuid_value(draft.section_id, "seating_section_id", label="Section")
    if draft.tax_rate is not None and not (
        isinstance(draft.tax_rate, Decimal)
        and draft.tax_rate.is_finite()
        and 0 <= draft.tax_rate < 1
    ):
        raise ValidationError(
            "Tax rate must be at least 0% and below 100%.",
            field="tax_rate",
        )
    if not isinstance(draft.is_active, bool):
        raise ValidationError("On sale must be yes or no.", field="is_active")
    return replace(draft, name=name, description=description)
