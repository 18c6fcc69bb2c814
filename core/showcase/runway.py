"""Runway shows: a collection shown at an event and venue, its segments (order, theme,
music, lighting) and appearances (which model wears which piece in which slot), and the
running order a stage manager prints.

No two segments of a show, and no two appearances of a segment, share a slot: UNIQUE
(runway_show_id, segment_order) and UNIQUE (runway_segment_id, appearance_order) in the
database. Reordering renumbers a whole list 1..n in two steps (first out of the way, then
into place), so no intermediate state breaks those constraints.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from core.auth.audit import record_by_person
from core.auth.permissions import SHOWCASE_VIEW
from core.db import Actor, UnitOfWork, unit_of_work
from core.errors import NotFound, ValidationError
from core.models.designers import (
    RUNWAY_SHOW_STATUSES,
    FashionModel,
    RunwayAppearance,
    RunwaySegment,
    RunwayShow,
)
from core.showcase import inputs
from core.showcase.access import is_admin, my_designer_ids, require_collection_access

OUT_OF_THE_WAY = 100_000
SHOW_MOVES: dict[str, tuple[str, ...]] = {
    "scheduled": ("in_progress", "cancelled"),
    "in_progress": ("completed", "cancelled"),
    "completed": (),
    "cancelled": ("scheduled",),
}


@dataclass(frozen=True)
class ShowDraft:
    collection_id: uuid.UUID
    event_id: uuid.UUID
    show_date: datetime
    duration_minutes: int | None = None
    capacity: int | None = None
    venue_id: uuid.UUID | None = None  # None: the event's venue
    notes: str | None = None


@dataclass(frozen=True)
class SegmentDraft:
    name: str
    theme: str | None = None
    music: str | None = None
    lighting_notes: str | None = None
    duration_minutes: int | None = None
    description: str | None = None


@dataclass(frozen=True)
class ShowRow:
    show_id: uuid.UUID
    collection_id: uuid.UUID
    collection_name: str
    designer_name: str
    event_title: str
    venue_name: str
    show_date: datetime
    duration_minutes: int | None
    status: str
    segments: int
    appearances: int
    is_mine: bool


@dataclass(frozen=True)
class Look:
    appearance_id: uuid.UUID
    slot: int  # within the segment
    look: int  # across the show
    model_id: uuid.UUID
    model_name: str
    agency: str | None
    item_id: uuid.UUID | None
    item_name: str | None
    notes: str | None


@dataclass(frozen=True)
class Segment:
    segment_id: uuid.UUID
    order: int
    name: str
    theme: str | None
    music: str | None
    lighting_notes: str | None
    duration_minutes: int | None
    starts_at: datetime | None
    looks: tuple[Look, ...] = field(default=())


@dataclass(frozen=True)
class RunningOrder:
    show: ShowRow
    venue_address: str | None
    notes: str | None
    segments: tuple[Segment, ...]
    can_edit: bool

    @property
    def next_statuses(self) -> tuple[str, ...]:
        return SHOW_MOVES.get(self.show.status, ()) if self.can_edit else ()


_SHOWS = """
    SELECT r.id, r.collection_id, c.name, coalesce(d.name, '—'), coalesce(e.title, '—'),
           coalesce(v.name, '—'), r.show_date, r.duration_minutes, r.status,
           (SELECT count(*) FROM runway_segments s WHERE s.runway_show_id = r.id),
           (SELECT count(*) FROM runway_appearances a JOIN runway_segments s
                ON s.id = a.runway_segment_id WHERE s.runway_show_id = r.id),
           c.designer_id = ANY (CAST(:mine AS uuid[]))
      FROM runway_shows r
      JOIN collections c ON c.id = r.collection_id
      LEFT JOIN designers d ON d.id = c.designer_id
      LEFT JOIN events e ON e.id = r.event_id
      LEFT JOIN venues v ON v.id = r.venue_id
     WHERE {where}
     ORDER BY r.show_date DESC, r.id
     LIMIT :limit
"""


def list_shows(
    actor: Actor,
    *,
    collection_id: uuid.UUID | None = None,
    status: str | None = None,
    upcoming_only: bool = False,
    mine_only: bool = False,
    limit: int = 500,
) -> tuple[ShowRow, ...]:
    """Shows of the collections the actor can see, latest first.

    Raises PermissionDenied without showcase.view, ValidationError for an unknown status.
    """
    if status is not None:
        inputs.one_of(status, RUNWAY_SHOW_STATUSES, "status")
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        mine = [str(d) for d in my_designer_ids(uow)]
        where, params = ["true"], {"mine": mine, "limit": limit}
        if collection_id is not None:
            where.append("r.collection_id = :c")
            params["c"] = collection_id
        if status:
            where.append("r.status = :status")
            params["status"] = status
        if upcoming_only:
            where.append("r.show_date >= now()")
        if mine_only:
            where.append("c.designer_id = ANY (CAST(:mine AS uuid[]))")
        rows = uow.session.execute(text(_SHOWS.format(where=" AND ".join(where))), params)
        return tuple(ShowRow(*r) for r in rows)


def _show_for_change(uow: UnitOfWork, show_id: uuid.UUID) -> RunwayShow:
    show = uow.session.get(RunwayShow, show_id)
    if show is None:
        raise NotFound("This runway show does not exist or is not visible to you.")
    require_collection_access(uow, show.collection_id)
    return show


def create_show(actor: Actor, draft: ShowDraft) -> uuid.UUID:
    """Schedule a show of a collection the actor may change, at an event (and its venue
    unless another is given).

    Raises PermissionDenied, NotFound, ValidationError.
    """
    duration = inputs.whole_number(draft.duration_minutes, "duration_minutes", low=1, high=600)
    capacity = inputs.whole_number(draft.capacity, "capacity", high=1_000_000)
    notes = inputs.bounded(draft.notes, "notes")
    with unit_of_work(actor) as uow:
        require_collection_access(uow, draft.collection_id)
        event = uow.session.execute(
            text("SELECT venue_id, status FROM events WHERE id = :e"), {"e": draft.event_id}
        ).first()
        if event is None:
            raise ValidationError("event: choose an event you can see", field="event_id")
        venue_id = draft.venue_id or event[0]
        if venue_id is None:
            raise ValidationError(
                "venue: the event has no venue; choose one for the show", field="venue_id"
            )
        show = RunwayShow(
            collection_id=draft.collection_id,
            event_id=draft.event_id,
            venue_id=venue_id,
            show_date=draft.show_date,
            duration_minutes=duration,
            capacity=capacity,
            notes=notes,
            status="scheduled",
        )
        uow.session.add(show)
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.show.created", show.id,
            new={"collection_id": str(draft.collection_id), "event_id": str(draft.event_id)},
            table="runway_shows",
        )  # fmt: skip
        uow.commit()
        return show.id


def set_show_status(actor: Actor, show_id: uuid.UUID, status: str) -> None:
    """Start, complete, cancel or reschedule a show (SHOW_MOVES).

    Raises PermissionDenied, NotFound, ValidationError.
    """
    with unit_of_work(actor) as uow:
        show = _show_for_change(uow, show_id)
        allowed = SHOW_MOVES.get(show.status, ())
        if status not in allowed:
            raise ValidationError(
                f"status: a {show.status} show can become"
                f" {' or '.join(allowed) or 'nothing else'}, not {status}",
                field="status",
            )
        old, show.status = show.status, status
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.show.status_changed", show_id,
            old={"status": old}, new={"status": status}, table="runway_shows",
        )  # fmt: skip
        uow.commit()


def _renumber(uow: UnitOfWork, table: str, parent: str, parent_id: uuid.UUID,
              order: str, ids: list[uuid.UUID]) -> None:  # fmt: skip
    """Give `ids` (every row of the parent) the orders 1..n, without ever letting two rows
    share an order: first move all out of the way, then into place."""
    uow.session.execute(
        text(f"UPDATE {table} SET {order} = {order} + :away WHERE {parent} = :p"),
        {"away": OUT_OF_THE_WAY, "p": parent_id},
    )
    uow.session.execute(
        text(
            f"UPDATE {table} t SET {order} = v.n FROM unnest(CAST(:ids AS uuid[]))"
            f" WITH ORDINALITY AS v(id, n) WHERE t.id = v.id"
        ),
        {"ids": [str(i) for i in ids]},
    )


def add_segment(actor: Actor, show_id: uuid.UUID, draft: SegmentDraft) -> uuid.UUID:
    """Add a segment at the end of a show's running order.

    Raises PermissionDenied, NotFound, ValidationError.
    """
    values = {
        "name": inputs.required(draft.name, "name"),
        "theme": inputs.bounded(draft.theme, "theme", limit=200),
        "music": inputs.bounded(draft.music, "music", limit=500),
        "lighting_notes": inputs.bounded(draft.lighting_notes, "lighting_notes", limit=1000),
        "duration_minutes": inputs.whole_number(
            draft.duration_minutes, "duration_minutes", low=1, high=600
        ),
        "description": inputs.bounded(draft.description, "description"),
    }
    with unit_of_work(actor) as uow:
        _show_for_change(uow, show_id)
        # The show's row lock makes two people adding at once take slots one by one.
        uow.session.execute(
            text("SELECT 1 FROM runway_shows WHERE id = :s FOR UPDATE"), {"s": show_id}
        )
        last = uow.session.execute(
            text("SELECT max(segment_order) FROM runway_segments WHERE runway_show_id = :s"),
            {"s": show_id},
        ).scalar()
        segment = RunwaySegment(runway_show_id=show_id, segment_order=(last or 0) + 1, **values)
        uow.session.add(segment)
        uow.session.flush()
        uow.commit()
        return segment.id


def move_segment(actor: Actor, segment_id: uuid.UUID, step: int) -> None:
    """Move a segment one place earlier (-1) or later (+1). Raises PermissionDenied,
    NotFound."""
    with unit_of_work(actor) as uow:
        segment = uow.session.get(RunwaySegment, segment_id)
        if segment is None:
            raise NotFound("This segment does not exist or is not visible to you.")
        _show_for_change(uow, segment.runway_show_id)
        ids = list(
            uow.session.execute(
                text(
                    "SELECT id FROM runway_segments WHERE runway_show_id = :s"
                    " ORDER BY segment_order FOR UPDATE"
                ),
                {"s": segment.runway_show_id},
            ).scalars()
        )
        _move(ids, segment_id, step)
        _renumber(uow, "runway_segments", "runway_show_id", segment.runway_show_id,
                  "segment_order", ids)  # fmt: skip
        uow.commit()


def delete_segment(actor: Actor, segment_id: uuid.UUID) -> None:
    """Delete a segment with its appearances; later segments move up.

    Raises PermissionDenied, NotFound."""
    with unit_of_work(actor) as uow:
        segment = uow.session.get(RunwaySegment, segment_id)
        if segment is None:
            raise NotFound("This segment does not exist or is not visible to you.")
        show_id = segment.runway_show_id
        _show_for_change(uow, show_id)
        uow.session.execute(text("DELETE FROM runway_segments WHERE id = :s"), {"s": segment_id})
        uow.session.expunge(segment)
        ids = list(
            uow.session.execute(
                text(
                    "SELECT id FROM runway_segments WHERE runway_show_id = :s"
                    " ORDER BY segment_order FOR UPDATE"
                ),
                {"s": show_id},
            ).scalars()
        )
        _renumber(uow, "runway_segments", "runway_show_id", show_id, "segment_order", ids)
        uow.commit()


def _move(ids: list[uuid.UUID], target: uuid.UUID, step: int) -> None:
    at = ids.index(target)
    to = max(0, min(len(ids) - 1, at + (1 if step > 0 else -1)))
    ids.insert(to, ids.pop(at))


def add_appearance(
    actor: Actor,
    segment_id: uuid.UUID,
    model_id: uuid.UUID,
    item_id: uuid.UUID | None,
    notes: str | None = None,
) -> uuid.UUID:
    """Add a look at the end of a segment: `model_id` wears piece `item_id` (one of the
    show's collection, or none).

    Raises PermissionDenied, NotFound, ValidationError (model, fashion_item_id).
    """
    cleaned = inputs.bounded(notes, "notes", limit=1000)
    with unit_of_work(actor) as uow:
        segment = uow.session.get(RunwaySegment, segment_id)
        if segment is None:
            raise NotFound("This segment does not exist or is not visible to you.")
        show = _show_for_change(uow, segment.runway_show_id)
        model = uow.session.get(FashionModel, model_id)
        if model is None or model.status != "active":
            raise ValidationError("model: choose an active model", field="model_id")
        if item_id is not None:
            belongs = uow.session.execute(
                text("SELECT 1 FROM fashion_items WHERE id = :i AND collection_id = :c"),
                {"i": item_id, "c": show.collection_id},
            ).scalar()
            if not belongs:
                raise ValidationError(
                    "piece: choose a piece of the collection this show presents",
                    field="fashion_item_id",
                )
        uow.session.execute(
            text("SELECT 1 FROM runway_segments WHERE id = :s FOR UPDATE"), {"s": segment_id}
        )
        last = uow.session.execute(
            text(
                "SELECT max(appearance_order) FROM runway_appearances WHERE runway_segment_id = :s"
            ),
            {"s": segment_id},
        ).scalar()
        appearance = RunwayAppearance(
            runway_segment_id=segment_id,
            model_id=model_id,
            fashion_item_id=item_id,
            appearance_order=(last or 0) + 1,
            notes=cleaned,
        )
        uow.session.add(appearance)
        uow.session.flush()
        uow.commit()
        return appearance.id


def _appearance_for_change(
    uow: UnitOfWork, appearance_id: uuid.UUID
) -> tuple[RunwayAppearance, RunwaySegment]:
    """The look and its segment, once the actor may change the show they belong to."""
    appearance = uow.session.get(RunwayAppearance, appearance_id)
    if appearance is None:
        raise NotFound("This appearance does not exist or is not visible to you.")
    segment = uow.session.get(RunwaySegment, appearance.runway_segment_id)
    assert segment is not None
    _show_for_change(uow, segment.runway_show_id)
    return appearance, segment


def move_appearance(actor: Actor, appearance_id: uuid.UUID, step: int) -> None:
    """Move a look one slot earlier (-1) or later (+1) in its segment.

    Raises PermissionDenied, NotFound."""
    with unit_of_work(actor) as uow:
        _, segment = _appearance_for_change(uow, appearance_id)
        ids = _appearance_ids(uow, segment.id)
        _move(ids, appearance_id, step)
        _renumber(uow, "runway_appearances", "runway_segment_id", segment.id,
                  "appearance_order", ids)  # fmt: skip
        uow.commit()


def delete_appearance(actor: Actor, appearance_id: uuid.UUID) -> None:
    """Remove a look; later looks of the segment move up. Raises PermissionDenied,
    NotFound."""
    with unit_of_work(actor) as uow:
        appearance, segment = _appearance_for_change(uow, appearance_id)
        uow.session.execute(
            text("DELETE FROM runway_appearances WHERE id = :a"), {"a": appearance_id}
        )
        uow.session.expunge(appearance)
        ids = _appearance_ids(uow, segment.id)
        _renumber(uow, "runway_appearances", "runway_segment_id", segment.id,
                  "appearance_order", ids)  # fmt: skip
        uow.commit()


def _appearance_ids(uow: UnitOfWork, segment_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        uow.session.execute(
            text(
                "SELECT id FROM runway_appearances WHERE runway_segment_id = :s"
                " ORDER BY appearance_order FOR UPDATE"
            ),
            {"s": segment_id},
        ).scalars()
    )


def running_order(actor: Actor, show_id: uuid.UUID) -> RunningOrder:
    """A show's segments in order, each with its looks (model, agency, piece, notes), looks
    numbered across the show, and each segment's start time.

    Raises PermissionDenied without showcase.view, NotFound when not visible.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        mine = my_designer_ids(uow)
        found = uow.session.execute(
            text(_SHOWS.format(where="r.id = :id")),
            {"mine": [str(d) for d in mine], "limit": 1, "id": show_id},
        ).first()
        if found is None:
            raise NotFound("This runway show does not exist or is not visible to you.")
        show = ShowRow(*found)
        extra = uow.session.execute(
            text(
                "SELECT v.address, r.notes FROM runway_shows r"
                " LEFT JOIN venues v ON v.id = r.venue_id WHERE r.id = :id"
            ),
            {"id": show_id},
        ).one()
        segments = uow.session.execute(
            text(
                "SELECT id, segment_order, name, theme, music, lighting_notes,"
                " duration_minutes, start_time FROM runway_segments"
                " WHERE runway_show_id = :s ORDER BY segment_order"
            ),
            {"s": show_id},
        ).all()
        looks = uow.session.execute(
            text(
                """
                SELECT a.runway_segment_id, a.id, a.appearance_order, m.id, m.name, m.agency,
                       fi.id, fi.name, a.notes
                  FROM runway_appearances a
                  JOIN runway_segments s ON s.id = a.runway_segment_id
                  JOIN models m ON m.id = a.model_id
                  LEFT JOIN fashion_items fi ON fi.id = a.fashion_item_id
                 WHERE s.runway_show_id = :s
                 ORDER BY s.segment_order, a.appearance_order
                """
            ),
            {"s": show_id},
        ).all()
        can_edit = is_admin(uow) or show.is_mine
    by_segment: dict[uuid.UUID, list[Any]] = {}
    for row in looks:
        by_segment.setdefault(row[0], []).append(row)
    built, number, clock = [], 0, show.show_date
    for s in segments:
        segment_looks = []
        for row in by_segment.get(s[0], []):
            number += 1
            segment_looks.append(Look(row[1], row[2], number, *row[3:]))
        starts = s[7] or clock
        built.append(Segment(*s[:7], starts_at=starts, looks=tuple(segment_looks)))
        clock = starts + timedelta(minutes=s[6] or 0)
    return RunningOrder(show, extra[0], extra[1], tuple(built), can_edit)
