"""Audience segments: static ones list their members, dynamic ones are a saved filter.

Sizes are computed by the database (`marketing_segment_size`, `marketing_audience_size`,
migration 0008), which counts only people marketing may reach: active, not anonymized,
processing not restricted (`users.marketing_restricted_at`). The app role cannot read
other people's rows; those functions answer counts, never rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import text

from core.auth.permissions import CAMPAIGNS_MANAGE
from core.db import Actor, unit_of_work
from core.errors import NotFound, ValidationError
from core.marketing.drafts import one_of
from core.models.identity import USER_TYPES
from core.services.inputs import blank_to_none

SEGMENT_KINDS = ("static", "dynamic")
MAX_MIN_ORDERS = 1000


@dataclass(frozen=True)
class SegmentCriteria:
    """A dynamic segment's filter; an empty field does not filter."""

    user_type: str | None = None
    interests: tuple[str, ...] = ()
    min_orders: int = 0

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.user_type:
            found["user_type"] = self.user_type
        if self.interests:
            found["interests"] = list(self.interests)
        if self.min_orders:
            found["min_orders"] = self.min_orders
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SegmentCriteria:
        data = data or {}
        return cls(
            data.get("user_type") or None,
            tuple(data.get("interests") or ()),
            int(data.get("min_orders") or 0),
        )


@dataclass(frozen=True)
class SegmentView:
    segment_id: uuid.UUID
    name: str
    description: str | None
    segment_type: str
    criteria: SegmentCriteria
    estimated_size: int | None
    last_calculated_at: datetime | None
    members: int


def _check(criteria: SegmentCriteria) -> None:
    if criteria.user_type is not None:
        one_of(criteria.user_type, USER_TYPES, "user_type")
    if not 0 <= criteria.min_orders <= MAX_MIN_ORDERS:
        raise ValidationError(
            f"Minimum orders is between 0 and {MAX_MIN_ORDERS}.", field="min_orders"
        )


_LIST = """
    SELECT s.id, s.name, s.description, s.segment_type, s.filter_criteria, s.estimated_size,
           s.last_calculated_at,
           (SELECT count(*) FROM segment_members m WHERE m.segment_id = s.id)
      FROM marketing_segments s WHERE {where} ORDER BY s.name, s.id
"""


def _view(row: Any) -> SegmentView:
    return SegmentView(row[0], row[1], row[2], row[3], SegmentCriteria.from_json(row[4]), *row[5:])


def list_segments(actor: Actor) -> tuple[SegmentView, ...]:
    """Segments by name with their last computed size. Raises PermissionDenied without
    campaigns.manage."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        return tuple(_view(r) for r in uow.session.execute(text(_LIST.format(where="true"))))


def preview_audience_size(actor: Actor, criteria: SegmentCriteria) -> int:
    """How many reachable people a dynamic filter matches now. Raises ValidationError,
    PermissionDenied without campaigns.manage."""
    _check(criteria)
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        return int(
            uow.session.execute(
                text("SELECT marketing_audience_size(:c)"), {"c": Jsonb(criteria.as_json())}
            ).scalar_one()
        )


def create_segment(
    actor: Actor,
    name: str,
    kind: str,
    *,
    criteria: SegmentCriteria | None = None,
    description: str | None = None,
) -> SegmentView:
    """Add a segment (static: members added later; dynamic: `criteria`) with its size
    computed. Raises ValidationError naming the field, PermissionDenied without
    campaigns.manage."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("Segment name is required.", field="name")
    if kind not in SEGMENT_KINDS:
        raise ValidationError("A segment is static or dynamic.", field="segment_type")
    if kind == "dynamic":
        criteria = criteria or SegmentCriteria()
        _check(criteria)
    with unit_of_work(actor) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        segment_id = uow.session.execute(
            text(
                "INSERT INTO marketing_segments (name, description, segment_type,"
                " filter_criteria, created_by) VALUES (:n, :d, :k, :c, :by) RETURNING id"
            ),
            {
                "n": name,
                "d": blank_to_none(description),
                "k": kind,
                "c": None if kind == "static" else Jsonb(criteria.as_json()),  # type: ignore[union-attr]
                "by": actor.user_id,
            },
        ).scalar_one()
        view = _recalculate(uow.session, segment_id)
        uow.commit()
    return view


def _recalculate(session: Any, segment_id: uuid.UUID) -> SegmentView:
    found = session.execute(
        text(
            "UPDATE marketing_segments SET estimated_size = marketing_segment_size(id),"
            " last_calculated_at = now() WHERE id = :id RETURNING id"
        ),
        {"id": segment_id},
    ).scalar()
    if found is None:
        raise NotFound("That segment does not exist.", field="segment_id")
    return _view(session.execute(text(_LIST.format(where="s.id = :id")), {"id": segment_id}).one())


def recalculate_segment(actor: Actor, segment_id: uuid.UUID) -> SegmentView:
    """Compute a segment's size now and store it. Raises NotFound, PermissionDenied without
    campaigns.manage."""
    with unit_of_work(actor) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        view = _recalculate(uow.session, segment_id)
        uow.commit()
    return view


def add_members(actor: Actor, segment_id: uuid.UUID, emails: list[str]) -> tuple[int, SegmentView]:
    """Add the accounts with these emails to a static segment (people marketing may not
    reach are left out); returns (how many were added, the segment with its new size).

    Raises ValidationError (not a static segment, no email given), NotFound,
    PermissionDenied without campaigns.manage.
    """
    cleaned = sorted({e.strip().lower() for e in emails if e.strip()})
    if not cleaned:
        raise ValidationError("Give at least one email address.", field="emails")
    with unit_of_work(actor) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        kind = uow.session.execute(
            text("SELECT segment_type FROM marketing_segments WHERE id = :id"), {"id": segment_id}
        ).scalar()
        if kind is None:
            raise NotFound("That segment does not exist.", field="segment_id")
        if kind == "dynamic":
            raise ValidationError(
                "A dynamic segment has no member list; change its filter instead.",
                field="segment_type",
            )
        added = uow.session.execute(
            text("SELECT marketing_segment_add_members(:s, :e)"), {"s": segment_id, "e": cleaned}
        ).scalar_one()
        view = _recalculate(uow.session, segment_id)
        uow.commit()
    return int(added), view
