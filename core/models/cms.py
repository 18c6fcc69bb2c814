"""CMS pages, their content blocks and versions, and the media library
(seeds 001, section 4 "Content Management System")."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import (
    EMPTY_OBJECT,
    FALSE,
    ZERO,
    Base,
    CreatedAt,
    Timestamps,
    UUIDPrimaryKey,
    non_negative,
    one_of,
    slug_column,
)
from core.models.limits import (
    Body,
    FreeText,
    Json,
    LargeJson,
    Name,
    Short,
    Slug,
    Url,
    Words,
    limited,
)

PAGE_STATUSES = ("draft", "published", "archived")
BLOCK_TYPES = (
    "hero",
    "text",
    "image",
    "gallery",
    "video",
    "cta",
    "testimonial",
    "feature",
    "event_list",
    "designer_list",
    "sponsor_list",
    "custom",
)


class Page(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "pages"
    __table_args__ = (
        one_of("status", PAGE_STATUSES),
        non_negative("cache_ttl"),
        Index("idx_pages_status", "status"),
        Index("idx_pages_author_id", "author_id"),
        Index("idx_pages_published_at", "published_at"),
        # Unique: the site has one homepage.
        Index(
            "idx_pages_is_homepage",
            "is_homepage",
            unique=True,
            postgresql_where=text("is_homepage"),
        ),
        Index(
            "idx_pages_fts",
            text(
                "to_tsvector('english', coalesce(title, '') || ' ' || "
                "coalesce(meta_description, ''))"
            ),
            postgresql_using="gin",
        ),
        {"info": {"slug_source": "title"}},
    )

    slug: Mapped[Slug] = slug_column()
    title: Mapped[Name]
    meta_description: Mapped[str | None] = limited(1000)
    meta_keywords: Mapped[Words | None]
    status: Mapped[str] = mapped_column(server_default=text("'draft'"))
    layout: Mapped[Short] = mapped_column(server_default=text("'default'"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(server_default=text("1"))
    is_homepage: Mapped[bool] = mapped_column(server_default=FALSE)
    requires_auth: Mapped[bool] = mapped_column(server_default=FALSE)
    # Seconds.
    cache_ttl: Mapped[int] = mapped_column(server_default=text("3600"))
    seo_image_url: Mapped[Url | None]
    structured_data: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)

    blocks: Mapped[list[ContentBlock]] = relationship(
        back_populates="page", order_by="ContentBlock.order_index"
    )
    versions: Mapped[list[PageVersion]] = relationship(back_populates="page")


class ContentBlock(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "content_blocks"
    __table_args__ = (
        one_of("block_type", BLOCK_TYPES),
        Index("idx_content_blocks_page_id", "page_id"),
        Index("idx_content_blocks_block_type", "block_type"),
        Index("idx_content_blocks_order_index", "order_index"),
    )

    page_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    block_type: Mapped[str]
    title: Mapped[Name | None]
    content: Mapped[Body | None]
    content_json: Mapped[LargeJson] = mapped_column(server_default=EMPTY_OBJECT)
    order_index: Mapped[int] = mapped_column(server_default=ZERO)
    settings: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
    styles: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
    visibility_rules: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
    version: Mapped[int] = mapped_column(server_default=text("1"))

    page: Mapped[Page] = relationship(back_populates="blocks")


class PageVersion(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "page_versions"
    __table_args__ = (
        UniqueConstraint("page_id", "version"),
        Index("idx_page_versions_version", "version"),
        Index("idx_page_versions_author_id", "author_id"),
    )

    page_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    version: Mapped[int]
    title: Mapped[Name]
    meta_description: Mapped[str | None] = limited(1000)
    meta_keywords: Mapped[Words | None]
    layout: Mapped[Short]
    # Snapshot of all the page's content blocks at this version.
    content_snapshot: Mapped[LargeJson]
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    change_summary: Mapped[FreeText | None]

    page: Mapped[Page] = relationship(back_populates="versions")


class MediaItem(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "media_items"
    __table_args__ = (
        non_negative("file_size"),
        non_negative("width"),
        non_negative("height"),
        non_negative("duration"),
        Index("idx_media_items_file_type", "file_type"),
        Index("idx_media_items_uploaded_by", "uploaded_by"),
        Index("idx_media_items_folder_path", "folder_path"),
        Index("idx_media_items_tags", "tags", postgresql_using="gin"),
        Index(
            "idx_media_items_fts",
            text(
                "to_tsvector('english', coalesce(file_name, '') || ' ' || "
                "coalesce(alt_text, '') || ' ' || coalesce(caption, ''))"
            ),
            postgresql_using="gin",
        ),
    )

    file_name: Mapped[str] = limited(255)
    file_type: Mapped[Short]
    mime_type: Mapped[str] = limited(255)
    # bigint: integer stops at 2 GiB and video files exceed it.
    file_size: Mapped[int] = mapped_column(BigInteger)
    url: Mapped[Url]
    thumbnail_url: Mapped[Url | None]
    alt_text: Mapped[str | None] = limited(1000)
    caption: Mapped[FreeText | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    # Seconds, for video and audio.
    duration: Mapped[int | None]
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    folder_path: Mapped[str] = limited(1024, server_default=text("'/'"))
    tags: Mapped[Words | None]
    meta_data: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
