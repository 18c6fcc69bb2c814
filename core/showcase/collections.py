"""Collections: per designer, season and year, status workflow (draft → published →
archived), inspiration, colour palette and materials, and the event that shows them.

Drafts are their designer's (and admins') only: row-level security hides them from
everyone else and refuses changes to other designers' collections (migration 0003).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from core.auth.audit import record_by_person
from core.auth.permissions import SHOWCASE_VIEW
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import NotFound, ValidationError
from core.models.designers import COLLECTION_SEASONS, COLLECTION_STATUSES, Collection
from core.services.event_choices import EventChoice, read_event_choices
from core.showcase import inputs
from core.showcase.access import (
    is_admin,
    my_designer_ids,
    require_collection_access,
    require_designer_access,
)

# Where a collection may go next from each status.
COLLECTION_MOVES: dict[str, tuple[str, ...]] = {
    "draft": ("published", "archived"),
    "published": ("archived", "draft"),
    "archived": ("published",),
}
HEX = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class CollectionDraft:
    designer_id: uuid.UUID
    name: str
    season: str | None = None
    year: int | None = None
    description: str | None = None
    inspiration: str | None = None
    show_notes: str | None = None
    color_palette: tuple[dict[str, str], ...] = ()
    materials: tuple[str, ...] = ()
    event_id: uuid.UUID | None = None
    cover_image_url: str | None = None


@dataclass(frozen=True)
class CollectionRow:
    collection_id: uuid.UUID
    name: str
    designer_id: uuid.UUID
    designer_name: str
    season: str | None
    year: int | None
    status: str
    is_featured: bool
    items: int
    shows: int
    event_title: str | None
    is_mine: bool
    updated_at: datetime


@dataclass(frozen=True)
class CollectionDetail:
    row: CollectionRow
    draft: CollectionDraft
    release_date: datetime | None
    can_edit: bool
    next_statuses: tuple[str, ...] = field(default=())


def palette_from_text(value: str) -> tuple[dict[str, str], ...]:
    """ "Ivory #FFFFF0, Ink #1B1B3A" as [{"name": "Ivory", "hex": "#FFFFF0"}, ...].

    Raises ValidationError (field color_palette) for an entry without a #RRGGBB colour.
    """
    found: list[dict[str, str]] = []
    for raw in re.split(r"[,\n]", value or ""):
        entry = raw.strip()
        if not entry:
            continue
        match = HEX.search(entry)
        if match is None:
            raise ValidationError(
                f"colour palette: {entry!r} needs a colour written as #RRGGBB, e.g. Ivory #FFFFF0",
                field="color_palette",
            )
        name = (entry[: match.start()] + entry[match.end() :]).strip() or match.group().upper()
        found.append({"name": name[:60], "hex": match.group().upper()})
    if len(found) > 12:
        raise ValidationError("colour palette may hold at most 12 colours", field="color_palette")
    return tuple(found)


def palette_text(palette: tuple[dict[str, str], ...] | list[Any]) -> str:
    return ", ".join(
        f"{c.get('name', '')} {c.get('hex', '')}".strip() for c in palette if isinstance(c, dict)
    )


_LIST = """
    SELECT c.id, c.name, c.designer_id, coalesce(d.name, 'a designer not shown to you'),
           c.season, c.year, c.status, c.is_featured,
           (SELECT count(*) FROM fashion_items fi WHERE fi.collection_id = c.id),
           (SELECT count(*) FROM runway_shows r WHERE r.collection_id = c.id),
           e.title, c.designer_id = ANY (CAST(:mine AS uuid[])), c.updated_at
      FROM collections c
      LEFT JOIN designers d ON d.id = c.designer_id
      LEFT JOIN events e ON e.id = c.event_id
     WHERE {where}
     ORDER BY c.year DESC NULLS LAST, c.name, c.id
     LIMIT :limit
"""


def list_collections(
    actor: Actor,
    *,
    designer_id: uuid.UUID | None = None,
    status: str | None = None,
    season: str | None = None,
    search: str = "",
    mine_only: bool = False,
    limit: int = 500,
) -> tuple[CollectionRow, ...]:
    """Collections the actor can see (published ones, their own drafts and archives, all
    for admins), newest year first, narrowed by designer, status, season and a name search.

    Raises PermissionDenied without showcase.view, ValidationError for an unknown status.
    """
    if status is not None:
        inputs.one_of(status, COLLECTION_STATUSES, "status")
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        mine = [str(d) for d in my_designer_ids(uow)]
        where, params = ["true"], {"mine": mine, "limit": limit}
        if designer_id is not None:
            where.append("c.designer_id = :designer")
            params["designer"] = designer_id
        if status:
            where.append("c.status = :status")
            params["status"] = status
        if season:
            where.append("c.season = :season")
            params["season"] = season
        if search.strip():
            where.append("(c.name ILIKE :pattern OR d.name ILIKE :pattern)")
            params["pattern"] = f"%{escape_like(search.strip())}%"
        if mine_only:
            where.append("c.designer_id = ANY (CAST(:mine AS uuid[]))")
        rows = uow.session.execute(text(_LIST.format(where=" AND ".join(where))), params)
        return tuple(CollectionRow(*r) for r in rows)


def get_collection(actor: Actor, collection_id: uuid.UUID) -> CollectionDetail:
    """One collection with what the actor may do with it.

    Raises PermissionDenied without showcase.view; NotFound when it does not exist or is
    someone else's draft.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        mine = my_designer_ids(uow)
        found = uow.session.execute(
            text(_LIST.format(where="c.id = :id")),
            {"mine": [str(d) for d in mine], "limit": 1, "id": collection_id},
        ).first()
        collection = uow.session.get(Collection, collection_id)
        if found is None or collection is None:
            raise NotFound("This collection does not exist or is not visible to you.")
        can_edit = is_admin(uow) or collection.designer_id in mine
        return CollectionDetail(
            row=CollectionRow(*found),
            draft=CollectionDraft(
                designer_id=collection.designer_id,
                name=collection.name,
                season=collection.season,
                year=collection.year,
                description=collection.description,
                inspiration=collection.inspiration,
                show_notes=collection.show_notes,
                color_palette=tuple(collection.color_palette or ()),
                materials=tuple(str(m) for m in collection.materials or ()),
                event_id=collection.event_id,
                cover_image_url=collection.cover_image_url,
            ),
            release_date=collection.release_date,
            can_edit=can_edit,
            next_statuses=COLLECTION_MOVES.get(collection.status, ()) if can_edit else (),
        )


def _clean(draft: CollectionDraft) -> dict[str, Any]:
    if draft.season is not None:
        inputs.one_of(draft.season, COLLECTION_SEASONS, "season")
    return {
        "name": inputs.required(draft.name, "name"),
        "season": draft.season,
        "year": inputs.whole_number(draft.year, "year", low=1900, high=2100),
        "description": inputs.bounded(draft.description, "description"),
        "inspiration": inputs.bounded(draft.inspiration, "inspiration"),
        "show_notes": inputs.bounded(draft.show_notes, "show_notes"),
        "color_palette": [dict(c) for c in draft.color_palette],
        "materials": inputs.word_list(draft.materials, "materials"),
        "event_id": draft.event_id,
        "cover_image_url": inputs.web_url(draft.cover_image_url, "cover_image_url"),
    }


def create_collection(actor: Actor, draft: CollectionDraft) -> uuid.UUID:
    """Create a draft collection for a designer the actor may manage.

    Raises PermissionDenied (someone else's designer), NotFound, ValidationError.
    """
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        require_designer_access(uow, draft.designer_id)
        collection = Collection(designer_id=draft.designer_id, status="draft", **values)
        uow.session.add(collection)
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.collection.created", collection.id,
            new={"name": collection.name}, table="collections",
        )  # fmt: skip
        uow.commit()
        return collection.id


def update_collection(actor: Actor, collection_id: uuid.UUID, draft: CollectionDraft) -> None:
    """Save a collection's fields (its designer and status stay).

    Raises PermissionDenied (someone else's), NotFound, ValidationError.
    """
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        require_collection_access(uow, collection_id)
        collection = uow.session.get(Collection, collection_id)
        if collection is None:
            raise NotFound("This collection does not exist or is not visible to you.")
        for key, value in values.items():
            setattr(collection, key, value)
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.collection.updated", collection_id,
            new={"name": collection.name}, table="collections",
        )  # fmt: skip
        uow.commit()


def set_collection_status(actor: Actor, collection_id: uuid.UUID, status: str) -> None:
    """Publish, archive or take back a collection (COLLECTION_MOVES); publishing sets the
    release date when it has none.

    Raises PermissionDenied, NotFound, ValidationError for a move the workflow lacks or
    publishing a collection without a piece.
    """
    with unit_of_work(actor) as uow:
        require_collection_access(uow, collection_id)
        collection = uow.session.get(Collection, collection_id, with_for_update=True)
        if collection is None:
            raise NotFound("This collection does not exist or is not visible to you.")
        allowed = COLLECTION_MOVES.get(collection.status, ())
        if status not in allowed:
            raise ValidationError(
                f"status: a {collection.status} collection can become"
                f" {' or '.join(allowed)}, not {status}",
                field="status",
            )
        if status == "published":
            pieces = uow.session.execute(
                text("SELECT count(*) FROM fashion_items WHERE collection_id = :c"),
                {"c": collection_id},
            ).scalar_one()
            if not pieces:
                raise ValidationError(
                    "status: add at least one piece before publishing a collection",
                    field="status",
                )
            collection.release_date = collection.release_date or datetime.now(UTC)
        old = collection.status
        collection.status = status
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.collection.status_changed", collection_id,
            old={"status": old}, new={"status": status}, table="collections",
        )  # fmt: skip
        uow.commit()


def event_choices(actor: Actor) -> tuple[EventChoice, ...]:
    """Events a collection can be linked to or a show held at: those the actor can see,
    not cancelled, newest first. Raises PermissionDenied without showcase.view."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        return read_event_choices(uow.session, include_cancelled=False, limit=500)
