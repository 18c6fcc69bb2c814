"""Marketing campaigns, their assets, email and social posts, promotional codes, audience
segments, and the campaign, email, social and engagement analytics (seeds 001, phase 4).

The analytics and engagement tables are range-partitioned by month on their date column;
the migration creates the partitions.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import (
    EMPTY_ARRAY,
    FALSE,
    TRUE,
    ZERO,
    Base,
    CreatedAt,
    Timestamps,
    UUIDPrimaryKey,
    check,
    non_negative,
    one_of,
)
from core.models.limits import (
    URL,
    Body,
    Code,
    Email,
    FreeText,
    IpAddress,
    Json,
    JsonList,
    Name,
    Short,
    Token,
    Url,
    UserAgent,
    limited,
)

CAMPAIGN_STATUSES = ("draft", "scheduled", "active", "paused", "completed", "cancelled")
CAMPAIGN_ASSET_TYPES = ("image", "video", "document", "audio", "other")
SOCIAL_PLATFORMS = ("instagram", "facebook", "twitter", "linkedin", "tiktok", "pinterest", "other")
SOCIAL_POST_STATUSES = ("draft", "scheduled", "published", "failed")
PROMOTIONAL_DISCOUNT_TYPES = ("percentage", "fixed_amount", "free_item")
SEGMENT_TYPES = ("static", "dynamic", "imported")


class MarketingCampaign(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "marketing_campaigns"
    __table_args__ = (
        one_of("status", CAMPAIGN_STATUSES),
        non_negative("budget"),
        check(
            "end_date >= start_date",
            "end_date_not_before_start_date",
            field="end_date",
            message="end date cannot be before the start date",
        ),
        Index("idx_marketing_campaigns_status", "status"),
        Index("idx_marketing_campaigns_date_range", "start_date", "end_date"),
        Index("idx_marketing_campaigns_event_id", "event_id"),
        Index("idx_marketing_campaigns_created_by", "created_by"),
        Index(
            "idx_marketing_campaigns_fts",
            text("to_tsvector('english', coalesce(name, '') || ' ' || coalesce(description, ''))"),
            postgresql_using="gin",
        ),
    )

    name: Mapped[Name]
    description: Mapped[FreeText | None]
    start_date: Mapped[date]
    end_date: Mapped[date]
    status: Mapped[str]
    budget: Mapped[Decimal | None]
    target_audience: Mapped[Json | None]
    goals: Mapped[Json | None]
    channels: Mapped[JsonList] = mapped_column(server_default=EMPTY_ARRAY)
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    # Children whose foreign key cascades: the ORM deletes loaded ones, the database the rest.
    assets: Mapped[list[CampaignAsset]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    email_campaigns: Mapped[list[EmailCampaign]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    social_media_posts: Mapped[list[SocialMediaPost]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    promotional_codes: Mapped[list[PromotionalCode]] = relationship(
        back_populates="campaign", passive_deletes=True
    )


class CampaignAsset(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "campaign_assets"
    __table_args__ = (
        one_of("asset_type", CAMPAIGN_ASSET_TYPES),
        non_negative("size_bytes"),
        Index("idx_campaign_assets_campaign_id", "campaign_id"),
        Index("idx_campaign_assets_asset_type", "asset_type"),
        Index("idx_campaign_assets_created_by", "created_by"),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("marketing_campaigns.id", ondelete="CASCADE")
    )
    name: Mapped[Name]
    asset_type: Mapped[str]
    file_url: Mapped[Url]
    thumbnail_url: Mapped[Url | None]
    size_bytes: Mapped[int | None]
    dimensions: Mapped[Short | None]
    duration: Mapped[Short | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    campaign: Mapped[MarketingCampaign] = relationship(back_populates="assets")


class EmailCampaign(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "email_campaigns"
    __table_args__ = (
        Index("idx_email_campaigns_campaign_id", "campaign_id"),
        Index("idx_email_campaigns_scheduled_at", "scheduled_at"),
        Index("idx_email_campaigns_sent_at", "sent_at"),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("marketing_campaigns.id", ondelete="CASCADE")
    )
    subject: Mapped[str] = limited(255)
    preview_text: Mapped[str | None] = limited(500)
    sender_name: Mapped[Name]
    sender_email: Mapped[Email]
    template_id: Mapped[Short | None]
    content: Mapped[Body | None]
    scheduled_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    recipient_segment: Mapped[Json | None]
    tracking_settings: Mapped[Json | None]

    campaign: Mapped[MarketingCampaign] = relationship(back_populates="email_campaigns")


class SocialMediaPost(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "social_media_posts"
    __table_args__ = (
        one_of("platform", SOCIAL_PLATFORMS),
        one_of("status", SOCIAL_POST_STATUSES),
        Index("idx_social_media_posts_campaign_id", "campaign_id"),
        Index("idx_social_media_posts_platform", "platform"),
        Index("idx_social_media_posts_status", "status"),
        Index("idx_social_media_posts_scheduled_at", "scheduled_at"),
        Index("idx_social_media_posts_created_by", "created_by"),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("marketing_campaigns.id", ondelete="CASCADE")
    )
    platform: Mapped[str]
    content: Mapped[FreeText | None]
    media_urls: Mapped[list[str] | None] = limited(URL, items=20)
    scheduled_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    post_url: Mapped[Url | None]
    # The platform's own id for the published post, not a key of this database.
    post_id: Mapped[str | None] = limited(200)
    status: Mapped[str]
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    campaign: Mapped[MarketingCampaign] = relationship(back_populates="social_media_posts")


class PromotionalCode(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "promotional_codes"
    __table_args__ = (
        one_of("discount_type", PROMOTIONAL_DISCOUNT_TYPES),
        non_negative("discount_value"),
        non_negative("min_purchase_amount"),
        non_negative("max_discount_amount"),
        non_negative("usage_limit"),
        non_negative("usage_count"),
        check(
            "end_date > start_date",
            "end_date_after_start_date",
            field="end_date",
            message="end date must be after the start date",
        ),
        check(
            "usage_count <= usage_limit OR usage_limit IS NULL",
            "usage_count_within_limit",
            field="usage_count",
            message="usage count cannot exceed the usage limit",
        ),
        check(
            "discount_type <> 'percentage' OR discount_value <= 100",
            "percentage_at_most_100",
            field="discount_value",
            message="a percentage discount cannot exceed 100",
        ),
        Index("idx_promotional_codes_campaign_id", "campaign_id"),
        Index("idx_promotional_codes_date_range", "start_date", "end_date"),
    )

    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("marketing_campaigns.id", ondelete="SET NULL")
    )
    code: Mapped[Code] = mapped_column(unique=True)
    description: Mapped[str | None] = limited(500)
    discount_type: Mapped[str]
    discount_value: Mapped[Decimal]
    min_purchase_amount: Mapped[Decimal | None]
    max_discount_amount: Mapped[Decimal | None]
    start_date: Mapped[datetime]
    end_date: Mapped[datetime]
    usage_limit: Mapped[int | None]
    usage_count: Mapped[int] = mapped_column(server_default=ZERO)
    is_single_use: Mapped[bool] = mapped_column(server_default=FALSE)
    is_first_purchase_only: Mapped[bool] = mapped_column(server_default=FALSE)
    # Not in the seeds: lets a code be withdrawn before its end date, as discount codes can.
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)

    campaign: Mapped[MarketingCampaign | None] = relationship(back_populates="promotional_codes")
    usages: Mapped[list[PromotionalCodeUsage]] = relationship(
        back_populates="code",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


# The seeds' applicable_events / applicable_ticket_types UUID[] columns, as junction tables:
# an array element cannot carry a foreign key.
class PromotionalCodeEvent(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "promotional_code_events"
    __table_args__ = (
        UniqueConstraint("promotional_code_id", "event_id"),
        Index("idx_promotional_code_events_event_id", "event_id"),
    )

    promotional_code_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("promotional_codes.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))


class PromotionalCodeTicketType(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "promotional_code_ticket_types"
    __table_args__ = (
        UniqueConstraint("promotional_code_id", "ticket_type_id"),
        Index("idx_promotional_code_ticket_types_ticket_type_id", "ticket_type_id"),
    )

    promotional_code_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("promotional_codes.id", ondelete="CASCADE")
    )
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ticket_types.id", ondelete="CASCADE")
    )


class MarketingSegment(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "marketing_segments"
    __table_args__ = (
        one_of("segment_type", SEGMENT_TYPES),
        non_negative("estimated_size"),
        Index("idx_marketing_segments_segment_type", "segment_type"),
        Index("idx_marketing_segments_created_by", "created_by"),
    )

    name: Mapped[Name]
    description: Mapped[FreeText | None]
    segment_type: Mapped[str]
    filter_criteria: Mapped[Json | None]
    estimated_size: Mapped[int | None]
    last_calculated_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    members: Mapped[list[SegmentMember]] = relationship(
        back_populates="segment",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class SegmentMember(Base):
    __tablename__ = "segment_members"
    __table_args__ = (Index("idx_segment_members_user_id", "user_id"),)

    segment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("marketing_segments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())

    segment: Mapped[MarketingSegment] = relationship(back_populates="members")


class CampaignAnalytics(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "campaign_analytics"
    __table_args__ = (
        UniqueConstraint("campaign_id", "date", "channel"),
        non_negative("impressions"),
        non_negative("clicks"),
        non_negative("conversions"),
        non_negative("revenue"),
        non_negative("cost"),
        Index("idx_campaign_analytics_date", "date"),
        Index("idx_campaign_analytics_channel", "channel"),
        {"postgresql_partition_by": "RANGE (date)"},
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("marketing_campaigns.id", ondelete="CASCADE")
    )
    date: Mapped[date] = mapped_column(primary_key=True)
    channel: Mapped[Short]
    impressions: Mapped[int] = mapped_column(server_default=ZERO)
    clicks: Mapped[int] = mapped_column(server_default=ZERO)
    conversions: Mapped[int] = mapped_column(server_default=ZERO)
    revenue: Mapped[Decimal] = mapped_column(server_default=ZERO)
    cost: Mapped[Decimal] = mapped_column(server_default=ZERO)
    metrics: Mapped[Json | None]


class EmailAnalytics(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "email_analytics"
    __table_args__ = (
        UniqueConstraint("email_campaign_id", "date"),
        non_negative("sends"),
        non_negative("opens"),
        non_negative("clicks"),
        non_negative("bounces"),
        non_negative("unsubscribes"),
        non_negative("complaints"),
        Index("idx_email_analytics_date", "date"),
        {"postgresql_partition_by": "RANGE (date)"},
    )

    email_campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("email_campaigns.id", ondelete="CASCADE")
    )
    date: Mapped[date] = mapped_column(primary_key=True)
    sends: Mapped[int] = mapped_column(server_default=ZERO)
    opens: Mapped[int] = mapped_column(server_default=ZERO)
    clicks: Mapped[int] = mapped_column(server_default=ZERO)
    bounces: Mapped[int] = mapped_column(server_default=ZERO)
    unsubscribes: Mapped[int] = mapped_column(server_default=ZERO)
    complaints: Mapped[int] = mapped_column(server_default=ZERO)
    metrics: Mapped[Json | None]


class SocialMediaAnalytics(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "social_media_analytics"
    __table_args__ = (
        UniqueConstraint("post_id", "date"),
        non_negative("impressions"),
        non_negative("reach"),
        non_negative("engagement"),
        non_negative("likes"),
        non_negative("comments"),
        non_negative("shares"),
        non_negative("saves"),
        non_negative("clicks"),
        Index("idx_social_media_analytics_date", "date"),
        {"postgresql_partition_by": "RANGE (date)"},
    )

    post_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("social_media_posts.id", ondelete="CASCADE")
    )
    date: Mapped[date] = mapped_column(primary_key=True)
    impressions: Mapped[int] = mapped_column(server_default=ZERO)
    reach: Mapped[int] = mapped_column(server_default=ZERO)
    engagement: Mapped[int] = mapped_column(server_default=ZERO)
    likes: Mapped[int] = mapped_column(server_default=ZERO)
    comments: Mapped[int] = mapped_column(server_default=ZERO)
    shares: Mapped[int] = mapped_column(server_default=ZERO)
    saves: Mapped[int] = mapped_column(server_default=ZERO)
    clicks: Mapped[int] = mapped_column(server_default=ZERO)
    metrics: Mapped[Json | None]


class PromotionalCodeUsage(UUIDPrimaryKey, Base):
    __tablename__ = "promotional_code_usage"
    __table_args__ = (
        # An order redeems a given code once. Rows whose order was deleted (order_id NULL)
        # do not collide: NULLs are distinct.
        UniqueConstraint("code_id", "order_id"),
        non_negative("discount_amount"),
        non_negative("order_total"),
        Index("idx_promotional_code_usage_user_id", "user_id"),
        Index("idx_promotional_code_usage_order_id", "order_id"),
        Index("idx_promotional_code_usage_used_at", "used_at"),
    )

    code_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("promotional_codes.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    used_at: Mapped[datetime] = mapped_column(server_default=func.now())
    discount_amount: Mapped[Decimal]
    order_total: Mapped[Decimal]

    code: Mapped[PromotionalCode] = relationship(back_populates="usages")


class UserEngagement(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "user_engagement"
    __table_args__ = (
        Index("idx_user_engagement_occurred_at", "occurred_at"),
        Index("idx_user_engagement_user_id", "user_id"),
        Index("idx_user_engagement_event_id", "event_id"),
        Index("idx_user_engagement_type", "engagement_type"),
        Index("idx_user_engagement_source", "engagement_source"),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    engagement_type: Mapped[Short]
    engagement_source: Mapped[Short]
    engagement_data: Mapped[Json | None]
    occurred_at: Mapped[datetime] = mapped_column(primary_key=True, server_default=func.now())
    ip_address: Mapped[IpAddress | None]
    user_agent: Mapped[UserAgent | None]
    session_id: Mapped[Token | None]
