"""Pieces of a collection (fashion items): type, materials, colours, sizes, price range and
their order in the collection, each with its images."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, text

from core.auth.audit import record_by_person
from core.auth.permissions import SHOWCASE_VIEW
from core.db import Actor, unit_of_work
from core.errors import NotFound, ValidationError
from core.models.designers import FASHION_ITEM_TYPES, FashionItem
from core.showcase import inputs
from core.showcase.access import require_collection_access
from core.showcase.images import ImageView

CURRENCIES = ("USD", "EUR", "GBP", "JPY", "DKK")


@dataclass(frozen=True)
class ItemDraft:
    name: str
    item_type: str
    description: str | None = None
    materials: tuple[str, ...] = ()
    colors: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    currency: str = "USD"
    is_featured: bool = False


@dataclass(frozen=True)
class ItemView:
    item_id: uuid.UUID
    collection_id: uuid.UUID
    name: str
    item_type: str
    description: str | None
    materials: tuple[str, ...]
    colors: tuple[str, ...]
    sizes: tuple[str, ...]
    price_min: Decimal | None
    price_max: Decimal | None
    currency: str
    is_featured: bool
    display_order: int
    images: tuple[ImageView, ...]

    @property
    def primary_image(self) -> ImageView | None:
        return next((i for i in self.images if i.is_primary), None)

    @property
    def price_text(self) -> str:
        if self.price_min is None and self.price_max is None:
            return "price on request"
        if self.price_max is None or self.price_min == self.price_max:
            return f"{self.currency} {self.price_min or self.price_max:,.0f}"
        if self.price_min is None:
            return f"up to {self.currency} {self.price_max:,.0f}"
        return f"{self.currency} {self.price_min:,.0f}–{self.price_max:,.0f}"

    def draft(self) -> ItemDraft:
        return ItemDraft(
            name=self.name,
            item_type=self.item_type,
            description=self.description,
            materials=self.materials,
            colors=self.colors,
            sizes=self.sizes,
            price_min=self.price_min,
            price_max=self.price_max,
            currency=self.currency,
            is_featured=self.is_featured,
        )


def _price(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


ITEMS_OF_COLLECTION = """
    SELECT fi.id, fi.collection_id, fi.name, fi.item_type, fi.description, fi.materials,
           fi.colors, fi.sizes, fi.price_range, fi.is_featured,
           coalesce(fi.display_order, 0),
           coalesce((SELECT jsonb_agg(jsonb_build_object(
                        'id', im.id, 'url', im.image_url, 'alt', im.alt_text,
                        'order', im.display_order, 'primary', im.is_primary)
                      ORDER BY im.is_primary DESC, im.display_order, im.created_at)
                       FROM fashion_item_images im WHERE im.fashion_item_id = fi.id), '[]')
      FROM fashion_items fi
     WHERE fi.collection_id = :c
     ORDER BY fi.display_order NULLS LAST, fi.created_at, fi.id
"""


def list_items(actor: Actor, collection_id: uuid.UUID) -> tuple[ItemView, ...]:
    """The pieces of a collection in display order, each with its images (primary first).

    Raises PermissionDenied without showcase.view; an invisible collection has no pieces.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        rows = uow.session.execute(text(ITEMS_OF_COLLECTION), {"c": collection_id}).all()
    return tuple(item_from_row(r) for r in rows)


def item_from_row(r: Any) -> ItemView:
    price = r[8] or {}
    return ItemView(
        item_id=r[0],
        collection_id=r[1],
        name=r[2],
        item_type=r[3],
        description=r[4],
        materials=tuple(str(m) for m in r[5] or ()),
        colors=tuple(str(c) for c in r[6] or ()),
        sizes=tuple(str(s) for s in r[7] or ()),
        price_min=_price(price.get("min")),
        price_max=_price(price.get("max")),
        currency=str(price.get("currency") or "USD"),
        is_featured=r[9],
        display_order=r[10],
        images=tuple(
            ImageView(
                uuid.UUID(i["id"]), r[0], i["url"], i["alt"], int(i["order"]), bool(i["primary"])
            )
            for i in r[11]
        ),
    )


def _clean(draft: ItemDraft) -> dict[str, Any]:
    inputs.one_of(draft.item_type, FASHION_ITEM_TYPES, "item_type")
    inputs.one_of(draft.currency, CURRENCIES, "currency")
    for name, value in (("price_min", draft.price_min), ("price_max", draft.price_max)):
        if value is not None and value < 0:
            raise ValidationError(f"{name.replace('_', ' ')} cannot be negative", field=name)
    if (
        draft.price_min is not None
        and draft.price_max is not None
        and draft.price_max < draft.price_min
    ):
        raise ValidationError("price max cannot be lower than price min", field="price_max")
    return {
        "name": inputs.required(draft.name, "name"),
        "item_type": draft.item_type,
        "description": inputs.bounded(draft.description, "description"),
        "materials": inputs.word_list(draft.materials, "materials"),
        "colors": inputs.word_list(draft.colors, "colors"),
        "sizes": inputs.word_list(draft.sizes, "sizes"),
        "price_range": {
            "min": None if draft.price_min is None else float(draft.price_min),
            "max": None if draft.price_max is None else float(draft.price_max),
            "currency": draft.currency,
        },
        "is_featured": draft.is_featured,
    }


def add_item(actor: Actor, collection_id: uuid.UUID, draft: ItemDraft) -> uuid.UUID:
    """Add a piece at the end of a collection the actor may change.

    Raises PermissionDenied, NotFound, ValidationError.
    """
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        require_collection_access(uow, collection_id)
        last = uow.session.execute(
            select(func.max(FashionItem.display_order)).where(
                FashionItem.collection_id == collection_id
            )
        ).scalar()
        item = FashionItem(collection_id=collection_id, display_order=(last or 0) + 1, **values)
        uow.session.add(item)
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.item.created", item.id,
            new={"name": item.name, "collection_id": str(collection_id)}, table="fashion_items",
        )  # fmt: skip
        uow.commit()
        return item.id


def update_item(actor: Actor, item_id: uuid.UUID, draft: ItemDraft) -> None:
    """Save a piece's fields. Raises PermissionDenied, NotFound, ValidationError."""
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        item = uow.session.get(FashionItem, item_id)
        if item is None:
            raise NotFound("This piece does not exist or is not visible to you.")
        require_collection_access(uow, item.collection_id)
        for key, value in values.items():
            setattr(item, key, value)
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.item.updated", item_id,
            new={"name": item.name}, table="fashion_items",
        )  # fmt: skip
        uow.commit()


def move_item(actor: Actor, item_id: uuid.UUID, step: int) -> None:
    """Move a piece one place earlier (step -1) or later (+1) in its collection; the order
    is renumbered 1..n. Raises PermissionDenied, NotFound."""
    with unit_of_work(actor) as uow:
        item = uow.session.get(FashionItem, item_id)
        if item is None:
            raise NotFound("This piece does not exist or is not visible to you.")
        require_collection_access(uow, item.collection_id)
        siblings = list(
            uow.session.scalars(
                select(FashionItem)
                .where(FashionItem.collection_id == item.collection_id)
                .order_by(FashionItem.display_order.nulls_last(), FashionItem.created_at)
                .with_for_update()
            )
        )
        at = siblings.index(item)
        to = max(0, min(len(siblings) - 1, at + (1 if step > 0 else -1)))
        siblings.insert(to, siblings.pop(at))
        for position, sibling in enumerate(siblings, start=1):
            sibling.display_order = position
        uow.commit()


def delete_item(actor: Actor, item_id: uuid.UUID) -> None:
    """Delete a piece and its images; runway appearances that showed it keep their slot
    without a piece. Raises PermissionDenied, NotFound."""
    with unit_of_work(actor) as uow:
        item = uow.session.get(FashionItem, item_id)
        if item is None:
            raise NotFound("This piece does not exist or is not visible to you.")
        require_collection_access(uow, item.collection_id)
        name = item.name
        # In SQL: the database cascades to the images (the ORM would null their key first).
        uow.session.execute(text("DELETE FROM fashion_items WHERE id = :i"), {"i": item_id})
        record_by_person(
            uow.session, actor, "showcase.item.deleted", item_id,
            old={"name": name}, table="fashion_items",
        )  # fmt: skip
        uow.commit()
