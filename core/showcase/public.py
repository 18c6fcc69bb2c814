"""What the public sees: published collections of active designers, with the designer,
the pieces with their primary images, and the shows. Drafts and archives never appear,
not even to their own designer (they see those on the Collections page)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from core.auth.permissions import SHOWCASE_VIEW
from core.db import Actor, unit_of_work
from core.errors import NotFound
from core.showcase.items import ITEMS_OF_COLLECTION, ItemView, item_from_row

_PUBLIC = "c.status = 'published' AND d.status = 'active'"


@dataclass(frozen=True)
class CollectionCard:
    collection_id: uuid.UUID
    name: str
    designer_name: str
    brand_name: str | None
    season: str | None
    year: int | None
    is_featured: bool
    pieces: int
    cover_url: str | None  # the first piece's primary image, else the collection cover


@dataclass(frozen=True)
class PublicShow:
    show_date: datetime
    event_title: str
    venue_name: str
    status: str
    livestream_url: str | None
    video_url: str | None


@dataclass(frozen=True)
class PublicCollection:
    collection_id: uuid.UUID
    name: str
    season: str | None
    year: int | None
    description: str | None
    inspiration: str | None
    color_palette: tuple[dict[str, Any], ...]
    materials: tuple[str, ...]
    release_date: datetime | None
    designer_id: uuid.UUID
    designer_name: str
    brand_name: str | None
    specialty: str | None
    bio: str | None
    website_url: str | None
    social: dict[str, Any]
    is_verified: bool
    items: tuple[ItemView, ...]
    shows: tuple[PublicShow, ...]


def published_collections(
    actor: Actor, *, designer_id: uuid.UUID | None = None, limit: int = 60
) -> tuple[CollectionCard, ...]:
    """Published collections of active designers, featured and newest first.

    Raises PermissionDenied without showcase.view."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        rows = uow.session.execute(
            text(
                f"""
                SELECT c.id, c.name, d.name, d.brand_name, c.season, c.year, c.is_featured,
                       (SELECT count(*) FROM fashion_items fi WHERE fi.collection_id = c.id),
                       coalesce((SELECT im.image_url FROM fashion_items fi
                                   JOIN fashion_item_images im
                                     ON im.fashion_item_id = fi.id AND im.is_primary
                                  WHERE fi.collection_id = c.id
                                  ORDER BY fi.display_order NULLS LAST LIMIT 1),
                                c.cover_image_url)
                  FROM collections c JOIN designers d ON d.id = c.designer_id
                 WHERE {_PUBLIC}
                   AND (CAST(:designer AS uuid) IS NULL OR c.designer_id = :designer)
                 ORDER BY c.is_featured DESC, c.release_date DESC NULLS LAST, c.name
                 LIMIT :limit
                """
            ),
            {"designer": designer_id, "limit": limit},
        )
        return tuple(CollectionCard(*r) for r in rows)


def public_collection(
    actor: Actor, collection_id: uuid.UUID, *, count_view: bool = True
) -> PublicCollection:
    """One published collection as the public sees it; with `count_view`, counts a view
    for its designer's analytics (showcase_record_view).

    Raises PermissionDenied without showcase.view; NotFound for a draft, an archived
    collection or one whose designer is not active."""
    with unit_of_work(actor) as uow:
        uow.require(SHOWCASE_VIEW)
        row = uow.session.execute(
            text(
                f"""
                SELECT c.id, c.name, c.season, c.year, c.description, c.inspiration,
                       c.color_palette, c.materials, c.release_date, d.id, d.name,
                       d.brand_name, d.specialty, d.bio, d.website_url, d.social_media,
                       d.is_verified
                  FROM collections c JOIN designers d ON d.id = c.designer_id
                 WHERE c.id = :c AND {_PUBLIC}
                """
            ),
            {"c": collection_id},
        ).first()
        if row is None:
            raise NotFound("This collection is not published.")
        items = uow.session.execute(text(ITEMS_OF_COLLECTION), {"c": collection_id}).all()
        shows = uow.session.execute(
            text(
                """
                SELECT r.show_date, coalesce(e.title, '—'), coalesce(v.name, '—'), r.status,
                       r.livestream_url, r.video_url
                  FROM runway_shows r
                  LEFT JOIN events e ON e.id = r.event_id
                  LEFT JOIN venues v ON v.id = r.venue_id
                 WHERE r.collection_id = :c AND r.status <> 'cancelled'
                 ORDER BY r.show_date
                """
            ),
            {"c": collection_id},
        ).all()
        if count_view:
            uow.session.execute(
                text("SELECT showcase_record_view(:d, :c)"), {"d": row[9], "c": collection_id}
            )
        uow.commit()
    return PublicCollection(
        *row[:6],
        color_palette=tuple(row[6] or ()),
        materials=tuple(str(m) for m in row[7] or ()),
        release_date=row[8],
        designer_id=row[9],
        designer_name=row[10],
        brand_name=row[11],
        specialty=row[12],
        bio=row[13],
        website_url=row[14],
        social=dict(row[15] or {}),
        is_verified=row[16],
        items=tuple(item_from_row(r) for r in items),
        shows=tuple(PublicShow(*s) for s in shows),
    )
