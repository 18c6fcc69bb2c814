"""Who may change what in the showcase, asked inside the caller's transaction."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from core.auth.permissions import SHOWCASE_MANAGE
from core.db import UnitOfWork
from core.errors import NotFound, PermissionDenied


def is_admin(uow: UnitOfWork) -> bool:
    """Does the acting person hold the admin role (system actors count as admins)?"""
    if uow.actor.is_system:
        return True
    return bool(uow.session.execute(text("SELECT app_has_role('admin')")).scalar_one())


def my_designer_ids(uow: UnitOfWork) -> tuple[uuid.UUID, ...]:
    """The designer profiles of the acting person."""
    ids = uow.session.execute(text("SELECT app_my_designer_ids()")).scalar_one()
    return tuple(ids or ())


def require_admin(uow: UnitOfWork, what: str) -> None:
    """Raise PermissionDenied unless the actor is an admin; `what` says what they tried."""
    if not is_admin(uow):
        raise PermissionDenied(f"Only an admin can {what}.")


def require_designer_access(uow: UnitOfWork, designer_id: uuid.UUID) -> None:
    """Raise unless the actor may change designer `designer_id`'s showcase: their own
    profile, or any as an admin. PermissionDenied for someone else's, NotFound for none."""
    uow.require(SHOWCASE_MANAGE)
    if designer_id in my_designer_ids(uow) or is_admin(uow):
        return
    exists = uow.session.execute(
        text("SELECT 1 FROM designers WHERE id = :d"), {"d": designer_id}
    ).scalar()
    if exists is None:
        raise NotFound("This designer does not exist or is not visible to you.")
    raise PermissionDenied("You can only change your own designer profile and collections.")


def collection_owner(uow: UnitOfWork, collection_id: uuid.UUID) -> uuid.UUID:
    """The designer of a collection the actor can see; NotFound otherwise."""
    designer_id = uow.session.execute(
        text("SELECT designer_id FROM collections WHERE id = :c"), {"c": collection_id}
    ).scalar()
    if designer_id is None:
        raise NotFound("This collection does not exist or is not visible to you.")
    return designer_id


def require_collection_access(uow: UnitOfWork, collection_id: uuid.UUID) -> uuid.UUID:
    """Raise unless the actor may change collection `collection_id` (and what hangs from it:
    pieces, images, shows); returns its designer's id."""
    designer_id = collection_owner(uow, collection_id)
    require_designer_access(uow, designer_id)
    return designer_id
