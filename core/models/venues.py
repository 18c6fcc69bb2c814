"""Venues, their seating sections and physical seats, and per-event seat state
(seeds 001, section 3 "Venue Management"; event_seats is new)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import (
    EMPTY_ARRAY,
    EMPTY_OBJECT,
    FALSE,
    TRUE,
    Base,
    Timestamps,
    UUIDPrimaryKey,
    check,
    non_negative,
    one_of,
    slug_column,
)
from core.models.limits import (
    Email,
    FreeText,
    Json,
    JsonList,
    Name,
    Phone,
    Short,
    Slug,
    Url,
    Words,
    limited,
)

VENUE_STATUSES = ("active", "inactive", "under_maintenance")
SECTION_TYPES = ("general", "vip", "premium", "backstage", "press")
# Physical state of a seat; whether it is held or sold is per event (EVENT_SEAT_STATUSES).
SEAT_STATUSES = ("available", "blocked", "maintenance")
EVENT_SEAT_STATUSES = ("available", "held", "sold", "blocked")


class Venue(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "venues"
    __table_args__ = (
        one_of("status", VENUE_STATUSES),
        non_negative("capacity"),
        check(
            "latitude BETWEEN -90 AND 90",
            "latitude_range",
            field="latitude",
            message="latitude must be between -90 and 90",
        ),
        check(
            "longitude BETWEEN -180 AND 180",
            "longitude_range",
            field="longitude",
            message="longitude must be between -180 and 180",
        ),
        Index("idx_venues_city_country", "city", "country"),
        Index("idx_venues_status", "status"),
        Index("idx_venues_capacity", "capacity"),
        # btree instead of the seeds' PostGIS GIST: PostGIS is not available.
        Index(
            "idx_venues_location",
            "latitude",
            "longitude",
            postgresql_where=text("latitude IS NOT NULL AND longitude IS NOT NULL"),
        ),
        Index(
            "idx_venues_fts",
            text(
                "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(description, '')"
                " || ' ' || coalesce(address, '') || ' ' || coalesce(city, '')"
                " || ' ' || coalesce(country, ''))"
            ),
            postgresql_using="gin",
        ),
        {"info": {"slug_source": "name"}},
    )

    name: Mapped[Name]
    slug: Mapped[Slug] = slug_column()
    description: Mapped[FreeText | None]
    address: Mapped[str] = limited(500)
    city: Mapped[Short]
    state: Mapped[Short | None]
    country: Mapped[Short]
    postal_code: Mapped[str | None] = limited(20)
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(10, 8))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(11, 8))
    capacity: Mapped[int | None]
    floor_plan_url: Mapped[Url | None]
    images: Mapped[JsonList] = mapped_column(server_default=EMPTY_ARRAY)
    facilities: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
    accessibility_features: Mapped[Words | None]
    contact_name: Mapped[Name | None]
    contact_email: Mapped[Email | None]
    contact_phone: Mapped[Phone | None]
    website: Mapped[Url | None]
    status: Mapped[str] = mapped_column(server_default=text("'active'"))
    meta_data: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)

    sections: Mapped[list[VenueSection]] = relationship(back_populates="venue")


class VenueSection(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "venue_sections"
    __table_args__ = (
        UniqueConstraint("venue_id", "name"),
        one_of("section_type", SECTION_TYPES),
        non_negative("capacity"),
        non_negative("price_multiplier"),
        Index("idx_venue_sections_section_type", "section_type"),
    )

    venue_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    name: Mapped[Name]
    description: Mapped[FreeText | None]
    capacity: Mapped[int]
    section_type: Mapped[str]
    price_multiplier: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default=text("1.0"))
    coordinates: Mapped[Json | None]
    accessibility: Mapped[bool] = mapped_column(server_default=TRUE)

    venue: Mapped[Venue] = relationship(back_populates="sections")
    seats: Mapped[list[VenueSeat]] = relationship(back_populates="section")


class VenueSeat(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "venue_seats"
    __table_args__ = (
        # NULLS NOT DISTINCT: seats without a row name must still be unique by number.
        UniqueConstraint(
            "section_id", "row_name", "seat_number", postgresql_nulls_not_distinct=True
        ),
        one_of("status", SEAT_STATUSES),
        Index("idx_venue_seats_status", "status"),
        Index("idx_venue_seats_row_seat", "row_name", "seat_number"),
    )

    section_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("venue_sections.id", ondelete="CASCADE")
    )
    row_name: Mapped[str | None] = limited(16)
    # NOT NULL: a seat a buyer cannot name cannot be sold.
    seat_number: Mapped[str] = limited(16)
    status: Mapped[str] = mapped_column(server_default=text("'available'"))
    coordinates: Mapped[Json | None]
    # Plain coordinates for the seat map; coordinates (jsonb) stays for free-form shapes.
    x: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    y: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    is_accessible: Mapped[bool] = mapped_column(server_default=FALSE)
    accessibility_features: Mapped[Words | None]
    notes: Mapped[str | None] = limited(200)

    section: Mapped[VenueSection] = relationship(back_populates="seats")


class EventSeat(Timestamps, Base):
    """A venue seat's state for one event; venue_seats only describes the physical seat."""

    __tablename__ = "event_seats"
    __table_args__ = (
        one_of("status", EVENT_SEAT_STATUSES),
        non_negative("price"),
        check(
            "status <> 'sold' OR order_id IS NOT NULL",
            "sold_has_order",
            field="order_id",
            message="a sold seat must belong to an order",
        ),
        check(
            "status <> 'held' OR held_until IS NOT NULL",
            "held_has_expiry",
            field="held_until",
            message="a held seat must have a hold expiry time",
        ),
        Index("idx_event_seats_event_id_status", "event_id", "status"),
        Index("idx_event_seats_seat_id", "seat_id"),
        Index("idx_event_seats_order_id", "order_id"),
        Index("idx_event_seats_hold_id", "hold_id"),
        Index("idx_event_seats_ticket_type_id", "ticket_type_id"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    seat_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("venue_seats.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(server_default=text("'available'"))
    hold_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ticket_inventory_locks.id", ondelete="SET NULL")
    )
    held_until: Mapped[datetime | None]
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    # NO ACTION (checked at statement end) so deleting an event cascades to both tables.
    ticket_type_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ticket_types.id"))
    price: Mapped[Decimal | None]
    blocked_reason: Mapped[str | None] = limited(200)

    seat: Mapped[VenueSeat] = relationship()
