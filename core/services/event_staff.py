"""Who works which event: staff assignments, and the sales access they give.

A staff person sells at the box office and sees the orders, holds and seats of the events
they are assigned to; an organizer those of the events they organise; an admin every
event's. The database enforces it (migration 0013: `app_my_event_ids()` in the policies of
orders, their items, payments, refunds, holds and event seats); `require_sale_access`
says it first, in words, before a sale or a list is attempted.

An event's organizer and admins assign and remove its staff (row-level security on
`event_staff` refuses anyone else; the audit trigger records every change). Staff are
chosen among active accounts with the staff role, listed with their names by
`event_staff_directory` because the users policy shows an organizer only their own row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import EVENTS_MANAGE
from core.db import Actor, require_transaction, unit_of_work
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError


@dataclass(frozen=True)
class StaffPerson:
    user_id: uuid.UUID
    name: str
    email: str
    # When they were assigned to the event; None for someone who could be.
    assigned_at: datetime | None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.email})"


@dataclass(frozen=True)
class EventStaffing:
    """An event's staff, and the staff people who could still be assigned to it."""

    event_id: uuid.UUID
    event_title: str
    assigned: tuple[StaffPerson, ...]
    available: tuple[StaffPerson, ...]


def sale_event_ids(session: Session) -> frozenset[uuid.UUID]:
    """The events whose sales the session's actor may work on: organised, worked, or
    every event for an admin (the set the policies use)."""
    require_transaction(session)
    ids = session.execute(text("SELECT app_my_event_ids()")).scalar_one()
    return frozenset(ids or ())


def require_sale_access(session: Session, actor: Actor, event_id: uuid.UUID) -> str:
    """The event's title, when the actor may sell for it and see its orders: its
    organizer, staff assigned to it, an admin, or a system actor (on the owner connection,
    where no policy applies). Raises NotFound (no such event, or one the actor cannot
    see) and PermissionDenied naming the event."""
    require_transaction(session)
    row = session.execute(
        text("SELECT title, id = ANY(app_my_event_ids()) FROM events WHERE id = :e"),
        {"e": event_id},
    ).first()
    if row is None:
        raise NotFound("That event does not exist.", field="event_id")
    title, allowed = row
    if not (allowed or actor.is_system):
        raise PermissionDenied(
            f"You sell for and see the orders of only the events you organise or work;"
            f" ask the organizer of {title} to add you to its staff.",
            field="event_id",
        )
    return title


def _event_for_staffing(session: Session, actor: Actor, event_id: uuid.UUID) -> str:
    row = session.execute(
        text(
            "SELECT title, organizer_id = CAST(:me AS uuid) OR app_has_role('admin')"
            " FROM events WHERE id = :e"
        ),
        {"e": event_id, "me": actor.user_id},
    ).first()
    if row is None:
        raise NotFound("That event does not exist.", field="event_id")
    title, allowed = row
    if not allowed:
        raise PermissionDenied(
            f"Only the organizer of {title} or an admin assigns its staff.", field="event_id"
        )
    return title


def _directory(session: Session, event_id: uuid.UUID) -> list[tuple[StaffPerson, bool]]:
    rows = session.execute(text("SELECT * FROM event_staff_directory(:e)"), {"e": event_id}).all()
    return [(StaffPerson(r[0], r[1], r[2], r[4]), bool(r[3])) for r in rows]


def get_event_staff(actor: Actor, event_id: uuid.UUID) -> EventStaffing:
    """The event's assigned staff (by name) and the staff people not yet assigned.

    Raises NotFound, PermissionDenied (events.manage, and the event's organizer or an
    admin)."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        title = _event_for_staffing(uow.session, actor, event_id)
        people = _directory(uow.session, event_id)
    return EventStaffing(
        event_id,
        title,
        tuple(p for p, assigned in people if assigned),
        tuple(p for p, assigned in people if not assigned),
    )


def assign_staff(actor: Actor, event_id: uuid.UUID, user_id: uuid.UUID) -> StaffPerson:
    """Assign a staff person to the event: from now on they sell at its box office and
    see its orders. Returns them as assigned.

    Raises ValidationError (not an active staff person), Conflict (already assigned),
    NotFound, PermissionDenied (events.manage, and the event's organizer or an admin).
    """
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        title = _event_for_staffing(session, actor, event_id)
        found = {p.user_id: (p, assigned) for p, assigned in _directory(session, event_id)}
        if user_id not in found:
            raise ValidationError("Choose an active person with the staff role.", field="user_id")
        person, assigned = found[user_id]
        if assigned:
            raise Conflict(f"{person.name} already works {title}.", field="user_id")
        assigned_at = session.execute(
            text(
                "INSERT INTO event_staff (event_id, user_id, assigned_by)"
                " VALUES (:e, :u, :by) RETURNING created_at"
            ),
            {"e": event_id, "u": user_id, "by": actor.user_id},
        ).scalar_one()
        uow.commit()
    return StaffPerson(person.user_id, person.name, person.email, assigned_at)


def remove_staff(actor: Actor, event_id: uuid.UUID, user_id: uuid.UUID) -> StaffPerson:
    """Take a person off the event's staff: they no longer sell for it or see its
    orders (holds they made stay until they expire). Returns them as they were assigned.

    Raises NotFound (the event, or they are not on its staff), PermissionDenied
    (events.manage, and the event's organizer or an admin).
    """
    with unit_of_work(actor) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        title = _event_for_staffing(session, actor, event_id)
        assigned = {p.user_id: p for p, on in _directory(session, event_id) if on}
        removed = session.execute(
            text("DELETE FROM event_staff WHERE event_id = :e AND user_id = :u"),
            {"e": event_id, "u": user_id},
        ).rowcount
        if not removed or user_id not in assigned:
            raise NotFound(f"That person is not on the staff of {title}.", field="user_id")
        uow.commit()
    return assigned[user_id]
