"""Sponsorship assets (logos, banners, videos) and their approval: an asset arrives
pending and a reviewer approves it or rejects it with a note; a decision is final (a
corrected file is a new asset)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from core.auth.permissions import SPONSORS_MANAGE
from core.db import Actor, unit_of_work
from core.errors import Conflict, NotFound, ValidationError
from core.marketing.drafts import one_of
from core.models.sponsors import SPONSORSHIP_ASSET_STATUSES
from core.services.inputs import blank_to_none

DECISIONS = ("approved", "rejected")


@dataclass(frozen=True)
class AssetView:
    asset_id: uuid.UUID
    sponsorship_id: uuid.UUID
    sponsor: str
    event: str
    name: str
    file_url: str
    file_type: str
    dimensions: str | None
    status: str
    notes: str | None
    review_note: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    created_at: datetime


_LIST = """
    SELECT a.id, a.sponsorship_id, sp.name, coalesce(e.title, 'an event you cannot see'),
           a.name, a.file_url, a.file_type, a.dimensions, a.status, a.notes, a.review_note,
           u.full_name, a.reviewed_at, a.created_at
      FROM sponsorship_assets a
      JOIN sponsorships s ON s.id = a.sponsorship_id
      JOIN sponsors sp ON sp.id = s.sponsor_id
      LEFT JOIN events e ON e.id = s.event_id
      LEFT JOIN users u ON u.id = a.reviewed_by
     WHERE {where}
     ORDER BY a.created_at DESC, a.id
     LIMIT :limit
"""


def list_assets(
    actor: Actor,
    *,
    status: str | None = None,
    sponsorship_id: uuid.UUID | None = None,
    limit: int = 500,
) -> tuple[AssetView, ...]:
    """Assets, newest first, of one status and/or sponsorship, at most `limit`.

    Raises ValidationError for an unknown status, PermissionDenied without sponsors.manage.
    """
    if status is not None:
        one_of(status, SPONSORSHIP_ASSET_STATUSES, "status")
    where, params = ["true"], {"limit": limit}
    if status is not None:
        where.append("a.status = :status")
        params["status"] = status
    if sponsorship_id is not None:
        where.append("a.sponsorship_id = :s")
        params["s"] = sponsorship_id
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SPONSORS_MANAGE)
        rows = uow.session.execute(text(_LIST.format(where=" AND ".join(where))), params)
        return tuple(AssetView(*row) for row in rows)


def add_asset(
    actor: Actor,
    sponsorship_id: uuid.UUID,
    name: str,
    file_url: str,
    file_type: str,
    *,
    dimensions: str | None = None,
    notes: str | None = None,
) -> AssetView:
    """Register an asset for a sponsorship; it waits for review (pending).

    Raises ValidationError (name, https link and file type required; unknown
    sponsorship), PermissionDenied without sponsors.manage.
    """
    name, url, kind = (name or "").strip(), (file_url or "").strip(), (file_type or "").strip()
    if not name:
        raise ValidationError("Asset name is required.", field="name")
    if not url.startswith(("https://", "http://")):
        raise ValidationError("File link must start with https://.", field="file_url")
    if not kind:
        raise ValidationError("File type is required (e.g. image/png).", field="file_type")
    with unit_of_work(actor) as uow:
        uow.require(SPONSORS_MANAGE)
        asset_id = uow.session.execute(
            text(
                "INSERT INTO sponsorship_assets (sponsorship_id, name, file_url, file_type,"
                " dimensions, notes, uploaded_by) VALUES (:s, :n, :u, :t, :d, :notes, :by)"
                " RETURNING id"
            ),
            {
                "s": sponsorship_id,
                "n": name,
                "u": url,
                "t": kind,
                "d": blank_to_none(dimensions),
                "notes": blank_to_none(notes),
                "by": actor.user_id,
            },
        ).scalar_one()
        view = AssetView(
            *uow.session.execute(
                text(_LIST.format(where="a.id = :id")), {"id": asset_id, "limit": 1}
            ).one()
        )
        uow.commit()
    return view


def review_asset(
    actor: Actor, asset_id: uuid.UUID, decision: str, note: str | None = None
) -> AssetView:
    """Approve or reject a pending asset; a rejection needs a note saying what to fix.

    Raises ValidationError (decision, missing note), Conflict when the asset was already
    reviewed, NotFound, PermissionDenied without sponsors.manage.
    """
    if decision not in DECISIONS:
        raise ValidationError("Decision must be approved or rejected.", field="decision")
    note = blank_to_none(note)
    if decision == "rejected" and note is None:
        raise ValidationError(
            "Say why the asset is rejected: the sponsor sees the note.", field="review_note"
        )
    with unit_of_work(actor) as uow:
        uow.require(SPONSORS_MANAGE)
        status = uow.session.execute(
            text("SELECT status FROM sponsorship_assets WHERE id = :id FOR UPDATE"),
            {"id": asset_id},
        ).scalar()
        if status is None:
            raise NotFound("That asset does not exist.", field="asset_id")
        if status != "pending":
            raise Conflict(f"This asset was already {status}.", field="status")
        uow.session.execute(
            text(
                "UPDATE sponsorship_assets SET status = :st, review_note = :note,"
                " reviewed_by = :by, reviewed_at = now() WHERE id = :id"
            ),
            {"st": decision, "note": note, "by": actor.user_id, "id": asset_id},
        )
        view = AssetView(
            *uow.session.execute(
                text(_LIST.format(where="a.id = :id")), {"id": asset_id, "limit": 1}
            ).one()
        )
        uow.commit()
    return view
