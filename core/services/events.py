"""Events for organizers: find them, create and edit them, move them through their
statuses, plan their agenda and file them under categories.

Who may see or change an event is decided by row-level security (drafts are visible to
their organizer and admins only; only they may change an event); the services add the
`events.manage` permission check and say plainly when an event is not the actor's.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    exists,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from core.auth.audit import record_by_person
from core.auth.permissions import EVENTS_MANAGE
from core.db import Actor, UnitOfWork, unit_of_work
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.models import (
    Event,
    EventCategory,
    EventCategoryMapping,
    EventSchedule,
    TicketType,
    Venue,
)
from core.models.events import EVENT_STATUSES, EVENT_TYPES
from core.models.limits import max_length
from core.services.inputs import blank_to_none

# The status machine. Cancelled and completed are final; a postponed event goes back on
# sale by being published again.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("published", "cancelled"),
    "published": ("postponed", "cancelled", "completed"),
    "postponed": ("published", "cancelled"),
    "cancelled": (),
    "completed": (),
}
EDITABLE_STATUSES = ("draft", "published", "postponed")

EVENT_SORTS: dict[str, str] = {
    "start": "Start date, soonest first",
    "start_desc": "Start date, latest first",
    "title": "Title A–Z",
    "created_desc": "Newest created first",
}
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
EXPORT_LIMIT = 5000
# The column's declared limit (core/models/limits.py).
MAX_TITLE = max_length(Event, "title")

# The exact expression of idx_events_fts (migration 0001): PostgreSQL uses an expression
# index only for a textually identical expression, so this must not be respelled. As the
# app role it still scans: events has row-level security, and to_tsvector and @@ are not
# LEAKPROOF, so PostgreSQL checks the policy on every row before them (about 40 ms over the
# large demo's 600 events). Only a SECURITY DEFINER search function could use the index.
EVENT_DOCUMENT = literal_column(
    "to_tsvector('english', coalesce(events.title, '') || ' ' || coalesce(events.description, '')"
    " || ' ' || coalesce(events.short_description, ''))"
)


# -- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilters:
    """What the events list is narrowed to; empty fields do not filter."""

    search: str = ""
    statuses: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    venue_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    starts_from: date | None = None
    starts_until: date | None = None
    mine_only: bool = False


@dataclass(frozen=True)
class EventCursor:
    """Where a page of the list ended: the sort key and id of its last row."""

    sort: str
    key: datetime | str
    event_id: uuid.UUID


@dataclass(frozen=True)
class EventRow:
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


@dataclass(frozen=True)
class EventPage:
    rows: tuple[EventRow, ...]
    total: int
    next_cursor: EventCursor | None


@dataclass(frozen=True)
class Choice:
    id: uuid.UUID
    label: str


@dataclass(frozen=True)
class EventOptions:
    """What the events page offers in its pickers."""

    venues: tuple[Choice, ...]
    categories: tuple[Choice, ...]


@dataclass(frozen=True)
class Category:
    category_id: uuid.UUID
    name: str
    parent: str | None
    description: str | None


@dataclass(frozen=True)
class ScheduleItem:
    item_id: uuid.UUID
    title: str
    start_time: datetime
    end_time: datetime
    order_index: int
    is_break: bool
    type: str | None
    location: str | None
    description: str | None
    speaker_id: uuid.UUID | None


@dataclass(frozen=True)
class EventDetail:
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
    tags: tuple[str, ...]
    featured: bool
    tax_rate: Decimal
    published_at: datetime | None
    cancellation_reason: str | None
    postponement_reason: str | None
    original_start: str | None
    # Sums over the event's ticket types: what can be sold and what was sold.
    ticket_capacity: int
    tickets_sold: int
    categories: tuple[Category, ...]
    schedule: tuple[ScheduleItem, ...]
    next_statuses: tuple[str, ...]
    can_edit: bool


# -- inputs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventInput:
    """An event's editable details; dates without a time zone are taken as UTC."""

    title: str
    start_date: datetime
    end_date: datetime
    type: str
    venue_id: uuid.UUID | None = None
    short_description: str | None = None
    description: str | None = None
    capacity: int | None = None
    tags: tuple[str, ...] = ()
    featured: bool = False
    tax_rate: Decimal = Decimal("0")


@dataclass(frozen=True)
class ScheduleInput:
    """One agenda item; times without a time zone are taken as UTC."""

    title: str
    start_time: datetime
    end_time: datetime
    is_break: bool = False
    type: str | None = None
    location: str | None = None
    description: str | None = None
    speaker_id: uuid.UUID | None = None


# -- helpers ----------------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _now(session: Session) -> datetime:
    return session.execute(select(func.now())).scalar_one()


def _clean_event(session: Session, data: EventInput) -> dict[str, Any]:
    title = (data.title or "").strip()
    if not title:
        raise ValidationError("Title is required.", field="title")
    if len(title) > MAX_TITLE:
        raise ValidationError(f"Title must be at most {MAX_TITLE} characters.", field="title")
    if data.type not in EVENT_TYPES:
        raise ValidationError(f"Type must be one of: {', '.join(EVENT_TYPES)}.", field="type")
    start, end = _aware(data.start_date), _aware(data.end_date)
    if end <= start:
        raise ValidationError("End must be after start.", field="end_date")
    if data.capacity is not None and data.capacity < 0:
        raise ValidationError("Capacity cannot be negative.", field="capacity")
    tax_rate = Decimal(data.tax_rate)
    if not Decimal("0") <= tax_rate < Decimal("1"):
        raise ValidationError(
            "Tax rate must be at least 0% and below 100%.",
            field="tax_rate",
        )
    tags: list[str] = []
    for tag in data.tags:
        tag = tag.strip().lower()
        if tag and tag not in tags:
            tags.append(tag)
    if any(len(tag) > 50 for tag in tags):
        raise ValidationError("Tags must be at most 50 characters each.", field="tags")
    if data.venue_id is not None and session.get(Venue, data.venue_id) is None:
        raise ValidationError("That venue does not exist.", field="venue_id")
    return {
        "title": title,
        "start_date": start,
        "end_date": end,
        "type": data.type,
        "venue_id": data.venue_id,
        "short_description": blank_to_none(data.short_description),
        "description": blank_to_none(data.description),
        "capacity": data.capacity,
        "tags": tags or None,
        "featured": bool(data.featured),
        "tax_rate": tax_rate,
    }


def _is_admin(session: Session) -> bool:
    return bool(session.execute(select(func.app_has_role("admin"))).scalar())


def _may_edit(actor: Actor, event: Event, is_admin: bool) -> bool:
    return actor.is_system or is_admin or event.organizer_id == actor.user_id


def _lock_event(uow: UnitOfWork, event_id: uuid.UUID) -> Event:
    """The event, row-locked for a change by its organizer or an admin.

    Row-level security applies the update policy to FOR UPDATE, so a row the actor may
    see but not change comes back empty; the second look tells the two refusals apart.
    """
    session = uow.session
    event = session.scalars(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if event is None:
        if session.scalar(select(Event.id).where(Event.id == event_id)) is not None:
            raise PermissionDenied("Only the event's organizer or an admin can change it.")
        raise NotFound("That event does not exist or is not visible to you.", field="event_id")
    # Also checked here so that a connection that bypasses row-level security (the owner)
    # cannot let one organizer change another's event.
    if not _may_edit(uow.actor, event, _is_admin(session)):
        raise PermissionDenied("Only the event's organizer or an admin can change it.")
    return event


def _require_editable(event: Event) -> None:
    if event.status not in EDITABLE_STATUSES:
        raise Conflict(
            f"A {event.status} event can no longer be changed.", field="status", code="final"
        )


def _audit(
    uow: UnitOfWork,
    action: str,
    record_id: uuid.UUID,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    table: str = "events",
) -> None:
    record_by_person(uow.session, uow.actor, action, record_id, old=old, new=new, table=table)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, datetime | date | uuid.UUID | Decimal):
            out[key] = str(value)
        else:
            out[key] = value
    return out


def _schedule(session: Session, event_id: uuid.UUID) -> tuple[ScheduleItem, ...]:
    items = session.scalars(
        select(EventSchedule)
        .where(EventSchedule.event_id == event_id)
        .order_by(EventSchedule.order_index, EventSchedule.start_time, EventSchedule.id)
    ).all()
    return tuple(_item(i) for i in items)


def _item(item: EventSchedule) -> ScheduleItem:
    return ScheduleItem(
        item_id=item.id,
        title=item.title,
        start_time=item.start_time,
        end_time=item.end_time,
        order_index=item.order_index,
        is_break=item.is_break,
        type=item.type,
        location=item.location,
        description=item.description,
        speaker_id=item.speaker_id,
    )


def _event_categories(session: Session, event_id: uuid.UUID) -> tuple[Category, ...]:
    parent = EventCategory.__table__.alias("parent")
    rows = session.execute(
        select(EventCategory.id, EventCategory.name, parent.c.name, EventCategory.description)
        .join(EventCategoryMapping, EventCategoryMapping.category_id == EventCategory.id)
        .outerjoin(parent, parent.c.id == EventCategory.parent_id)
        .where(EventCategoryMapping.event_id == event_id)
        .order_by(EventCategory.order_index, EventCategory.name)
    ).all()
    return tuple(Category(*row) for row in rows)


def _ticket_totals(
    session: Session, event_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    if not event_ids:
        return {}
    rows = session.execute(
        select(
            TicketType.event_id,
            func.coalesce(func.sum(TicketType.total_capacity), 0),
            func.coalesce(func.sum(TicketType.total_capacity - TicketType.remaining_capacity), 0),
        )
        .where(TicketType.event_id.in_(list(event_ids)))
        .group_by(TicketType.event_id)
    ).all()
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def _detail(uow: UnitOfWork, event_id: uuid.UUID) -> EventDetail:
    session = uow.session
    row = session.execute(
        select(Event, Venue.name)
        .outerjoin(Venue, Venue.id == Event.venue_id)
        .where(Event.id == event_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound("That event does not exist or is not visible to you.", field="event_id")
    event, venue_name = row
    capacity, sold = _ticket_totals(session, [event.id]).get(event.id, (0, 0))
    meta = event.meta_data or {}
    can_edit = _may_edit(uow.actor, event, _is_admin(session))
    return EventDetail(
        event_id=event.id,
        organizer_id=event.organizer_id,
        title=event.title,
        slug=event.slug,
        description=event.description,
        short_description=event.short_description,
        start_date=event.start_date,
        end_date=event.end_date,
        venue_id=event.venue_id,
        venue=venue_name,
        status=event.status,
        type=event.type,
        capacity=event.capacity,
        tags=tuple(event.tags or ()),
        featured=event.featured,
        tax_rate=event.tax_rate,
        published_at=event.published_at,
        cancellation_reason=meta.get("cancellation_reason"),
        postponement_reason=meta.get("postponement_reason"),
        original_start=meta.get("original_start"),
        ticket_capacity=capacity,
        tickets_sold=sold,
        categories=_event_categories(session, event.id),
        schedule=_schedule(session, event.id),
        next_statuses=TRANSITIONS.get(event.status, ()) if can_edit else (),
        can_edit=can_edit,
    )


# -- the list ---------------------------------------------------------------------------


def search_condition(search: str) -> ColumnElement[bool]:
    """Full-text match of `search` (web-search syntax) over title and descriptions, in the
    form the idx_events_fts index serves."""
    query = func.websearch_to_tsquery(literal_column("'english'"), search)
    return EVENT_DOCUMENT.op("@@")(query)


def _conditions(filters: EventFilters, user_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    search = filters.search.strip()
    if len(search) > 200:
        raise ValidationError("Search must be at most 200 characters.", field="search")
    if search:
        conditions.append(search_condition(search))
    unknown = set(filters.statuses) - set(EVENT_STATUSES)
    if unknown:
        raise ValidationError(
            f"Status must be one of: {', '.join(EVENT_STATUSES)}.", field="statuses"
        )
    if filters.statuses:
        conditions.append(Event.status.in_(filters.statuses))
    if set(filters.types) - set(EVENT_TYPES):
        raise ValidationError(f"Type must be one of: {', '.join(EVENT_TYPES)}.", field="types")
    if filters.types:
        conditions.append(Event.type.in_(filters.types))
    if filters.venue_id is not None:
        conditions.append(Event.venue_id == filters.venue_id)
    if filters.category_id is not None:
        conditions.append(
            exists().where(
                EventCategoryMapping.event_id == Event.id,
                EventCategoryMapping.category_id == filters.category_id,
            )
        )
    if (
        filters.starts_from is not None
        and filters.starts_until is not None
        and filters.starts_until < filters.starts_from
    ):
        raise ValidationError(
            "The end of the date range must not be before its start.", field="starts_until"
        )
    if filters.starts_from is not None:
        conditions.append(Event.start_date >= datetime.combine(filters.starts_from, time.min, UTC))
    if filters.starts_until is not None:
        until = datetime.combine(filters.starts_until + timedelta(days=1), time.min, UTC)
        conditions.append(Event.start_date < until)
    if filters.mine_only:
        conditions.append(Event.organizer_id == user_id)
    return conditions


def _sort_column(sort: str) -> tuple[Any, bool]:
    columns = {
        "start": (Event.start_date, False),
        "start_desc": (Event.start_date, True),
        "title": (Event.title, False),
        "created_desc": (Event.created_at, True),
    }
    if sort not in columns:
        raise ValidationError(f"Sort must be one of: {', '.join(EVENT_SORTS)}.", field="sort")
    return columns[sort]


def _rows_query(
    filters: EventFilters,
    user_id: uuid.UUID | None,
    sort: str,
    after: EventCursor | None,
    limit: int,
) -> Select:
    """The page's rows, each with the count of every match (`total`).

    The matches are one CTE read twice, so a search runs its full-text test once per
    event for both the page and the count (the test is the costly part: see
    EVENT_DOCUMENT).
    """
    column, descending = _sort_column(sort)
    matches = (
        select(
            Event.id.label("id"),
            Event.title.label("title"),
            Event.status.label("status"),
            Event.type.label("type"),
            Event.start_date.label("start_date"),
            Event.end_date.label("end_date"),
            Venue.name.label("venue"),
            Venue.city.label("city"),
            Event.organizer_id.label("organizer_id"),
            column.label("sort_key"),
        )
        .outerjoin(Venue, Venue.id == Event.venue_id)
        .where(*_conditions(filters, user_id))
        .cte("matches")
    )
    m = matches.c
    query = select(
        m.id,
        m.title,
        m.status,
        m.type,
        m.start_date,
        m.end_date,
        m.venue,
        m.city,
        m.organizer_id,
        m.sort_key,
        select(func.count()).select_from(matches).scalar_subquery().label("total"),
    )
    if after is not None and after.sort == sort:
        position = tuple_(m.sort_key, m.id)
        cursor = tuple_(after.key, after.event_id)
        query = query.where(position < cursor if descending else position > cursor)
    order = (m.sort_key.desc(), m.id.desc()) if descending else (m.sort_key.asc(), m.id.asc())
    return query.order_by(*order).limit(limit)


def _fetch_rows(
    uow: UnitOfWork, filters: EventFilters, sort: str, after: EventCursor | None, limit: int
) -> tuple[list[EventRow], list[Any], int | None]:
    """Rows, their sort keys, and the count of every match (None when no row came back)."""
    session = uow.session
    user_id = uow.actor.user_id
    raw = session.execute(_rows_query(filters, user_id, sort, after, limit)).all()
    totals = _ticket_totals(session, [r[0] for r in raw])
    rows = [
        EventRow(
            event_id=r[0],
            title=r[1],
            status=r[2],
            type=r[3],
            start_date=r[4],
            end_date=r[5],
            venue=r[6],
            city=r[7],
            capacity=totals.get(r[0], (0, 0))[0],
            sold=totals.get(r[0], (0, 0))[1],
            is_mine=r[8] == user_id,
        )
        for r in raw
    ]
    return rows, [r[9] for r in raw], (int(raw[0][10]) if raw else None)


def list_events(
    actor: Actor,
    filters: EventFilters | None = None,
    *,
    sort: str = "start",
    after: EventCursor | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> EventPage:
    """One page of the events the actor may see, filtered and sorted, after `after`.

    Paging is by key (the last row's sort key and id), so every page costs the same
    however deep it is; `next_cursor` is None on the last page and `total` counts every
    match. Drafts of other organizers never appear (row-level security). Raises
    PermissionDenied without events.manage and ValidationError for a bad filter, sort or
    limit (the field names the input).
    """
    filters = filters or EventFilters()
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"Page size must be between 1 and {MAX_PAGE_SIZE}.", field="limit")
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        rows, keys, total = _fetch_rows(uow, filters, sort, after, limit + 1)
        if total is None and after is not None:
            # No row carries the count when the page lies past the end.
            total = uow.session.execute(
                select(func.count()).select_from(Event).where(*_conditions(filters, actor.user_id))
            ).scalar_one()
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = EventCursor(sort, keys[limit - 1], last.event_id)
        rows = rows[:limit]
    return EventPage(tuple(rows), int(total or 0), next_cursor)


def export_events(
    actor: Actor, filters: EventFilters | None = None, *, sort: str = "start"
) -> tuple[EventRow, ...]:
    """Every event of the list (up to EXPORT_LIMIT rows), for a download.

    Raises PermissionDenied without events.manage and ValidationError for a bad filter.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        rows, _, _ = _fetch_rows(uow, filters or EventFilters(), sort, None, EXPORT_LIMIT)
    return tuple(rows)


def event_options(actor: Actor) -> EventOptions:
    """Venues and categories to choose from on the events page.

    Raises PermissionDenied without events.manage.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        venues = uow.session.execute(
            select(Venue.id, Venue.name, Venue.city, Venue.status)
            .order_by(Venue.name, Venue.id)
            .limit(1000)
        ).all()
        categories = uow.session.execute(
            select(EventCategory.id, EventCategory.name)
            .order_by(EventCategory.order_index, EventCategory.name)
            .limit(1000)
        ).all()
    return EventOptions(
        venues=tuple(
            Choice(v[0], f"{v[1]} ({v[2]})" + ("" if v[3] == "active" else f" · {v[3]}"))
            for v in venues
        ),
        categories=tuple(Choice(c[0], c[1]) for c in categories),
    )


# -- one event --------------------------------------------------------------------------


def get_event(actor: Actor, event_id: uuid.UUID) -> EventDetail:
    """An event with its ticket capacity and sales, categories, agenda and the statuses it
    may move to. Raises PermissionDenied without events.manage and NotFound when the event
    does not exist or is another organizer's draft."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        return _detail(uow, event_id)


def create_event(actor: Actor, data: EventInput) -> EventDetail:
    """Create a draft event organized by the actor.

    Raises PermissionDenied without events.manage, ValidationError for bad input (e.g.
    "End must be after start." on end_date) and Conflict when its slug is taken.
    """
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        if actor.user_id is None:
            raise ValidationError("An event needs a person as its organizer.", field="organizer_id")
        values = _clean_event(uow.session, data)
        event = Event(organizer_id=actor.user_id, status="draft", **values)
        uow.session.add(event)
        uow.session.flush()
        detail = _detail(uow, event.id)
        uow.commit()
    return detail


def update_event(actor: Actor, event_id: uuid.UUID, data: EventInput) -> EventDetail:
    """Change an event's details (not its status: see publish_event and friends).

    Raises PermissionDenied (no events.manage, or not the organizer or an admin), NotFound,
    Conflict when the event is cancelled or completed, ValidationError for bad input.
    """
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        event = _lock_event(uow, event_id)
        _require_editable(event)
        values = _clean_event(uow.session, data)
        old = {key: getattr(event, key) for key in values}
        changed = {key: value for key, value in values.items() if old[key] != value}
        for key, value in changed.items():
            setattr(event, key, value)
        uow.session.flush()
        detail = _detail(uow, event.id)
        uow.commit()
    return detail


def _move(event: Event, target: str) -> str:
    current = event.status
    allowed = TRANSITIONS.get(current, ())
    if target not in allowed:
        hint = (
            f"from {current} it can only become {' or '.join(allowed)}"
            if allowed
            else "its status is final"
        )
        raise Conflict(
            f"A {current} event cannot be {target}: {hint}.",
            field="status",
            code="illegal_transition",
        )
    event.status = target
    return current


def publish_event(actor: Actor, event_id: uuid.UUID) -> EventDetail:
    """Publish a draft, or put a postponed event back on sale.

    Raises PermissionDenied, NotFound, Conflict for an illegal transition (e.g. a
    cancelled event) and ValidationError when the event has already ended.
    """
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        event = _lock_event(uow, event_id)
        now = _now(uow.session)
        old = _move(event, "published")
        if event.end_date <= now:
            raise ValidationError(
                "An event that has already ended cannot be published; change its dates first.",
                field="end_date",
            )
        if event.published_at is None:
            event.published_at = now
        uow.session.flush()
        _audit(uow, "event.published", event.id, old={"status": old}, new={"status": "published"})
        detail = _detail(uow, event.id)
        uow.commit()
    return detail


def postpone_event(
    actor: Actor,
    event_id: uuid.UUID,
    *,
    reason: str = "",
    new_start: datetime | None = None,
    new_end: datetime | None = None,
) -> EventDetail:
    """Postpone a published event, to new dates or to a date still to be announced.

    With `new_start` the event and its agenda move by the same amount; `new_end` defaults
    to keeping the event's length. The first original start is kept in meta_data.
    Raises PermissionDenied, NotFound, Conflict (not published) and ValidationError
    (new start not in the future on start_date, end not after start on end_date).
    """
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        event = _lock_event(uow, event_id)
        old_status = _move(event, "postponed")
        meta = dict(event.meta_data or {})
        meta.setdefault("original_start", event.start_date.isoformat())
        if blank_to_none(reason):
            meta["postponement_reason"] = blank_to_none(reason)
        if new_start is not None:
            start = _aware(new_start)
            end = (
                _aware(new_end)
                if new_end is not None
                else start + (event.end_date - event.start_date)
            )
            if start <= _now(uow.session):
                raise ValidationError("The new start must be in the future.", field="start_date")
            if end <= start:
                raise ValidationError("End must be after start.", field="end_date")
            shift = start - event.start_date
            for item in uow.session.scalars(
                select(EventSchedule).where(EventSchedule.event_id == event.id)
            ):
                item.start_time += shift
                item.end_time += shift
            event.start_date, event.end_date = start, end
        elif new_end is not None:
            raise ValidationError("Give a new start together with the new end.", field="start_date")
        event.meta_data = meta
        uow.session.flush()
        _audit(
            uow,
            "event.postponed",
            event.id,
            old={"status": old_status},
            new=_jsonable(
                {
                    "status": "postponed",
                    "start_date": event.start_date,
                    "reason": blank_to_none(reason),
                }
            ),
        )
        detail = _detail(uow, event.id)
        uow.commit()
    return detail


def cancel_event(actor: Actor, event_id: uuid.UUID, reason: str) -> EventDetail:
    """Cancel an event (final: ticket sales stop; refunds are made on the orders page).

    Raises ValidationError without a reason (field reason), PermissionDenied, NotFound and
    Conflict when the event is already cancelled or completed.
    """
    cleaned = blank_to_none(reason)
    if cleaned is None:
        raise ValidationError("Give a reason for cancelling.", field="reason")
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        event = _lock_event(uow, event_id)
        old = _move(event, "cancelled")
        now = _now(uow.session)
        event.meta_data = {
            **(event.meta_data or {}),
            "cancelled_at": now.isoformat(),
            "cancellation_reason": cleaned,
        }
        uow.session.flush()
        _audit(
            uow,
            "event.cancelled",
            event.id,
            old={"status": old},
            new={"status": "cancelled", "reason": cleaned},
        )
        detail = _detail(uow, event.id)
        uow.commit()
    return detail


def complete_event(actor: Actor, event_id: uuid.UUID) -> EventDetail:
    """Mark a published event that has started as completed (final).

    Raises PermissionDenied, NotFound and Conflict for an illegal transition or an event
    that has not started yet (field status).
    """
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        event = _lock_event(uow, event_id)
        old = _move(event, "completed")
        if event.start_date > _now(uow.session):
            raise Conflict(
                "An event can be completed only once it has started "
                f"(it starts {event.start_date:%Y-%m-%d %H:%M %Z}).",
                field="status",
                code="not_started",
            )
        uow.session.flush()
        _audit(uow, "event.completed", event.id, old={"status": old}, new={"status": "completed"})
        detail = _detail(uow, event.id)
        uow.commit()
    return detail


def duplicate_event(
    actor: Actor,
    event_id: uuid.UUID,
    *,
    new_start: datetime | None = None,
    title: str | None = None,
) -> EventDetail:
    """Copy an event as a new draft organized by the actor: details, categories, agenda
    and ticket types (with all their capacity unsold), moved to `new_start` if given.

    Raises PermissionDenied without events.manage, NotFound when the source is not visible,
    ValidationError for an empty title (field title).
    """
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        source = session.scalars(select(Event).where(Event.id == event_id)).first()
        if source is None:
            raise NotFound("That event does not exist or is not visible to you.", field="event_id")
        organizer = actor.user_id or source.organizer_id
        shift = _aware(new_start) - source.start_date if new_start is not None else timedelta()
        new_title = (title if title is not None else f"{source.title} (copy)").strip()
        if not new_title:
            raise ValidationError("Title is required.", field="title")
        if len(new_title) > MAX_TITLE:
            raise ValidationError(f"Title must be at most {MAX_TITLE} characters.", field="title")
        meta = {
            k: v
            for k, v in (source.meta_data or {}).items()
            if k
            not in ("cancelled_at", "cancellation_reason", "original_start", "postponement_reason")
        }
        copy = Event(
            organizer_id=organizer,
            title=new_title,
            description=source.description,
            short_description=source.short_description,
            start_date=source.start_date + shift,
            end_date=source.end_date + shift,
            venue_id=source.venue_id,
            status="draft",
            capacity=source.capacity,
            type=source.type,
            category=source.category,
            tags=source.tags,
            featured=False,
            featured_image_url=source.featured_image_url,
            gallery_images=source.gallery_images,
            seo_title=source.seo_title,
            seo_description=source.seo_description,
            seo_keywords=source.seo_keywords,
            meta_data={**meta, "duplicated_from": str(source.id)},
            tax_rate=source.tax_rate,
        )
        session.add(copy)
        session.flush()
        for item in session.scalars(
            select(EventSchedule).where(EventSchedule.event_id == source.id)
        ):
            session.add(
                EventSchedule(
                    event_id=copy.id,
                    title=item.title,
                    description=item.description,
                    speaker_id=item.speaker_id,
                    start_time=item.start_time + shift,
                    end_time=item.end_time + shift,
                    location=item.location,
                    type=item.type,
                    order_index=item.order_index,
                    is_break=item.is_break,
                    meta_data=item.meta_data,
                )
            )
        for mapping in session.scalars(
            select(EventCategoryMapping).where(EventCategoryMapping.event_id == source.id)
        ):
            session.add(EventCategoryMapping(event_id=copy.id, category_id=mapping.category_id))
        for tt in session.scalars(select(TicketType).where(TicketType.event_id == source.id)):
            session.add(
                TicketType(
                    event_id=copy.id,
                    name=tt.name,
                    description=tt.description,
                    base_price=tt.base_price,
                    features=tt.features,
                    max_quantity_per_order=tt.max_quantity_per_order,
                    total_capacity=tt.total_capacity,
                    remaining_capacity=tt.total_capacity,
                    sale_start_date=tt.sale_start_date + shift,
                    sale_end_date=tt.sale_end_date + shift,
                    is_active=tt.is_active,
                    is_featured=tt.is_featured,
                    tier=tt.tier,
                    seating_section_id=tt.seating_section_id,
                    tax_rate=tt.tax_rate,
                    metadata_=tt.metadata_,
                )
            )
        session.flush()
        _audit(uow, "event.duplicated", copy.id, new={"from": str(source.id)})
        detail = _detail(uow, copy.id)
        uow.commit()
    return detail


# -- agenda -----------------------------------------------------------------------------


def _clean_item(event: Event, data: ScheduleInput) -> dict[str, Any]:
    title = (data.title or "").strip()
    if not title:
        raise ValidationError("Title is required.", field="title")
    start, end = _aware(data.start_time), _aware(data.end_time)
    if end <= start:
        raise ValidationError("End must be after start.", field="end_time")
    if start < event.start_date:
        raise ValidationError(
            f"An agenda item cannot start before the event ({event.start_date:%Y-%m-%d %H:%M}).",
            field="start_time",
        )
    if end > event.end_date:
        raise ValidationError(
            f"An agenda item cannot end after the event ({event.end_date:%Y-%m-%d %H:%M}).",
            field="end_time",
        )
    return {
        "title": title,
        "start_time": start,
        "end_time": end,
        "is_break": bool(data.is_break),
        "type": blank_to_none(data.type) or ("break" if data.is_break else None),
        "location": blank_to_none(data.location),
        "description": blank_to_none(data.description),
        "speaker_id": data.speaker_id,
    }


def _locked_item(uow: UnitOfWork, item_id: uuid.UUID) -> tuple[Event, EventSchedule]:
    event_id = uow.session.scalar(select(EventSchedule.event_id).where(EventSchedule.id == item_id))
    if event_id is None:
        raise NotFound("That agenda item does not exist.", field="item_id")
    event = _lock_event(uow, event_id)
    item = uow.session.get(EventSchedule, item_id)
    if item is None:  # removed while we waited for the event's lock
        raise NotFound("That agenda item does not exist.", field="item_id")
    return event, item


def _renumber(session: Session, event_id: uuid.UUID, order: Sequence[uuid.UUID]) -> None:
    items = {
        i.id: i
        for i in session.scalars(select(EventSchedule).where(EventSchedule.event_id == event_id))
    }
    for index, item_id in enumerate(order):
        if items[item_id].order_index != index:
            items[item_id].order_index = index


def add_schedule_item(actor: Actor, event_id: uuid.UUID, data: ScheduleInput) -> ScheduleItem:
    """Append an agenda item (a session or a break) to the event's agenda.

    Raises PermissionDenied, NotFound, Conflict for a cancelled or completed event and
    ValidationError for bad input (times outside the event, end not after start).
    """
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        event = _lock_event(uow, event_id)
        _require_editable(event)
        values = _clean_item(event, data)
        last = uow.session.scalar(
            select(func.max(EventSchedule.order_index)).where(EventSchedule.event_id == event.id)
        )
        item = EventSchedule(
            event_id=event.id, order_index=0 if last is None else last + 1, **values
        )
        uow.session.add(item)
        uow.session.flush()
        result = _item(item)
        uow.commit()
    return result


def update_schedule_item(actor: Actor, item_id: uuid.UUID, data: ScheduleInput) -> ScheduleItem:
    """Change an agenda item; its place in the agenda stays.

    Raises PermissionDenied, NotFound, Conflict for a cancelled or completed event and
    ValidationError for bad input.
    """
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        event, item = _locked_item(uow, item_id)
        _require_editable(event)
        for key, value in _clean_item(event, data).items():
            setattr(item, key, value)
        uow.session.flush()
        result = _item(item)
        uow.commit()
    return result


def remove_schedule_item(actor: Actor, item_id: uuid.UUID) -> tuple[ScheduleItem, ...]:
    """Remove an agenda item and close the gap in the order; returns the agenda left.

    Raises PermissionDenied, NotFound and Conflict for a cancelled or completed event.
    """
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        event, item = _locked_item(uow, item_id)
        _require_editable(event)
        uow.session.delete(item)
        uow.session.flush()
        remaining = _schedule(uow.session, event.id)
        _renumber(uow.session, event.id, [i.item_id for i in remaining])
        uow.session.flush()
        result = _schedule(uow.session, event.id)
        uow.commit()
    return result


def reorder_schedule(
    actor: Actor, event_id: uuid.UUID, item_ids: Sequence[uuid.UUID]
) -> tuple[ScheduleItem, ...]:
    """Put the event's agenda in the order of `item_ids` (each item exactly once).

    Raises PermissionDenied, NotFound, Conflict for a cancelled or completed event and
    ValidationError (field item_ids) when the list is not exactly the event's items.
    """
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        event = _lock_event(uow, event_id)
        _require_editable(event)
        current = {i.item_id for i in _schedule(uow.session, event.id)}
        if len(item_ids) != len(set(item_ids)) or set(item_ids) != current:
            raise ValidationError(
                "The new order must list each agenda item of this event exactly once.",
                field="item_ids",
            )
        _renumber(uow.session, event.id, list(item_ids))
        uow.session.flush()
        result = _schedule(uow.session, event.id)
        uow.commit()
    return result


# -- categories -------------------------------------------------------------------------


def list_categories(actor: Actor) -> tuple[Category, ...]:
    """Every event category, in its display order. Raises PermissionDenied without
    events.manage."""
    parent = EventCategory.__table__.alias("parent")
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        rows = uow.session.execute(
            select(EventCategory.id, EventCategory.name, parent.c.name, EventCategory.description)
            .outerjoin(parent, parent.c.id == EventCategory.parent_id)
            .order_by(EventCategory.order_index, EventCategory.name)
            .limit(1000)
        ).all()
    return tuple(Category(*row) for row in rows)


def create_category(
    actor: Actor, name: str, *, parent_id: uuid.UUID | None = None, description: str | None = None
) -> Category:
    """Add an event category (optionally under a parent), listed after the others.

    Raises PermissionDenied, ValidationError (empty name on name, unknown parent on
    parent_id) and Conflict when the name is taken.
    """
    cleaned = (name or "").strip()
    if not cleaned:
        raise ValidationError("Name is required.", field="name")
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        parent_name = None
        if parent_id is not None:
            parent = uow.session.get(EventCategory, parent_id)
            if parent is None:
                raise ValidationError("That parent category does not exist.", field="parent_id")
            parent_name = parent.name
        last = uow.session.scalar(select(func.max(EventCategory.order_index)))
        category = EventCategory(
            name=cleaned,
            parent_id=parent_id,
            description=blank_to_none(description),
            order_index=0 if last is None else last + 1,
        )
        uow.session.add(category)
        uow.session.flush()
        result = Category(category.id, category.name, parent_name, category.description)
        uow.commit()
    return result


def set_event_categories(
    actor: Actor, event_id: uuid.UUID, category_ids: Sequence[uuid.UUID]
) -> tuple[Category, ...]:
    """File the event under exactly these categories; the first becomes its main category
    (events.category). Raises PermissionDenied, NotFound, Conflict for a cancelled or
    completed event and ValidationError (field category_ids) for unknown categories."""
    wanted = list(dict.fromkeys(category_ids))
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        event = _lock_event(uow, event_id)
        _require_editable(event)
        session = uow.session
        names = dict(
            session.execute(
                select(EventCategory.id, EventCategory.name).where(EventCategory.id.in_(wanted))
            ).all()
        )
        if len(names) != len(wanted):
            raise ValidationError("A chosen category does not exist.", field="category_ids")
        have = set(
            session.scalars(
                select(EventCategoryMapping.category_id).where(
                    EventCategoryMapping.event_id == event.id
                )
            )
        )
        session.execute(
            delete(EventCategoryMapping).where(
                EventCategoryMapping.event_id == event.id,
                EventCategoryMapping.category_id.not_in(wanted),
            )
        )
        for category_id in wanted:
            if category_id not in have:
                session.add(EventCategoryMapping(event_id=event.id, category_id=category_id))
        event.category = names[wanted[0]] if wanted else None
        session.flush()
        result = _event_categories(session, event.id)
        uow.commit()
    return result
