"""Model profiles: agency, height, measurements, and the shows they walked in.

Anyone signed in with showcase.view reads them (designers cast from them); admins create
and edit them, and a model with an account may edit their own (row-level security,
migration 0009).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import null, text

from core.auth.audit import record_by_person
from core.auth.permissions import SHOWCASE_VIEW
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import NotFound, PermissionDenied, ValidationError
from core.models.designers import MODEL_STATUSES, FashionModel
from core.showcase import inputs
from core.showcase.access import is_admin

MEASUREMENTS = ("height_cm", "bust_cm", "waist_cm", "hips_cm", "shoe_eu")


@dataclass(frozen=True)
class ModelDraft:
    name: str
    agency: str | None = None
    bio: str | None = None
    portfolio_url: str | None = None
    profile_image_url: str | None = None
    instagram: str | None = None
    measurements: dict[str, int] = field(default_factory=dict)
    status: str = "active"
    is_featured: bool = False


@dataclass(frozen=True)
class ModelRow:
    model_id: uuid.UUID
    name: str
    agency: str | None
    height: str | None
    measurements: dict[str, Any]
    status: str
    is_featured: bool
    appearances: int
    shows: int
    last_show: datetime | None
    user_id: uuid.UUID | None


@dataclass(frozen=True)
class ModelAppearance:
    show_date: datetime
    collection_name: str
    segment_name: str
    item_name: str | None


# The looks are counted once for all models (a grouped pass over the appearances the
# reader may see), not per model: per-model sub-selects ran the policies' chain again for
# each of the large demo's 1,500 models (1.5 s).
_LIST = """
    WITH walked AS (
        SELECT a.model_id, count(*) AS looks, count(DISTINCT s.runway_show_id) AS shows,
               max(r.show_date) AS last_show
          FROM runway_appearances a
          JOIN runway_segments s ON s.id = a.runway_segment_id
          JOIN runway_shows r ON r.id = s.runway_show_id
         GROUP BY a.model_id
    )
    SELECT m.id, m.name, m.agency, m.height,
           CASE WHEN jsonb_typeof(m.measurements) = 'object' THEN m.measurements
                ELSE '{{}}' END, m.status,
           m.is_featured, coalesce(w.looks, 0), coalesce(w.shows, 0), w.last_show, m.user_id
      FROM models m LEFT JOIN walked w ON w.model_id = m.id
     WHERE {where}
     ORDER BY m.is_featured DESC, m.name, m.id
     LIMIT :limit
"""


def list_models(
    actor: Actor,
    *,
    search: str = "",
    agency: str | None = None,
    status: str | None = None,
    limit: int = 1000,
) -> tuple[ModelRow, ...]:
    """Models, featured first, narrowed by a name search, agency and status; with how
    many looks and shows each walked (those the actor can see).

    Raises PermissionDenied without showcase.view, ValidationError for an unknown status.
    """
    if status is not None:
        inputs.one_of(status, MODEL_STATUSES, "status")
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        where, params = ["true"], {"limit": limit}
        if search.strip():
            where.append("(m.name ILIKE :p OR m.agency ILIKE :p)")
            params["p"] = f"%{escape_like(search.strip())}%"
        if agency:
            where.append("m.agency = :agency")
            params["agency"] = agency
        if status:
            where.append("m.status = :status")
            params["status"] = status
        rows = uow.session.execute(text(_LIST.format(where=" AND ".join(where))), params)
        return tuple(ModelRow(*r) for r in rows)


def model_agencies(actor: Actor) -> tuple[str, ...]:
    """The agencies models are with, A–Z (for a filter)."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        return tuple(
            uow.session.execute(
                text("SELECT DISTINCT agency FROM models WHERE agency IS NOT NULL ORDER BY 1")
            ).scalars()
        )


def model_appearances(actor: Actor, model_id: uuid.UUID) -> tuple[ModelAppearance, ...]:
    """The looks a model walked, latest show first (those the actor can see)."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        rows = uow.session.execute(
            text(
                """
                SELECT r.show_date, c.name, s.name, fi.name
                  FROM runway_appearances a
                  JOIN runway_segments s ON s.id = a.runway_segment_id
                  JOIN runway_shows r ON r.id = s.runway_show_id
                  JOIN collections c ON c.id = r.collection_id
                  LEFT JOIN fashion_items fi ON fi.id = a.fashion_item_id
                 WHERE a.model_id = :m
                 ORDER BY r.show_date DESC, s.segment_order, a.appearance_order
                """
            ),
            {"m": model_id},
        )
        return tuple(ModelAppearance(*r) for r in rows)


def _clean(draft: ModelDraft) -> dict[str, Any]:
    inputs.one_of(draft.status, MODEL_STATUSES, "status")
    measurements: dict[str, int] = {}
    for key, value in draft.measurements.items():
        if key not in MEASUREMENTS:
            raise ValidationError(f"measurements: unknown measurement {key}", field="measurements")
        if value:
            measurements[key] = inputs.whole_number(value, key, low=1, high=300) or 0
    instagram = inputs.bounded(draft.instagram, "instagram", limit=100)
    height = measurements.get("height_cm")
    return {
        "name": inputs.required(draft.name, "name"),
        "agency": inputs.bounded(draft.agency, "agency", limit=inputs.MAX_NAME),
        "bio": inputs.bounded(draft.bio, "bio"),
        "portfolio_url": inputs.web_url(draft.portfolio_url, "portfolio_url"),
        "profile_image_url": inputs.web_url(draft.profile_image_url, "profile_image_url"),
        "social_media": {"instagram": instagram} if instagram else {},
        "measurements": measurements or null(),
        "height": f"{height} cm" if height else None,
        "status": draft.status,
        "is_featured": draft.is_featured,
    }


def create_model(actor: Actor, draft: ModelDraft) -> uuid.UUID:
    """Add a model profile. Admins only.

    Raises PermissionDenied, ValidationError."""
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        uow.require(SHOWCASE_VIEW)
        if not is_admin(uow):
            raise PermissionDenied("Only an admin can add models.")
        model = FashionModel(**values)
        uow.session.add(model)
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.model.created", model.id,
            new={"name": model.name}, table="models",
        )  # fmt: skip
        uow.commit()
        return model.id


def update_model(actor: Actor, model_id: uuid.UUID, draft: ModelDraft) -> None:
    """Save a model profile: admins, or the model's own account.

    Raises PermissionDenied, NotFound, ValidationError."""
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        uow.require(SHOWCASE_VIEW)
        model = uow.session.get(FashionModel, model_id)
        if model is None:
            raise NotFound("This model does not exist.")
        if not (is_admin(uow) or (actor.user_id is not None and model.user_id == actor.user_id)):
            raise PermissionDenied("Only an admin or the model themselves can edit this profile.")
        for key, value in values.items():
            setattr(model, key, value)
        uow.session.flush()
        record_by_person(
            uow.session, actor, "showcase.model.updated", model_id,
            new={"name": model.name}, table="models",
        )  # fmt: skip
        uow.commit()


def get_model_draft(actor: Actor, model_id: uuid.UUID) -> ModelDraft:
    """A model's profile as an edit form starts. Raises NotFound."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        model = uow.session.get(FashionModel, model_id)
        if model is None:
            raise NotFound("This model does not exist.")
        return ModelDraft(
            name=model.name,
            agency=model.agency,
            bio=model.bio,
            portfolio_url=model.portfolio_url,
            profile_image_url=model.profile_image_url,
            instagram=(model.social_media or {}).get("instagram"),
            measurements={
                k: int(v) for k, v in (model.measurements or {}).items() if k in MEASUREMENTS
            },
            status=model.status,
            is_featured=model.is_featured,
        )


def model_choices(actor: Actor) -> tuple[tuple[uuid.UUID, str], ...]:
    """(id, "name · agency") of active models, for casting."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        rows = uow.session.execute(
            text(
                "SELECT id, name || coalesce(' · ' || agency, '') FROM models"
                " WHERE status = 'active' ORDER BY name, id"
            )
        )
        return tuple((r[0], r[1]) for r in rows)
