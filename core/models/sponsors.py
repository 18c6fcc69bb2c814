"""Sponsors, sponsorship tiers and benefits, sponsorships, their assets and sponsor analytics
(seeds 001, phase 3: sponsorship management)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import (
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
    Name,
    Phone,
    Short,
    Slug,
    Url,
    limited,
)

SPONSOR_STATUSES = ("active", "pending", "inactive", "archived")
SPONSORSHIP_PAYMENT_STATUSES = ("pending", "partial", "paid", "refunded")
SPONSORSHIP_ASSET_STATUSES = ("pending", "approved", "rejected")


class Sponsor(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "sponsors"
    __table_args__ = (
        one_of("status", SPONSOR_STATUSES),
        Index("idx_sponsors_name", "name"),
        Index("idx_sponsors_status", "status"),
        Index("idx_sponsors_industry", "industry"),
        Index("idx_sponsors_user_id", "user_id"),
        Index(
            "idx_sponsors_fts",
            text(
                "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(description, '')"
                " || ' ' || coalesce(industry, ''))"
            ),
            postgresql_using="gin",
        ),
        {"info": {"slug_source": "name"}},
    )

    name: Mapped[Name]
    slug: Mapped[Slug] = slug_column()
    logo_url: Mapped[Url | None]
    website_url: Mapped[Url | None]
    description: Mapped[FreeText | None]
    contact_email: Mapped[Email | None]
    contact_phone: Mapped[Phone | None]
    contact_name: Mapped[Name | None]
    # The sponsor's own account: row-level security matches on it (the seeds matched
    # users.email = contact_email, which breaks when either address changes).
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str]
    industry: Mapped[Short | None]
    company_size: Mapped[Short | None]
    founded_year: Mapped[int | None]
    headquarters: Mapped[Name | None]
    social_media: Mapped[Json | None]

    sponsorships: Mapped[list[Sponsorship]] = relationship(back_populates="sponsor")


class SponsorshipTier(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "sponsorship_tiers"
    # Sponsors see a tier by its name only; two tiers with one name would be indistinguishable.
    __table_args__ = (UniqueConstraint("name"),)

    name: Mapped[Name]
    description: Mapped[FreeText | None]
    price_range: Mapped[Short | None]
    is_custom: Mapped[bool] = mapped_column(server_default=FALSE)
    display_order: Mapped[int]
    benefits: Mapped[Json | None]

    sponsorships: Mapped[list[Sponsorship]] = relationship(back_populates="tier")
    tier_benefits: Mapped[list[TierBenefit]] = relationship(back_populates="tier")


class Sponsorship(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "sponsorships"
    __table_args__ = (
        UniqueConstraint("sponsor_id", "event_id"),
        non_negative("amount"),
        one_of("payment_status", SPONSORSHIP_PAYMENT_STATUSES),
        check(
            "end_date >= start_date",
            "end_date_after_start_date",
            field="end_date",
            message="end date cannot be before the start date",
        ),
        Index("idx_sponsorships_event_id", "event_id"),
        Index("idx_sponsorships_tier_id", "tier_id"),
        Index("idx_sponsorships_date_range", "start_date", "end_date"),
        Index("idx_sponsorships_featured", "is_featured"),
    )

    sponsor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sponsors.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    tier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sponsorship_tiers.id"))
    custom_tier_name: Mapped[Name | None]
    start_date: Mapped[date]
    end_date: Mapped[date]
    amount: Mapped[Decimal | None]
    payment_status: Mapped[str] = mapped_column(server_default=text("'pending'"))
    contract_url: Mapped[Url | None]
    notes: Mapped[FreeText | None]
    benefits: Mapped[Json | None]
    is_featured: Mapped[bool] = mapped_column(server_default=FALSE)
    display_order: Mapped[int | None]

    sponsor: Mapped[Sponsor] = relationship(back_populates="sponsorships")
    tier: Mapped[SponsorshipTier | None] = relationship(back_populates="sponsorships")
    assets: Mapped[list[SponsorshipAsset]] = relationship(back_populates="sponsorship")


class SponsorBenefit(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "sponsor_benefits"

    name: Mapped[Name]
    description: Mapped[FreeText | None]
    category: Mapped[Short]
    icon_url: Mapped[Url | None]
    is_digital: Mapped[bool] = mapped_column(server_default=FALSE)
    is_physical: Mapped[bool] = mapped_column(server_default=FALSE)

    tier_benefits: Mapped[list[TierBenefit]] = relationship(back_populates="benefit")


class TierBenefit(CreatedAt, Base):
    __tablename__ = "tier_benefits"
    __table_args__ = (
        check(
            "quantity > 0",
            "quantity_positive",
            field="quantity",
            message="quantity must be 1 or more",
        ),
        Index("idx_tier_benefits_benefit_id", "benefit_id"),
    )

    tier_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sponsorship_tiers.id", ondelete="CASCADE"), primary_key=True
    )
    benefit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sponsor_benefits.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(server_default=text("1"))
    details: Mapped[FreeText | None]

    tier: Mapped[SponsorshipTier] = relationship(back_populates="tier_benefits")
    benefit: Mapped[SponsorBenefit] = relationship(back_populates="tier_benefits")


class SponsorshipAsset(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "sponsorship_assets"
    __table_args__ = (
        one_of("status", SPONSORSHIP_ASSET_STATUSES),
        non_negative("size_bytes"),
        check(
            "status <> 'rejected' OR review_note IS NOT NULL",
            "rejected_needs_review_note",
            field="review_note",
            message="a rejected asset needs a review note",
        ),
        Index("idx_sponsorship_assets_sponsorship_id", "sponsorship_id"),
        Index("idx_sponsorship_assets_uploaded_by", "uploaded_by"),
        Index("idx_sponsorship_assets_reviewed_by", "reviewed_by"),
    )

    sponsorship_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sponsorships.id", ondelete="CASCADE")
    )
    name: Mapped[Name]
    file_url: Mapped[Url]
    file_type: Mapped[str] = limited(255)
    size_bytes: Mapped[int | None]
    dimensions: Mapped[Short | None]
    status: Mapped[str] = mapped_column(server_default=text("'pending'"))
    notes: Mapped[FreeText | None]
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Approval workflow: a reviewer approves or rejects with a note.
    review_note: Mapped[FreeText | None]
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[datetime | None]

    sponsorship: Mapped[Sponsorship] = relationship(back_populates="assets")


class SponsorAnalytics(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "sponsor_analytics"
    __table_args__ = (
        # NULLS NOT DISTINCT (PostgreSQL 15+): sponsor-wide rows (no event) are unique per day.
        UniqueConstraint("sponsor_id", "event_id", "date", postgresql_nulls_not_distinct=True),
        non_negative("impressions"),
        non_negative("clicks"),
        non_negative("leads_generated"),
        non_negative("conversions"),
        non_negative("cost"),
        non_negative("revenue"),
        Index("idx_sponsor_analytics_event_id", "event_id"),
        Index("idx_sponsor_analytics_date", "date"),
        {"postgresql_partition_by": "RANGE (date)"},
    )

    sponsor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sponsors.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # Partition key, so part of the primary key (id, date).
    date: Mapped[date] = mapped_column(primary_key=True)
    impressions: Mapped[int] = mapped_column(server_default=ZERO)
    clicks: Mapped[int] = mapped_column(server_default=ZERO)
    leads_generated: Mapped[int] = mapped_column(server_default=ZERO)
    conversions: Mapped[int] = mapped_column(server_default=ZERO)
    engagement_metrics: Mapped[Json | None]
    roi_metrics: Mapped[Json | None]
    # ROI needs money out and in; the seeds only had the free-form roi_metrics.
    cost: Mapped[Decimal] = mapped_column(server_default=ZERO)
    revenue: Mapped[Decimal] = mapped_column(server_default=ZERO)
