"""Images of a piece: from a web address or an uploaded file, ordered, one primary.

The database allows one primary image per piece (uq_fashion_item_images_one_primary); when
the primary changes, the old one is cleared first in the same transaction. A piece's first
image becomes its primary.
"""

from __future__ import annotations

import base64
import html
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, text

from core.auth.audit import record_by_person
from core.db import Actor, UnitOfWork, unit_of_work
from core.errors import NotFound, ValidationError
from core.models.designers import FashionItem, FashionItemImage
from core.showcase import inputs, uploads
from core.showcase.access import require_collection_access

MAX_IMAGES_PER_ITEM = 20


@dataclass(frozen=True)
class ImageView:
    image_id: uuid.UUID
    item_id: uuid.UUID
    image_url: str
    alt_text: str | None
    display_order: int
    is_primary: bool


def placeholder_svg(label: str, color: str = "#B9A6C8") -> str:
    """A small SVG image with `label`: what a gallery shows for a file that is missing."""
    safe = html.escape(label[:40])
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="400" viewBox="0 0 300 400">'
        f'<rect width="300" height="400" fill="{html.escape(color)}"/>'
        '<text x="150" y="200" font-family="sans-serif" font-size="18" fill="#ffffff"'
        f' text-anchor="middle">{safe}</text></svg>'
    )


def svg_data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def image_source(url: str, label: str = "image") -> str | Path:
    """What st.image can draw for a stored image URL: the uploaded file, the web or data
    URL itself, or a placeholder when an uploaded file has gone."""
    if url.startswith(uploads.SCHEME):
        return uploads.resolve(url) or svg_data_url(placeholder_svg(f"{label} (file missing)"))
    return url


def _item_for_change(uow: UnitOfWork, item_id: uuid.UUID) -> FashionItem:
    item = uow.session.get(FashionItem, item_id)
    if item is None:
        raise NotFound("This piece does not exist or is not visible to you.")
    require_collection_access(uow, item.collection_id)
    return item


def _add(uow: UnitOfWork, actor: Actor, item: FashionItem, url: str, alt: str | None) -> uuid.UUID:
    count, last = uow.session.execute(
        select(func.count(), func.max(FashionItemImage.display_order)).where(
            FashionItemImage.fashion_item_id == item.id
        )
    ).one()
    if count >= MAX_IMAGES_PER_ITEM:
        raise ValidationError(
            f"images: a piece can have at most {MAX_IMAGES_PER_ITEM} images", field="images"
        )
    image = FashionItemImage(
        fashion_item_id=item.id,
        image_url=url,
        alt_text=inputs.bounded(alt, "alt_text", limit=300) or item.name,
        display_order=(last + 1) if last is not None else 0,
        is_primary=count == 0,
    )
    uow.session.add(image)
    uow.session.flush()
    record_by_person(
        uow.session, actor, "showcase.image.added", image.id,
        new={"fashion_item_id": str(item.id), "image_url": url[:200]},
        table="fashion_item_images",
    )  # fmt: skip
    return image.id


def add_image_url(
    actor: Actor, item_id: uuid.UUID, url: str, alt_text: str | None = None
) -> uuid.UUID:
    """Add an image by its web address (http or https).

    Raises PermissionDenied, NotFound, ValidationError (field image_url).
    """
    cleaned = inputs.web_url(url, "image_url")
    if cleaned is None:
        raise ValidationError("image url is required", field="image_url")
    with unit_of_work(actor) as uow:
        image_id = _add(uow, actor, _item_for_change(uow, item_id), cleaned, alt_text)
        uow.commit()
        return image_id


def upload_image(
    actor: Actor, item_id: uuid.UUID, file_name: str, data: bytes, alt_text: str | None = None
) -> uuid.UUID:
    """Add an uploaded image file: checked (uploads.check_image), stored in the uploads
    folder, recorded as upload://<sha256>.<ext>.

    Raises PermissionDenied, NotFound, ValidationError (field image_file) naming the rule.
    """
    extension = uploads.check_image(file_name, data)
    with unit_of_work(actor) as uow:
        item = _item_for_change(uow, item_id)
        # Stored only once the person may change the piece; a failed commit leaves at most
        # an unreferenced file, which the same upload reuses.
        url = uploads.store(data, extension)
        image_id = _add(uow, actor, item, url, alt_text)
        uow.commit()
        return image_id


def _image_for_change(uow: UnitOfWork, image_id: uuid.UUID) -> FashionItemImage:
    """The image, once the actor may change the piece it shows."""
    image = uow.session.get(FashionItemImage, image_id)
    if image is None:
        raise NotFound("This image does not exist or is not visible to you.")
    _item_for_change(uow, image.fashion_item_id)
    return image


def set_primary_image(actor: Actor, image_id: uuid.UUID) -> None:
    """Make `image_id` its piece's primary image (the old primary stops being one).

    Raises PermissionDenied, NotFound.
    """
    with unit_of_work(actor) as uow:
        image = _image_for_change(uow, image_id)
        uow.session.execute(
            text(
                "UPDATE fashion_item_images SET is_primary = false"
                " WHERE fashion_item_id = :i AND is_primary AND id <> :id"
            ),
            {"i": image.fashion_item_id, "id": image_id},
        )
        image.is_primary = True
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.image.made_primary", image_id,
            table="fashion_item_images",
        )  # fmt: skip
        uow.commit()


def delete_image(actor: Actor, image_id: uuid.UUID) -> None:
    """Remove an image; when it was the primary, the next image in order takes over.

    Raises PermissionDenied, NotFound.
    """
    with unit_of_work(actor) as uow:
        image = _image_for_change(uow, image_id)
        item_id, was_primary = image.fashion_item_id, image.is_primary
        uow.session.delete(image)
        uow.session.flush()
        if was_primary:
            uow.session.execute(
                text(
                    "UPDATE fashion_item_images SET is_primary = true WHERE id = ("
                    " SELECT id FROM fashion_item_images WHERE fashion_item_id = :i"
                    " ORDER BY display_order, created_at LIMIT 1)"
                ),
                {"i": item_id},
            )
        record_by_person(
            uow.session, actor, "showcase.image.deleted", image_id,
            old={"fashion_item_id": str(item_id)}, table="fashion_item_images",
        )  # fmt: skip
        uow.commit()
