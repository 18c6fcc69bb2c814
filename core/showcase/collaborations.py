"""Collaborations between designers, each participant with a role (lead, co-designer …).

Row-level security (migration 0009): anyone signed in reads them; a participating
designer or an admin changes them; a designer starts one by joining it with their own
profile as lead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from core.auth.audit import record_by_person
from core.auth.permissions import SHOWCASE_VIEW
from core.db import Actor, unit_of_work
from core.errors import NotFound, PermissionDenied, ValidationError
from core.models.designers import (
    COLLABORATION_STATUSES,
    DesignerCollaboration,
    DesignerCollaborationParticipant,
)
from core.showcase import inputs
from core.showcase.access import is_admin, my_designer_ids, require_designer_access


@dataclass(frozen=True)
class CollaborationRow:
    collaboration_id: uuid.UUID
    name: str
    description: str | None
    status: str
    start_date: datetime | None
    end_date: datetime | None
    participants: tuple[str, ...]  # "Name (role)"
    is_mine: bool


def list_collaborations(
    actor: Actor, *, designer_id: uuid.UUID | None = None, status: str | None = None
) -> tuple[CollaborationRow, ...]:
    """Collaborations, latest start first, optionally of one designer or one status.

    Raises PermissionDenied without showcase.view."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        mine = [str(d) for d in my_designer_ids(uow)]
        rows = uow.session.execute(
            text(
                """
                SELECT dc.id, dc.name, dc.description, dc.status, dc.start_date, dc.end_date,
                       ARRAY(SELECT coalesce(d.name, 'a designer not shown to you')
                                    || coalesce(' (' || p.role || ')', '')
                               FROM designer_collaboration_participants p
                               LEFT JOIN designers d ON d.id = p.designer_id
                              WHERE p.collaboration_id = dc.id
                              ORDER BY p.role IS DISTINCT FROM 'lead', d.name),
                       EXISTS (SELECT 1 FROM designer_collaboration_participants p
                                WHERE p.collaboration_id = dc.id
                                  AND p.designer_id = ANY (CAST(:mine AS uuid[])))
                  FROM designer_collaborations dc
                 WHERE (CAST(:designer AS uuid) IS NULL OR EXISTS (
                          SELECT 1 FROM designer_collaboration_participants p
                           WHERE p.collaboration_id = dc.id AND p.designer_id = :designer))
                   AND (CAST(:status AS text) IS NULL OR dc.status = :status)
                 ORDER BY dc.start_date DESC NULLS LAST, dc.name
                """
            ),
            {"mine": mine, "designer": designer_id, "status": status},
        )
        return tuple(
            CollaborationRow(r[0], r[1], r[2], r[3], r[4], r[5], tuple(r[6]), r[7]) for r in rows
        )


def create_collaboration(
    actor: Actor,
    *,
    name: str,
    lead_designer_id: uuid.UUID,
    partners: tuple[tuple[uuid.UUID, str], ...],
    description: str | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    status: str = "planned",
) -> uuid.UUID:
    """Start a collaboration led by a designer the actor manages, with partner designers
    and their roles.

    Raises PermissionDenied, NotFound, ValidationError (no partner, the lead among the
    partners, dates, status)."""
    cleaned = inputs.required(name, "name")
    inputs.one_of(status, COLLABORATION_STATUSES, "status")
    if not partners:
        raise ValidationError("partners: choose at least one other designer", field="partners")
    if lead_designer_id in {p for p, _ in partners}:
        raise ValidationError("partners: the lead designer is already part of it", field="partners")
    if start_date and end_date and end_date < start_date:
        raise ValidationError("end date cannot be before the start date", field="end_date")
    with unit_of_work(actor) as uow:
        require_designer_access(uow, lead_designer_id)
        collaboration = DesignerCollaboration(
            name=cleaned,
            description=inputs.bounded(description, "description"),
            start_date=start_date,
            end_date=end_date,
            status=status,
        )
        uow.session.add(collaboration)
        uow.session.flush()
        # The lead first: the policy lets the others in once one of the actor's profiles
        # takes part.
        uow.session.add(
            DesignerCollaborationParticipant(
                collaboration_id=collaboration.id, designer_id=lead_designer_id, role="lead"
            )
        )
        uow.session.flush()
        for designer_id, role in partners:
            uow.session.add(
                DesignerCollaborationParticipant(
                    collaboration_id=collaboration.id,
                    designer_id=designer_id,
                    role=inputs.bounded(role, "role", limit=60) or "co-designer",
                )
            )
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.collaboration.created", collaboration.id,
            new={"name": cleaned}, table="designer_collaborations",
        )  # fmt: skip
        uow.commit()
        return collaboration.id


def set_collaboration_status(actor: Actor, collaboration_id: uuid.UUID, status: str) -> None:
    """Change a collaboration's status: a participating designer or an admin.

    Raises PermissionDenied, NotFound, ValidationError."""
    inputs.one_of(status, COLLABORATION_STATUSES, "status")
    with unit_of_work(actor) as uow:
        uow.require(SHOWCASE_VIEW)
        collaboration = uow.session.get(DesignerCollaboration, collaboration_id)
        if collaboration is None:
            raise NotFound("This collaboration does not exist.")
        mine = my_designer_ids(uow)
        taking_part = uow.session.execute(
            text(
                "SELECT 1 FROM designer_collaboration_participants WHERE collaboration_id = :c"
                " AND designer_id = ANY (CAST(:mine AS uuid[]))"
            ),
            {"c": collaboration_id, "mine": [str(d) for d in mine]},
        ).scalar()
        if not (taking_part or is_admin(uow)):
            raise PermissionDenied("Only its designers or an admin can change a collaboration.")
        old, collaboration.status = collaboration.status, status
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.collaboration.status_changed", collaboration_id,
            old={"status": old}, new={"status": status}, table="designer_collaborations",
        )  # fmt: skip
        uow.commit()
