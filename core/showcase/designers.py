"""Designer profiles: list, read, create, edit; the review workflow (pending → active or
rejected, active ⇄ inactive) and the verified and featured flags, which only admins set.

A person with the designer role has one profile of their own: they create it (it starts
pending) and edit it; row-level security and the designers_review_guard trigger stop them
from touching anyone else's or approving their own (migration 0009).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import null, text

from core.auth.audit import record_by_person
from core.auth.permissions import SHOWCASE_MANAGE, SHOWCASE_VIEW
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import Conflict, NotFound, ValidationError
from core.models.designers import DESIGNER_STATUSES, Designer
from core.showcase import inputs
from core.showcase.access import is_admin, my_designer_ids, require_admin, require_designer_access

# Where a profile may go next from each status (admins move it).
DESIGNER_MOVES: dict[str, tuple[str, ...]] = {
    "pending": ("active", "rejected"),
    "active": ("inactive",),
    "inactive": ("active",),
    "rejected": ("pending",),
}
SOCIAL_NETWORKS = ("instagram", "tiktok", "x", "facebook", "pinterest", "youtube", "linkedin")


@dataclass(frozen=True)
class DesignerDraft:
    """What a person fills in for a profile. `social` maps a network to a handle or link;
    `awards` and `press` are lists of {"name"/"outlet": ..., "year": ...}."""

    name: str
    brand_name: str | None = None
    specialty: str | None = None
    bio: str | None = None
    website_url: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    profile_image_url: str | None = None
    cover_image_url: str | None = None
    years_active: int | None = None
    city: str | None = None
    social: dict[str, str] = field(default_factory=dict)
    awards: tuple[dict[str, Any], ...] = ()
    press: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class DesignerRow:
    designer_id: uuid.UUID
    name: str
    slug: str
    brand_name: str | None
    specialty: str | None
    status: str
    is_verified: bool
    is_featured: bool
    collections: int
    published: int
    is_mine: bool
    updated_at: datetime


@dataclass(frozen=True)
class Collaboration:
    collaboration_id: uuid.UUID
    name: str
    status: str
    role: str | None
    partners: tuple[str, ...]


@dataclass(frozen=True)
class DesignerDetail:
    row: DesignerRow
    draft: DesignerDraft
    user_id: uuid.UUID | None
    collaborations: tuple[Collaboration, ...]
    can_edit: bool
    can_review: bool

    @property
    def next_statuses(self) -> tuple[str, ...]:
        return DESIGNER_MOVES.get(self.row.status, ()) if self.can_review else ()


_LIST = """
    SELECT d.id, d.name, d.slug, d.brand_name, d.specialty, d.status, d.is_verified,
           d.is_featured,
           (SELECT count(*) FROM collections c WHERE c.designer_id = d.id),
           (SELECT count(*) FROM collections c
             WHERE c.designer_id = d.id AND c.status = 'published'),
           d.id = ANY (CAST(:mine AS uuid[])), d.updated_at
      FROM designers d
     WHERE {where}
     ORDER BY d.is_featured DESC, d.name, d.id
     LIMIT :limit
"""


def _row(r: Any) -> DesignerRow:
    return DesignerRow(*r)


def list_designers(
    actor: Actor,
    *,
    search: str = "",
    status: str | None = None,
    featured_only: bool = False,
    mine_only: bool = False,
    limit: int = 500,
) -> tuple[DesignerRow, ...]:
    """Designers the actor can see (active ones, their own, all for admins), featured
    first, narrowed by a name/brand/specialty search, a status and flags.

    Raises PermissionDenied without showcase.view, ValidationError for an unknown status.
    """
    if status is not None:
        inputs.one_of(status, DESIGNER_STATUSES, "status")
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        mine = [str(d) for d in my_designer_ids(uow)]
        where, params = ["true"], {"mine": mine, "limit": limit}
        if search.strip():
            where.append(
                "(d.name ILIKE :pattern OR d.brand_name ILIKE :pattern"
                " OR d.specialty ILIKE :pattern)"
            )
            params["pattern"] = f"%{escape_like(search.strip())}%"
        if status:
            where.append("d.status = :status")
            params["status"] = status
        if featured_only:
            where.append("d.is_featured")
        if mine_only:
            where.append("d.id = ANY (CAST(:mine AS uuid[]))")
        rows = uow.session.execute(text(_LIST.format(where=" AND ".join(where))), params)
        return tuple(_row(r) for r in rows)


def get_designer(actor: Actor, designer_id: uuid.UUID) -> DesignerDetail:
    """One profile with its collaborations and what the actor may do with it.

    Raises PermissionDenied without showcase.view, NotFound when not visible.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        mine = [str(d) for d in my_designer_ids(uow)]
        found = uow.session.execute(
            text(_LIST.format(where="d.id = :id")), {"mine": mine, "limit": 1, "id": designer_id}
        ).first()
        designer = uow.session.get(Designer, designer_id)
        if found is None or designer is None:
            raise NotFound("This designer does not exist or is not visible to you.")
        admin = is_admin(uow)
        collaborations = uow.session.execute(
            text(
                """
                SELECT dc.id, dc.name, dc.status, p.role,
                       ARRAY(SELECT o.name FROM designer_collaboration_participants op
                               JOIN designers o ON o.id = op.designer_id
                              WHERE op.collaboration_id = dc.id AND op.designer_id <> :d
                              ORDER BY o.name)
                  FROM designer_collaboration_participants p
                  JOIN designer_collaborations dc ON dc.id = p.collaboration_id
                 WHERE p.designer_id = :d
                 ORDER BY dc.start_date DESC NULLS LAST, dc.name
                """
            ),
            {"d": designer_id},
        )
        can_manage = admin or (
            designer_id in my_designer_ids(uow)
            and bool(
                uow.session.execute(
                    text("SELECT app_has_permission(:p)"), {"p": SHOWCASE_MANAGE}
                ).scalar()
            )
        )
        return DesignerDetail(
            row=_row(found),
            draft=_draft_of(designer),
            user_id=designer.user_id,
            collaborations=tuple(
                Collaboration(c[0], c[1], c[2], c[3], tuple(c[4])) for c in collaborations
            ),
            can_edit=can_manage,
            can_review=admin,
        )


def _draft_of(d: Designer) -> DesignerDraft:
    return DesignerDraft(
        name=d.name,
        brand_name=d.brand_name,
        specialty=d.specialty,
        bio=d.bio,
        website_url=d.website_url,
        contact_email=d.contact_email,
        contact_phone=d.contact_phone,
        profile_image_url=d.profile_image_url,
        cover_image_url=d.cover_image_url,
        years_active=d.years_active,
        city=(d.location or {}).get("city"),
        social={str(k): str(v) for k, v in (d.social_media or {}).items()},
        awards=tuple(d.awards or ()),
        press=tuple(d.press_mentions or ()),
    )


def _clean(draft: DesignerDraft) -> dict[str, Any]:
    social: dict[str, str] = {}
    for network, handle in draft.social.items():
        cleaned = inputs.bounded(handle, "social_links", limit=200)
        if cleaned is None:
            continue
        if network not in SOCIAL_NETWORKS:
            raise ValidationError(
                f"social links: unknown network {network!r}; use one of"
                f" {', '.join(SOCIAL_NETWORKS)}",
                field="social_links",
            )
        social[network] = cleaned
    city = inputs.bounded(draft.city, "city", limit=100)
    return {
        "name": inputs.required(draft.name, "name"),
        "brand_name": inputs.bounded(draft.brand_name, "brand_name", limit=inputs.MAX_NAME),
        "specialty": inputs.bounded(draft.specialty, "specialty", limit=inputs.MAX_NAME),
        "bio": inputs.bounded(draft.bio, "bio"),
        "website_url": inputs.web_url(draft.website_url, "website_url"),
        "contact_email": inputs.email(draft.contact_email, "contact_email"),
        "contact_phone": inputs.bounded(draft.contact_phone, "contact_phone", limit=40),
        "profile_image_url": inputs.web_url(draft.profile_image_url, "profile_image_url"),
        "cover_image_url": inputs.web_url(draft.cover_image_url, "cover_image_url"),
        "years_active": inputs.whole_number(draft.years_active, "years_active", high=100),
        "location": {"city": city} if city else null(),
        "social_media": social,
        "awards": list(draft.awards),
        "press_mentions": list(draft.press),
    }


def create_designer(
    actor: Actor, draft: DesignerDraft, *, for_user: uuid.UUID | None = None
) -> uuid.UUID:
    """Create a designer profile, pending review. A designer creates their own (one per
    person); an admin may create one for any account (`for_user`) or none.

    Raises PermissionDenied without showcase.manage, ValidationError for bad input,
    Conflict when the person already has a profile.
    """
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        uow.require(SHOWCASE_MANAGE)
        admin = is_admin(uow)
        owner = for_user if admin else actor.user_id
        if not admin and for_user not in (None, actor.user_id):
            raise ValidationError("you can only create your own designer profile", field="for_user")
        if owner is not None:
            taken = uow.session.execute(
                text("SELECT 1 FROM designers WHERE user_id = :u"), {"u": owner}
            ).scalar()
            if taken:
                raise Conflict("This person already has a designer profile.", field="for_user")
        designer = Designer(user_id=owner, status="pending", **values)
        uow.session.add(designer)
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.designer.created", designer.id,
            new={"name": designer.name}, table="designers",
        )  # fmt: skip
        uow.commit()
        return designer.id


def update_designer(actor: Actor, designer_id: uuid.UUID, draft: DesignerDraft) -> None:
    """Save a profile's fields (not its status or flags). Own profile, or any as admin.

    Raises PermissionDenied for someone else's, NotFound, ValidationError.
    """
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        require_designer_access(uow, designer_id)
        designer = uow.session.get(Designer, designer_id)
        if designer is None:
            raise NotFound("This designer does not exist or is not visible to you.")
        before = {k: getattr(designer, k) for k in ("name", "brand_name", "specialty")}
        for key, value in values.items():
            setattr(designer, key, value)
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.designer.updated", designer_id,
            old=before, new={k: values[k] for k in before}, table="designers",
        )  # fmt: skip
        uow.commit()


def set_designer_status(actor: Actor, designer_id: uuid.UUID, status: str) -> None:
    """Move a profile along the review workflow (DESIGNER_MOVES). Admins only.

    Raises PermissionDenied, NotFound, ValidationError for a move the workflow lacks.
    """
    with unit_of_work(actor) as uow:
        uow.require(SHOWCASE_MANAGE)
        require_admin(uow, "review designer profiles")
        designer = uow.session.get(Designer, designer_id, with_for_update=True)
        if designer is None:
            raise NotFound("This designer does not exist.")
        allowed = DESIGNER_MOVES.get(designer.status, ())
        if status not in allowed:
            raise ValidationError(
                f"status: a {designer.status} profile can become"
                f" {' or '.join(allowed) or 'nothing else'}, not {status}",
                field="status",
            )
        old = designer.status
        designer.status = status
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.designer.status_changed", designer_id,
            old={"status": old}, new={"status": status}, table="designers",
        )  # fmt: skip
        uow.commit()


def set_designer_flags(
    actor: Actor, designer_id: uuid.UUID, *, verified: bool, featured: bool
) -> None:
    """Set the verified and featured flags. Admins only; only an active profile can be
    featured.

    Raises PermissionDenied, NotFound, ValidationError.
    """
    with unit_of_work(actor) as uow:
        uow.require(SHOWCASE_MANAGE)
        require_admin(uow, "verify or feature designers")
        designer = uow.session.get(Designer, designer_id)
        if designer is None:
            raise NotFound("This designer does not exist.")
        if featured and designer.status != "active":
            raise ValidationError(
                "featured: only an active designer can be featured", field="is_featured"
            )
        old = {"is_verified": designer.is_verified, "is_featured": designer.is_featured}
        designer.is_verified, designer.is_featured = verified, featured
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.designer.flags_changed", designer_id,
            old=old, new={"is_verified": verified, "is_featured": featured}, table="designers",
        )  # fmt: skip
        uow.commit()


def designer_choices(actor: Actor, *, manageable: bool) -> tuple[tuple[uuid.UUID, str], ...]:
    """(id, "name · brand") of the designers the actor can see, or, with `manageable`, of
    those they may change (their own; every one for admins)."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        where = "true"
        params: dict[str, Any] = {}
        if manageable and not is_admin(uow):
            where = "id = ANY (CAST(:mine AS uuid[]))"
            params["mine"] = [str(d) for d in my_designer_ids(uow)]
        rows = uow.session.execute(
            text(
                f"SELECT id, name || coalesce(' · ' || brand_name, '') FROM designers"
                f" WHERE {where} ORDER BY name, id"
            ),
            params,
        )
        return tuple((r[0], r[1]) for r in rows)
