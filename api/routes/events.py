"""Events, venues, ticket types with live availability, and seats."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from api.auth import Requires, actor_of
from api.models import (
    Limit,
    Output,
    ShortText,
    cursor_time,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from api.problems import responses
from core.services import box_office, seat_map, venues
from core.services import events as event_service
from core.services.events import EventCursor, EventFilters

router = APIRouter(tags=["events"], responses=responses(401, 403, 422, 429, 503))
READ = Requires("events:read")

EventStatus = Literal["draft", "published", "postponed", "cancelled", "completed"]


class EventSummary(Output):
    event_id: uuid.UUID
    title: str
    status: str
    type: str
    start_date: datetime
    end_date: datetime
    venue: str | None
    city: str | None
    capacity: int
    sold: int
    is_mine: bool


class EventList(Output):
    data: list[EventSummary]
    total: int
    next_cursor: str | None


class Category(Output):
    category_id: uuid.UUID
    name: str
    parent: str | None
    description: str | None


class ScheduleItem(Output):
    item_id: uuid.UUID
    title: str
    start_time: datetime
    end_time: datetime
    order_index: int
    is_break: bool
    type: str | None
    location: str | None
    description: str | None


class Event(Output):
    event_id: uuid.UUID
    organizer_id: uuid.UUID
    title: str
    slug: str
    description: str | None
    short_description: str | None
    start_date: datetime
    end_date: datetime
    venue_id: uuid.UUID | None
    venue: str | None
    status: str
    type: str
    capacity: int | None
    tags: list[str]
    featured: bool
    tax_rate: Decimal
    published_at: datetime | None
    cancellation_reason: str | None
    postponement_reason: str | None
    ticket_capacity: int
    tickets_sold: int
    categories: list[Category]
    schedule: list[ScheduleItem]


@router.get("/events", response_model=EventList, summary="List events")
def list_events(
    principal: Annotated[object, Depends(READ)],
    search: Annotated[ShortText, Query(description="words in the title or description")] = "",
    status: Annotated[list[EventStatus] | None, Query(description="any of these statuses")] = None,
    date_from: Annotated[
        date | None, Query(alias="from", description="starting on or after")
    ] = None,
    date_to: Annotated[date | None, Query(alias="to", description="starting on or before")] = None,
    cursor: Annotated[
        str | None, Query(max_length=500, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[Limit, Query()] = 50,
) -> EventList:
    """Events the key's owner may see, soonest first, a page at a time."""
    after = None
    if cursor:
        key, event_id = decode_cursor(cursor, 2)
        after = EventCursor("start", cursor_time(key), cursor_uuid(event_id))
    page = event_service.list_events(
        actor_of(principal),
        EventFilters(
            search=search,
            statuses=tuple(status or ()),
            starts_from=date_from,
            starts_until=date_to,
        ),
        sort="start",
        after=after,
        limit=limit,
    )
    nxt = page.next_cursor
    return EventList(
        data=[EventSummary.model_validate(r) for r in page.rows],
        total=page.total,
        next_cursor=encode_cursor(nxt.key, nxt.event_id) if nxt else None,
    )


@router.get("/events/{event_id}", response_model=Event, summary="Get an event")
def get_event(event_id: uuid.UUID, principal: Annotated[object, Depends(READ)]) -> Event:
    return Event.model_validate(event_service.get_event(actor_of(principal), event_id))


class Venue(Output):
    venue_id: uuid.UUID
    name: str
    city: str
    country: str
    status: str
    capacity: int | None
    sections: int
    seats: int


class Section(Output):
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


class VenueDetail(Output):
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
    website: str | None
    sections: list[Section]


class VenueList(Output):
    data: list[Venue]


@router.get("/venues", response_model=VenueList, summary="List venues", tags=["venues"])
def list_venues(
    principal: Annotated[object, Depends(READ)],
    search: Annotated[ShortText, Query()] = "",
    limit: Annotated[Limit, Query()] = 200,
) -> VenueList:
    rows = venues.list_venues(actor_of(principal), search, limit=limit)
    return VenueList(data=[Venue.model_validate(v) for v in rows])


@router.get(
    "/venues/{venue_id}", response_model=VenueDetail, summary="Get a venue", tags=["venues"]
)
def get_venue(venue_id: uuid.UUID, principal: Annotated[object, Depends(READ)]) -> VenueDetail:
    return VenueDetail.model_validate(venues.get_venue(actor_of(principal), venue_id))


class TicketType(Output):
    ticket_type_id: uuid.UUID
    name: str
    tier: str
    price: Decimal
    capacity: int
    sold: int
    held: int
    free: int
    max_per_order: int | None
    on_sale: bool
    sold_by_seat: bool
    section_name: str | None


class TicketTypes(Output):
    event_id: uuid.UUID
    title: str
    status: str
    payment_methods: list[str]
    data: list[TicketType]


@router.get(
    "/events/{event_id}/ticket-types",
    response_model=TicketTypes,
    summary="Ticket types with live availability",
)
def ticket_types(event_id: uuid.UUID, principal: Annotated[object, Depends(READ)]) -> TicketTypes:
    """Capacity, sold, held (unexpired holds) and free now, per ticket type."""
    options = box_office.get_sale_options(actor_of(principal), event_id)
    return TicketTypes(
        event_id=options.event_id,
        title=options.title,
        status=options.status,
        payment_methods=list(options.payment_methods),
        data=[TicketType.model_validate(t) for t in options.ticket_types],
    )


class Seat(Output):
    seat_id: uuid.UUID
    section_id: uuid.UUID
    section: str
    row: str
    number: str
    label: str
    status: str
    held_until: datetime | None
    price: Decimal | None
    ticket_type: str | None


class Seats(Output):
    event_id: uuid.UUID
    counts: dict[str, int]
    data: list[Seat]


@router.get("/events/{event_id}/seats", response_model=Seats, summary="Seat availability")
def seats(event_id: uuid.UUID, principal: Annotated[object, Depends(READ)]) -> Seats:
    """Every seat of the event's venue with its status now (available, held, sold, blocked)."""
    found = seat_map.get_seat_map(actor_of(principal), event_id)
    return Seats(
        event_id=found.event_id,
        counts=dict(found.counts),
        data=[Seat.model_validate(s) for s in found.seats],
    )
