"""Read service for the overview page: live counts across the business."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from core.analytics.revenue import Revenue, ticket_revenue
from core.auth.permissions import OVERVIEW_VIEW
from core.db import Actor, unit_of_work
from core.models import DataSubjectRequest, Event, TicketType, Venue

OPEN_REQUEST_STATUSES = ("pending", "processing")


@dataclass(frozen=True)
class OverviewCounts:
    events: int
    published_events: int
    upcoming_events: int
    tickets_sold: int
    revenue: Revenue
    completed_orders: int
    open_compliance_requests: int
    overdue_compliance_requests: int
    as_of: datetime


def get_overview_counts(actor: Actor) -> OverviewCounts:
    """Counts of events, tickets sold, revenue and open compliance requests, as of now.

    Tickets sold are those of live orders (completed or pending), refunds excluded;
    revenue is gross, refunds and net as core.analytics.revenue defines them. Raises
    PermissionDenied without overview.view, and other core.errors.DomainError subclasses
    for database refusals.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(OVERVIEW_VIEW)
        now = uow.session.scalar(select(func.now()))
        events = uow.session.execute(
            select(
                func.count(),
                func.count().filter(Event.status == "published"),
                func.count().filter(Event.status == "published", Event.start_date > now),
            )
        ).one()
        # Across every order, as aggregates only: row-level security shows most people
        # few orders or none (migration 0013, overview_order_totals).
        completed, revenue = ticket_revenue(uow.session)
        # The checkout keeps remaining_capacity in step with every sale and refund, so the
        # ticket types' counters give tickets sold without summing 1.5M order items.
        tickets = uow.session.scalar(
            select(
                func.coalesce(
                    func.sum(TicketType.total_capacity - TicketType.remaining_capacity), 0
                )
            )
        )
        requests = uow.session.execute(
            select(
                func.count(),
                func.count().filter(DataSubjectRequest.due_at < now),
            ).where(DataSubjectRequest.status.in_(OPEN_REQUEST_STATUSES))
        ).one()
    return OverviewCounts(
        events=events[0],
        published_events=events[1],
        upcoming_events=events[2],
        tickets_sold=int(tickets or 0),
        revenue=revenue,
        completed_orders=int(completed or 0),
        open_compliance_requests=requests[0],
        overdue_compliance_requests=requests[1],
        as_of=now,
    )


@dataclass(frozen=True)
class UpcomingEvent:
    title: str
    start_date: datetime
    venue: str | None
    status: str
    capacity: int
    sold: int


def list_upcoming_events(actor: Actor, limit: int = 10) -> list[UpcomingEvent]:
    """The next `limit` events that have not ended, with tickets sold against capacity.

    Capacity is the sum of the event's ticket types; sold is capacity minus what remains.
    Raises PermissionDenied without overview.view, and other core.errors.DomainError
    subclasses for database refusals.
    """
    sold = (
        select(
            TicketType.event_id,
            func.sum(TicketType.total_capacity).label("capacity"),
            func.sum(TicketType.total_capacity - TicketType.remaining_capacity).label("sold"),
        )
        .group_by(TicketType.event_id)
        .subquery()
    )
    query = (
        select(
            Event.title,
            Event.start_date,
            Venue.name,
            Event.status,
            func.coalesce(sold.c.capacity, 0),
            func.coalesce(sold.c.sold, 0),
        )
        .outerjoin(Venue, Venue.id == Event.venue_id)
        .outerjoin(sold, sold.c.event_id == Event.id)
        .where(Event.end_date > func.now(), Event.status.in_(("published", "postponed")))
        .order_by(Event.start_date, Event.id)
        .limit(limit)
    )
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(OVERVIEW_VIEW)
        rows = uow.session.execute(query).all()
    return [
        UpcomingEvent(title, start, venue, status, int(capacity), int(sold_count))
        for title, start, venue, status, capacity, sold_count in rows
    ]
