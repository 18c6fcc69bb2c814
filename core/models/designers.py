"""Designers, collections, fashion items, runway shows, models, collaborations and designer
analytics (seeds 001, phase 2B: designer and collection management)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint, text
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
    Email,
    FreeText,
    Json,
    JsonList,
    Name,
    Phone,
    Short,
    Slug,
    Url,
    limited,
)

DESIGNER_STATUSES = ("active", "inactive", "pending", "rejected")
COLLECTION_SEASONS = (
    "spring",
    "summer",
    "fall",
    "winter",
    "resort",
    "pre-fall",
    "bridal",
    "couture",
    "other",
)
COLLECTION_STATUSES = ("draft", "published", "archived")
FASHION_ITEM_TYPES = (
    "dress",
    "top",
    "bottom",
    "outerwear",
    "footwear",
    "accessory",
    "swimwear",
    "activewear",
    "other",
)
RUNWAY_SHOW_STATUSES = ("scheduled", "in_progress", "completed", "cancelled")
MODEL_STATUSES = ("active", "inactive")
COLLABORATION_STATUSES = ("planned", "active", "completed", "cancelled")


def _positive(column: str) -> CheckConstraint:
    """column > 0; NULL passes, so it applies only when the value is set."""
    return check(
        f"{column} > 0",
        f"{column}_positive",
        field=column,
        message=f"{column.replace('_', ' ')} must be greater than zero",
    )


class Designer(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "designers"
    __table_args__ = (
        one_of("status", DESIGNER_STATUSES),
        non_negative("years_active"),
        Index("idx_designers_user_id", "user_id"),
        Index("idx_designers_status", "status"),
        Index("idx_designers_featured", "is_featured", postgresql_where=text("is_featured")),
        Index("idx_designers_verified", "is_verified", postgresql_where=text("is_verified")),
        Index("idx_designers_specialty", "specialty"),
        Index(
            "idx_designers_fts",
            text(
                "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(brand_name, '')"
                " || ' ' || coalesce(specialty, '') || ' ' || coalesce(bio, ''))"
            ),
            postgresql_using="gin",
        ),
        {"info": {"slug_source": "name"}},
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[Name]
    slug: Mapped[Slug] = slug_column()
    brand_name: Mapped[Name | None]
    specialty: Mapped[Name | None]
    bio: Mapped[FreeText | None]
    website_url: Mapped[Url | None]
    social_media: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
    contact_email: Mapped[Email | None]
    contact_phone: Mapped[Phone | None]
    profile_image_url: Mapped[Url | None]
    cover_image_url: Mapped[Url | None]
    is_featured: Mapped[bool] = mapped_column(server_default=FALSE)
    is_verified: Mapped[bool] = mapped_column(server_default=FALSE)
    status: Mapped[str] = mapped_column(server_default=text("'pending'"))
    years_active: Mapped[int | None]
    awards: Mapped[JsonList] = mapped_column(server_default=EMPTY_ARRAY)
    press_mentions: Mapped[JsonList] = mapped_column(server_default=EMPTY_ARRAY)
    location: Mapped[Json | None]
    # `metadata` is reserved on declarative classes; the column keeps its seeds name.
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)

    collections: Mapped[list[Collection]] = relationship(back_populates="designer")


class Collection(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "collections"
    __table_args__ = (
        one_of("season", COLLECTION_SEASONS),
        one_of("status", COLLECTION_STATUSES),
        check(
            "year BETWEEN 1900 AND 2100",
            "year_range",
            field="year",
            message="year must be between 1900 and 2100",
        ),
        Index("idx_collections_designer_id", "designer_id"),
        Index("idx_collections_status", "status"),
        Index("idx_collections_featured", "is_featured", postgresql_where=text("is_featured")),
        Index("idx_collections_season_year", "season", "year"),
        Index(
            "idx_collections_event_id",
            "event_id",
            postgresql_where=text("event_id IS NOT NULL"),
        ),
        Index(
            "idx_collections_fts",
            text(
                "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(description, '')"
                " || ' ' || coalesce(inspiration, '') || ' ' || coalesce(show_notes, ''))"
            ),
            postgresql_using="gin",
        ),
        # The seeds built this slug from designer name, season and year; the generic trigger
        # uses the name alone and a numeric suffix keeps it unique.
        {"info": {"slug_source": "name"}},
    )

    designer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("designers.id", ondelete="CASCADE"))
    name: Mapped[Name]
    slug: Mapped[Slug] = slug_column()
    description: Mapped[FreeText | None]
    season: Mapped[str | None]
    year: Mapped[int | None]
    release_date: Mapped[datetime | None]
    is_featured: Mapped[bool] = mapped_column(server_default=FALSE)
    status: Mapped[str] = mapped_column(server_default=text("'draft'"))
    cover_image_url: Mapped[Url | None]
    inspiration: Mapped[FreeText | None]
    color_palette: Mapped[JsonList] = mapped_column(server_default=EMPTY_ARRAY)
    materials: Mapped[JsonList] = mapped_column(server_default=EMPTY_ARRAY)
    show_notes: Mapped[FreeText | None]
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)

    designer: Mapped[Designer] = relationship(back_populates="collections")
    fashion_items: Mapped[list[FashionItem]] = relationship(back_populates="collection")
    runway_shows: Mapped[list[RunwayShow]] = relationship(back_populates="collection")


class FashionItem(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "fashion_items"
    __table_args__ = (
        one_of("item_type", FASHION_ITEM_TYPES),
        Index("idx_fashion_items_item_type", "item_type"),
        Index("idx_fashion_items_featured", "is_featured", postgresql_where=text("is_featured")),
        Index("idx_fashion_items_display_order", "collection_id", "display_order"),
    )

    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE")
    )
    name: Mapped[Name]
    description: Mapped[FreeText | None]
    item_type: Mapped[str]
    materials: Mapped[JsonList] = mapped_column(server_default=EMPTY_ARRAY)
    colors: Mapped[JsonList] = mapped_column(server_default=EMPTY_ARRAY)
    sizes: Mapped[JsonList] = mapped_column(server_default=EMPTY_ARRAY)
    price_range: Mapped[Json] = mapped_column(
        server_default=text("""'{"min": null, "max": null}'::jsonb""")
    )
    is_featured: Mapped[bool] = mapped_column(server_default=FALSE)
    display_order: Mapped[int | None]
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)

    collection: Mapped[Collection] = relationship(back_populates="fashion_items")
    images: Mapped[list[FashionItemImage]] = relationship(back_populates="fashion_item")


class FashionItemImage(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "fashion_item_images"
    __table_args__ = (
        # Refuses a second primary image instead of the seeds' trigger silently unsetting the
        # others; the service clears the old primary in the same transaction.
        Index(
            "uq_fashion_item_images_one_primary",
            "fashion_item_id",
            unique=True,
            postgresql_where=text("is_primary"),
        ),
        Index("idx_fashion_item_images_display_order", "fashion_item_id", "display_order"),
    )

    fashion_item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("fashion_items.id", ondelete="CASCADE")
    )
    image_url: Mapped[Url]
    alt_text: Mapped[str | None] = limited(1000)
    display_order: Mapped[int] = mapped_column(server_default=ZERO)
    is_primary: Mapped[bool] = mapped_column(server_default=FALSE)
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)

    fashion_item: Mapped[FashionItem] = relationship(back_populates="images")


class RunwayShow(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "runway_shows"
    __table_args__ = (
        one_of("status", RUNWAY_SHOW_STATUSES),
        _positive("duration_minutes"),
        non_negative("capacity"),
        non_negative("attendance"),
        Index("idx_runway_shows_collection_id", "collection_id"),
        Index("idx_runway_shows_event_id", "event_id"),
        Index("idx_runway_shows_venue_id", "venue_id"),
        Index("idx_runway_shows_show_date", "show_date"),
        Index("idx_runway_shows_status", "status"),
    )

    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="RESTRICT"))
    venue_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("venues.id", ondelete="RESTRICT"))
    show_date: Mapped[datetime]
    duration_minutes: Mapped[int | None]
    status: Mapped[str]
    capacity: Mapped[int | None]
    attendance: Mapped[int | None]
    video_url: Mapped[Url | None]
    livestream_url: Mapped[Url | None]
    notes: Mapped[FreeText | None]
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)

    collection: Mapped[Collection] = relationship(back_populates="runway_shows")
    segments: Mapped[list[RunwaySegment]] = relationship(back_populates="runway_show")


class RunwaySegment(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "runway_segments"
    __table_args__ = (
        # Two segments of one show cannot share a running-order slot.
        UniqueConstraint("runway_show_id", "segment_order"),
        _positive("duration_minutes"),
    )

    runway_show_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("runway_shows.id", ondelete="CASCADE")
    )
    name: Mapped[Name]
    description: Mapped[FreeText | None]
    start_time: Mapped[datetime | None]
    duration_minutes: Mapped[int | None]
    segment_order: Mapped[int]
    theme: Mapped[Name | None]
    music: Mapped[Name | None]
    lighting_notes: Mapped[FreeText | None]
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)

    runway_show: Mapped[RunwayShow] = relationship(back_populates="segments")
    appearances: Mapped[list[RunwayAppearance]] = relationship(back_populates="runway_segment")


class FashionModel(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "models"
    __table_args__ = (
        one_of("status", MODEL_STATUSES),
        Index("idx_models_user_id", "user_id"),
        Index("idx_models_status", "status"),
        Index("idx_models_featured", "is_featured", postgresql_where=text("is_featured")),
        Index("idx_models_agency", "agency"),
        Index(
            "idx_models_fts",
            text(
                "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(agency, '')"
                " || ' ' || coalesce(bio, ''))"
            ),
            postgresql_using="gin",
        ),
        {"info": {"slug_source": "name"}},
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[Name]
    slug: Mapped[Slug] = slug_column()
    agency: Mapped[Name | None]
    height: Mapped[str | None] = limited(32)
    measurements: Mapped[Json | None]
    bio: Mapped[FreeText | None]
    profile_image_url: Mapped[Url | None]
    portfolio_url: Mapped[Url | None]
    social_media: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
    is_featured: Mapped[bool] = mapped_column(server_default=FALSE)
    status: Mapped[str] = mapped_column(server_default=text("'active'"))
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)

    appearances: Mapped[list[RunwayAppearance]] = relationship(back_populates="model")


class RunwayAppearance(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "runway_appearances"
    __table_args__ = (
        UniqueConstraint("runway_segment_id", "appearance_order"),
        check(
            "appearance_order > 0",
            "appearance_order_positive",
            field="appearance_order",
            message="appearance order must be 1 or more",
        ),
        Index("idx_runway_appearances_model_id", "model_id"),
        Index("idx_runway_appearances_fashion_item_id", "fashion_item_id"),
    )

    runway_segment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("runway_segments.id", ondelete="CASCADE")
    )
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("models.id", ondelete="RESTRICT"))
    fashion_item_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("fashion_items.id", ondelete="SET NULL")
    )
    appearance_order: Mapped[int]
    notes: Mapped[FreeText | None]

    runway_segment: Mapped[RunwaySegment] = relationship(back_populates="appearances")
    model: Mapped[FashionModel] = relationship(back_populates="appearances")


class DesignerCollaboration(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "designer_collaborations"
    __table_args__ = (
        one_of("status", COLLABORATION_STATUSES),
        check(
            "end_date >= start_date",
            "end_date_after_start_date",
            field="end_date",
            message="end date cannot be before the start date",
        ),
        Index("idx_designer_collaborations_status", "status"),
        Index("idx_designer_collaborations_dates", "start_date", "end_date"),
    )

    name: Mapped[Name]
    description: Mapped[FreeText | None]
    start_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]
    status: Mapped[str]
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)

    participants: Mapped[list[DesignerCollaborationParticipant]] = relationship(
        back_populates="collaboration"
    )


class DesignerCollaborationParticipant(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "designer_collaboration_participants"
    __table_args__ = (
        UniqueConstraint("collaboration_id", "designer_id"),
        Index("idx_designer_collaboration_participants_designer_id", "designer_id"),
    )

    collaboration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("designer_collaborations.id", ondelete="CASCADE")
    )
    designer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("designers.id", ondelete="CASCADE"))
    role: Mapped[Short | None]

    collaboration: Mapped[DesignerCollaboration] = relationship(back_populates="participants")


class DesignerAnalytics(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "designer_analytics"
    __table_args__ = (
        UniqueConstraint("designer_id", "date"),
        non_negative("profile_views"),
        non_negative("favorites"),
        non_negative("shares"),
        non_negative("click_throughs"),
        Index("idx_designer_analytics_date", "date"),
        {"postgresql_partition_by": "RANGE (date)"},
    )

    designer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("designers.id", ondelete="CASCADE"))
    # Partition key, so part of the primary key (id, date).
    date: Mapped[date] = mapped_column(primary_key=True)
    profile_views: Mapped[int] = mapped_column(server_default=ZERO)
    collection_views: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
    item_views: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
    favorites: Mapped[int] = mapped_column(server_default=ZERO)
    shares: Mapped[int] = mapped_column(server_default=ZERO)
    click_throughs: Mapped[int] = mapped_column(server_default=ZERO)
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)
