"""Events, their schedules and categories (seeds 001, section 2 "Event Management System")."""

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
    ZERO,
    Base,
    CreatedAt,
    Timestamps,
    UUIDPrimaryKey,
    check,
    non_negative,
    one_of,
    slug_column,
)
from core.models.limits import (
    FreeText,
    Json,
    JsonList,
    Name,
    Short,
    Slug,
    Url,
    Words,
    limited,
)

EVENT_STATUSES = ("draft", "published", "cancelled", "completed", "postponed")
EVENT_TYPES = ("fashion_show", "exhibition", "workshop", "conference", "party", "networking")


# Not partitioned: the seeds' partition bounds use now(), other tables hold FKs to events,
# and the table stays small.
class Event(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "events"
    __table_args__ = (
        check(
            "end_date > start_date",
            "check_dates",
            field="end_date",
            message="end date must be after the start date",
        ),
        check(
            "capacity IS NULL OR current_attendance <= capacity",
            "check_attendance",
            field="current_attendance",
            message="current attendance cannot exceed the capacity",
        ),
        non_negative("capacity"),
        non_negative("current_attendance"),
        check(
            "tax_rate >= 0 AND tax_rate < 1",
            "tax_rate_range",
            field="tax_rate",
            message="tax rate must be at least 0 and below 1 (a fraction, e.g. 0.0825)",
        ),
        one_of("status", EVENT_STATUSES),
        one_of("type", EVENT_TYPES),
        Index("idx_events_organizer_id", "organizer_id"),
        Index("idx_events_venue_id", "venue_id"),
        Index("idx_events_status", "status"),
        Index("idx_events_type", "type"),
        Index("idx_events_featured", "featured", postgresql_where=text("featured")),
        Index("idx_events_date_range", "start_date", "end_date"),
        Index("idx_events_tags", "tags", postgresql_using="gin"),
        Index(
            "idx_events_fts",
            text(
                "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(description, '')"
                " || ' ' || coalesce(short_description, ''))"
            ),
            postgresql_using="gin",
        ),
        {"info": {"slug_source": "title"}},
    )

    # The owner column; the seeds' RLS sample calls it created_by.
    organizer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    title: Mapped[Name]
    slug: Mapped[Slug] = slug_column()
    description: Mapped[FreeText | None]
    short_description: Mapped[str | None] = limited(500)
    start_date: Mapped[datetime]
    end_date: Mapped[datetime]
    venue_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("venues.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(server_default=text("'draft'"))
    capacity: Mapped[int | None]
    current_attendance: Mapped[int] = mapped_column(server_default=ZERO)
    type: Mapped[str]
    category: Mapped[Short | None]
    tags: Mapped[Words | None]
    featured: Mapped[bool] = mapped_column(server_default=FALSE)
    featured_image_url: Mapped[Url | None]
    gallery_images: Mapped[JsonList] = mapped_column(server_default=EMPTY_ARRAY)
    ticket_url: Mapped[Url | None]
    external_url: Mapped[Url | None]
    seo_title: Mapped[Name | None]
    seo_description: Mapped[str | None] = limited(1000)
    seo_keywords: Mapped[Words | None]
    published_at: Mapped[datetime | None]
    meta_data: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
    # Tax is per event (a fraction); ticket_types.tax_rate overrides it when set.
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), server_default=ZERO)

    schedules: Mapped[list[EventSchedule]] = relationship(back_populates="event")
    category_mappings: Mapped[list[EventCategoryMapping]] = relationship(back_populates="event")


class EventSchedule(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "event_schedules"
    __table_args__ = (
        check(
            "end_time > start_time",
            "check_schedule_times",
            field="end_time",
            message="end time must be after the start time",
        ),
        Index("idx_event_schedules_event_id", "event_id"),
        Index("idx_event_schedules_speaker_id", "speaker_id"),
        Index("idx_event_schedules_start_time", "start_time"),
        Index("idx_event_schedules_order_index", "order_index"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    title: Mapped[Name]
    description: Mapped[FreeText | None]
    speaker_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    start_time: Mapped[datetime]
    end_time: Mapped[datetime]
    location: Mapped[Name | None]
    type: Mapped[Short | None]
    order_index: Mapped[int] = mapped_column(server_default=ZERO)
    is_break: Mapped[bool] = mapped_column(server_default=FALSE)
    meta_data: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)

    event: Mapped[Event] = relationship(back_populates="schedules")


class EventCategory(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "event_categories"
    __table_args__ = (
        check(
            "parent_id IS NULL OR parent_id <> id",
            "parent_not_self",
            field="parent_id",
            message="a category cannot be its own parent",
        ),
        Index("idx_event_categories_parent_id", "parent_id"),
        Index("idx_event_categories_order_index", "order_index"),
        {"info": {"slug_source": "name"}},
    )

    name: Mapped[Name] = mapped_column(unique=True)
    slug: Mapped[Slug] = slug_column()
    description: Mapped[FreeText | None]
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("event_categories.id", ondelete="SET NULL")
    )
    icon: Mapped[Short | None]
    color: Mapped[str | None] = limited(32)
    order_index: Mapped[int] = mapped_column(server_default=ZERO)


class EventCategoryMapping(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "event_category_mappings"
    __table_args__ = (
        UniqueConstraint("event_id", "category_id"),
        Index("idx_event_category_mappings_category_id", "category_id"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    category_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("event_categories.id", ondelete="CASCADE")
    )

    event: Mapped[Event] = relationship(back_populates="category_mappings")
    category: Mapped[EventCategory] = relationship()


class EventStaff(UUIDPrimaryKey, CreatedAt, Base):
    """A staff person working an event: they sell at its box office and see its orders
    (migration 0013, row-level security through app_my_event_ids())."""

    __tablename__ = "event_staff"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        Index("idx_event_staff_user_id", "user_id"),
        Index("idx_event_staff_assigned_by", "assigned_by"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The organizer or admin who assigned them; the assignment outlives their account.
    assigned_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
