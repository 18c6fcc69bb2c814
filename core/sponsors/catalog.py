"""Sponsors, sponsorship tiers, benefits and which benefits (how many) each tier grants."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import SPONSORS_MANAGE
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import ValidationError
from core.marketing.drafts import insert_row, one_of, update_row
from core.models.sponsors import SPONSOR_STATUSES
from core.services.inputs import blank_to_none

BENEFIT_CATEGORIES = (
    "branding", "hospitality", "activation", "digital", "content", "insights", "other",
)  # fmt: skip


@dataclass(frozen=True)
class SponsorDraft:
    name: str
    status: str = "active"
    industry: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    website_url: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class SponsorView:
    sponsor_id: uuid.UUID
    name: str
    status: str
    industry: str | None
    contact_name: str | None
    contact_email: str | None
    website_url: str | None
    description: str | None
    sponsorships: int

    def draft(self) -> SponsorDraft:
        return SponsorDraft(
            self.name,
            self.status,
            self.industry,
            self.contact_name,
            self.contact_email,
            self.website_url,
            self.description,
        )


@dataclass(frozen=True)
class TierBenefitView:
    benefit_id: uuid.UUID
    benefit: str
    category: str
    quantity: int


@dataclass(frozen=True)
class TierView:
    tier_id: uuid.UUID
    name: str
    description: str | None
    price_range: str | None
    display_order: int
    benefits: tuple[TierBenefitView, ...]


@dataclass(frozen=True)
class BenefitView:
    benefit_id: uuid.UUID
    name: str
    category: str
    description: str | None
    is_digital: bool
    is_physical: bool


def _clean_sponsor(draft: SponsorDraft) -> dict[str, object]:
    name = (draft.name or "").strip()
    if not name:
        raise ValidationError("Name is required.", field="name")
    one_of(draft.status, SPONSOR_STATUSES, "status")
    email = blank_to_none(draft.contact_email)
    if email is not None and "@" not in email:
        raise ValidationError("Contact email must be an email address.", field="contact_email")
    return {
        "name": name,
        "status": draft.status,
        "industry": blank_to_none(draft.industry),
        "contact_name": blank_to_none(draft.contact_name),
        "contact_email": email,
        "website_url": blank_to_none(draft.website_url),
        "description": blank_to_none(draft.description),
    }


_SPONSORS = """
    SELECT s.id, s.name, s.status, s.industry, s.contact_name, s.contact_email, s.website_url,
           s.description, (SELECT count(*) FROM sponsorships x WHERE x.sponsor_id = s.id)
      FROM sponsors s WHERE {where} ORDER BY s.name, s.id
"""


def _read_sponsor(session: Session, sponsor_id: uuid.UUID) -> SponsorView:
    """The sponsor as the list shows it, read back after a write."""
    row = session.execute(text(_SPONSORS.format(where="s.id = :id")), {"id": sponsor_id})
    return SponsorView(*row.one())


def list_sponsors(
    actor: Actor, *, search: str = "", status: str | None = None
) -> tuple[SponsorView, ...]:
    """Sponsors by name, matching `search` (name, industry or contact) and `status`.

    Raises ValidationError for an unknown status, PermissionDenied without sponsors.manage.
    """
    if status is not None:
        one_of(status, SPONSOR_STATUSES, "status")
    where, params = ["true"], {}
    if search.strip():
        where.append(
            "(s.name ILIKE :p OR coalesce(s.industry, '') ILIKE :p"
            " OR coalesce(s.contact_name, '') ILIKE :p OR coalesce(s.contact_email, '') ILIKE :p)"
        )
        params["p"] = f"%{escape_like(search.strip())}%"
    if status is not None:
        where.append("s.status = :status")
        params["status"] = status
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SPONSORS_MANAGE)
        rows = uow.session.execute(text(_SPONSORS.format(where=" AND ".join(where))), params)
        return tuple(SponsorView(*row) for row in rows)


def create_sponsor(actor: Actor, draft: SponsorDraft) -> SponsorView:
    """Add a sponsor. Raises ValidationError naming the field (name required, status,
    email), PermissionDenied without sponsors.manage."""
    values = _clean_sponsor(draft)
    with unit_of_work(actor) as uow:
        uow.require(SPONSORS_MANAGE)
        sponsor_id = insert_row(uow.session, "sponsors", values)
        view = _read_sponsor(uow.session, sponsor_id)
        uow.commit()
    return view


def update_sponsor(actor: Actor, sponsor_id: uuid.UUID, draft: SponsorDraft) -> SponsorView:
    """Replace a sponsor's details. Raises ValidationError (as create_sponsor), NotFound,
    PermissionDenied without sponsors.manage."""
    values = _clean_sponsor(draft)
    with unit_of_work(actor) as uow:
        uow.require(SPONSORS_MANAGE)
        update_row(
            uow.session,
            "sponsors",
            sponsor_id,
            values,
            missing="That sponsor does not exist.",
            field="sponsor_id",
        )
        view = _read_sponsor(uow.session, sponsor_id)
        uow.commit()
    return view


def list_tiers(actor: Actor) -> tuple[TierView, ...]:
    """Tiers in display order, each with its benefits and quantities.

    Raises PermissionDenied without sponsors.manage.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SPONSORS_MANAGE)
        tiers = uow.session.execute(
            text(
                "SELECT id, name, description, price_range, display_order FROM sponsorship_tiers"
                " ORDER BY display_order, name"
            )
        ).all()
        links = uow.session.execute(
            text(
                "SELECT tb.tier_id, b.id, b.name, b.category, tb.quantity FROM tier_benefits tb"
                " JOIN sponsor_benefits b ON b.id = tb.benefit_id ORDER BY b.category, b.name"
            )
        ).all()
    by_tier: dict[uuid.UUID, list[TierBenefitView]] = {}
    for tier_id, *rest in links:
        by_tier.setdefault(tier_id, []).append(TierBenefitView(*rest))
    return tuple(TierView(*row, tuple(by_tier.get(row[0], ()))) for row in tiers)


def list_benefits(actor: Actor) -> tuple[BenefitView, ...]:
    """Every sponsor benefit by category and name. Raises PermissionDenied without
    sponsors.manage."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SPONSORS_MANAGE)
        rows = uow.session.execute(
            text(
                "SELECT id, name, category, description, is_digital, is_physical"
                " FROM sponsor_benefits ORDER BY category, name, id"
            )
        )
        return tuple(BenefitView(*row) for row in rows)


def create_tier(
    actor: Actor,
    name: str,
    *,
    display_order: int,
    description: str | None = None,
    price_range: str | None = None,
) -> uuid.UUID:
    """Add a sponsorship tier; returns its id. Raises ValidationError (name required,
    display order from 1), Conflict when the name is taken, PermissionDenied without
    sponsors.manage."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("Tier name is required.", field="name")
    if display_order < 1:
        raise ValidationError("Display order starts at 1.", field="display_order")
    with unit_of_work(actor) as uow:
        uow.require(SPONSORS_MANAGE)
        tier_id = uow.session.execute(
            text(
                "INSERT INTO sponsorship_tiers (name, description, price_range, display_order)"
                " VALUES (:n, :d, :p, :o) RETURNING id"
            ),
            {
                "n": name,
                "d": blank_to_none(description),
                "p": blank_to_none(price_range),
                "o": display_order,
            },
        ).scalar_one()
        uow.commit()
    return tier_id


def create_benefit(
    actor: Actor,
    name: str,
    category: str,
    *,
    description: str | None = None,
    is_digital: bool = False,
    is_physical: bool = False,
) -> uuid.UUID:
    """Add a benefit a tier can grant; returns its id. Raises ValidationError (name
    required, category one of BENEFIT_CATEGORIES), PermissionDenied without
    sponsors.manage."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("Benefit name is required.", field="name")
    one_of(category, BENEFIT_CATEGORIES, "category")
    with unit_of_work(actor) as uow:
        uow.require(SPONSORS_MANAGE)
        benefit_id = uow.session.execute(
            text(
                "INSERT INTO sponsor_benefits (name, category, description, is_digital,"
                " is_physical) VALUES (:n, :c, :d, :dg, :ph) RETURNING id"
            ),
            {
                "n": name,
                "c": category,
                "d": blank_to_none(description),
                "dg": is_digital,
                "ph": is_physical,
            },
        ).scalar_one()
        uow.commit()
    return benefit_id


def set_tier_benefit(
    actor: Actor, tier_id: uuid.UUID, benefit_id: uuid.UUID, quantity: int
) -> None:
    """Make a tier grant `quantity` of a benefit; 0 takes the benefit off the tier.

    Raises ValidationError (negative quantity, unknown tier or benefit), PermissionDenied
    without sponsors.manage.
    """
    if quantity < 0:
        raise ValidationError("Quantity cannot be negative.", field="quantity")
    with unit_of_work(actor) as uow:
        uow.require(SPONSORS_MANAGE)
        if quantity == 0:
            uow.session.execute(
                text("DELETE FROM tier_benefits WHERE tier_id = :t AND benefit_id = :b"),
                {"t": tier_id, "b": benefit_id},
            )
        else:
            uow.session.execute(
                text(
                    "INSERT INTO tier_benefits (tier_id, benefit_id, quantity)"
                    " VALUES (:t, :b, :q)"
                    " ON CONFLICT (tier_id, benefit_id) DO UPDATE SET quantity = :q"
                ),
                {"t": tier_id, "b": benefit_id, "q": quantity},
            )
        uow.commit()
