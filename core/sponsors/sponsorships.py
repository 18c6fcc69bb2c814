"""Sponsorships per event (amount, payment, contract, featured flag, display order) and the
tier benefits delivered under each.

Delivered quantities live in the sponsorship's `benefits` jsonb under `delivered`
({benefit id: quantity}); docs/SCHEMA.md records why no table was added.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import SPONSORS_MANAGE
from core.db import Actor, unit_of_work
from core.errors import NotFound, ValidationError
from core.marketing.drafts import insert_row, one_of, update_row
from core.models.sponsors import SPONSORSHIP_PAYMENT_STATUSES
from core.services.inputs import blank_to_none

MAX_AMOUNT = Decimal("9999999999.99")


@dataclass(frozen=True)
class SponsorshipDraft:
    sponsor_id: uuid.UUID
    event_id: uuid.UUID
    tier_id: uuid.UUID | None
    start_date: date
    end_date: date
    amount: Decimal | None
    payment_status: str = "pending"
    contract_url: str | None = None
    is_featured: bool = False
    display_order: int | None = None
    custom_tier_name: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class SponsorshipView:
    sponsorship_id: uuid.UUID
    sponsor_id: uuid.UUID
    sponsor: str
    event_id: uuid.UUID
    event: str
    tier_id: uuid.UUID | None
    tier: str | None
    start_date: date
    end_date: date
    amount: Decimal | None
    payment_status: str
    contract_url: str | None
    is_featured: bool
    display_order: int | None
    custom_tier_name: str | None
    notes: str | None
    assets_pending: int

    def draft(self) -> SponsorshipDraft:
        return SponsorshipDraft(
            self.sponsor_id,
            self.event_id,
            self.tier_id,
            self.start_date,
            self.end_date,
            self.amount,
            self.payment_status,
            self.contract_url,
            self.is_featured,
            self.display_order,
            self.custom_tier_name,
            self.notes,
        )


@dataclass(frozen=True)
class Delivery:
    benefit_id: uuid.UUID
    benefit: str
    promised: int
    delivered: int


_LIST = """
    SELECT s.id, s.sponsor_id, sp.name, s.event_id, coalesce(e.title, 'an event you cannot see'),
           s.tier_id, coalesce(t.name, s.custom_tier_name), s.start_date, s.end_date, s.amount,
           s.payment_status, s.contract_url, s.is_featured, s.display_order,
           s.custom_tier_name, s.notes,
           (SELECT count(*) FROM sponsorship_assets a
             WHERE a.sponsorship_id = s.id AND a.status = 'pending')
      FROM sponsorships s
      JOIN sponsors sp ON sp.id = s.sponsor_id
      LEFT JOIN events e ON e.id = s.event_id
      LEFT JOIN sponsorship_tiers t ON t.id = s.tier_id
     WHERE {where}
     ORDER BY e.start_date DESC NULLS LAST, s.event_id, s.display_order NULLS LAST, sp.name
"""


def _clean(draft: SponsorshipDraft) -> dict[str, object]:
    one_of(draft.payment_status, SPONSORSHIP_PAYMENT_STATUSES, "payment_status")
    if draft.end_date < draft.start_date:
        raise ValidationError("The end date cannot be before the start date.", field="end_date")
    if draft.amount is not None and not Decimal(0) <= draft.amount <= MAX_AMOUNT:
        raise ValidationError(f"Amount must be between 0 and {MAX_AMOUNT:,}.", field="amount")
    if draft.display_order is not None and draft.display_order < 1:
        raise ValidationError("Display order starts at 1.", field="display_order")
    custom = blank_to_none(draft.custom_tier_name)
    if draft.tier_id is None and custom is None:
        raise ValidationError("Choose a tier or name a custom one.", field="tier_id")
    url = blank_to_none(draft.contract_url)
    if url is not None and not url.startswith(("https://", "http://")):
        raise ValidationError("Contract link must start with https://.", field="contract_url")
    return {
        "sponsor_id": draft.sponsor_id,
        "event_id": draft.event_id,
        "tier_id": draft.tier_id,
        "custom_tier_name": None if draft.tier_id is not None else custom,
        "start_date": draft.start_date,
        "end_date": draft.end_date,
        "amount": draft.amount,
        "payment_status": draft.payment_status,
        "contract_url": url,
        "is_featured": draft.is_featured,
        "display_order": draft.display_order,
        "notes": blank_to_none(draft.notes),
    }


def _read(session: Session, sponsorship_id: uuid.UUID) -> SponsorshipView:
    """The sponsorship as the list shows it, read back after a write."""
    row = session.execute(text(_LIST.format(where="s.id = :id")), {"id": sponsorship_id})
    return SponsorshipView(*row.one())


def list_sponsorships(
    actor: Actor,
    *,
    event_id: uuid.UUID | None = None,
    sponsor_id: uuid.UUID | None = None,
    payment_status: str | None = None,
) -> tuple[SponsorshipView, ...]:
    """Sponsorships, newest event first and in display order, optionally of one event,
    sponsor or payment status. Raises PermissionDenied without sponsors.manage."""
    where, params = ["true"], {}
    if event_id is not None:
        where.append("s.event_id = :e")
        params["e"] = event_id
    if sponsor_id is not None:
        where.append("s.sponsor_id = :s")
        params["s"] = sponsor_id
    if payment_status is not None:
        where.append("s.payment_status = :ps")
        params["ps"] = payment_status
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SPONSORS_MANAGE)
        rows = uow.session.execute(text(_LIST.format(where=" AND ".join(where))), params)
        return tuple(SponsorshipView(*row) for row in rows)


def create_sponsorship(actor: Actor, draft: SponsorshipDraft) -> SponsorshipView:
    """Sponsor an event. Raises ValidationError naming the field, Conflict when the sponsor
    already sponsors that event, PermissionDenied without sponsors.manage."""
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        uow.require(SPONSORS_MANAGE)
        new_id = insert_row(uow.session, "sponsorships", values)
        view = _read(uow.session, new_id)
        uow.commit()
    return view


def update_sponsorship(
    actor: Actor, sponsorship_id: uuid.UUID, draft: SponsorshipDraft
) -> SponsorshipView:
    """Replace a sponsorship's terms. Raises ValidationError, Conflict, NotFound,
    PermissionDenied without sponsors.manage."""
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        uow.require(SPONSORS_MANAGE)
        update_row(
            uow.session,
            "sponsorships",
            sponsorship_id,
            values,
            missing="That sponsorship does not exist.",
            field="sponsorship_id",
        )
        view = _read(uow.session, sponsorship_id)
        uow.commit()
    return view


def list_deliveries(actor: Actor, sponsorship_id: uuid.UUID) -> tuple[Delivery, ...]:
    """The benefits a sponsorship's tier promises (and any delivered beyond it), with the
    quantity delivered so far. Raises NotFound, PermissionDenied without sponsors.manage."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SPONSORS_MANAGE)
        found = uow.session.execute(
            text("SELECT tier_id, benefits FROM sponsorships WHERE id = :id"),
            {"id": sponsorship_id},
        ).first()
        if found is None:
            raise NotFound("That sponsorship does not exist.", field="sponsorship_id")
        rows = uow.session.execute(
            text(
                """
                SELECT b.id, b.name, coalesce(tb.quantity, 0),
                       coalesce((s.benefits -> 'delivered' ->> b.id::text)::int, 0)
                  FROM sponsorships s CROSS JOIN sponsor_benefits b
                  LEFT JOIN tier_benefits tb ON tb.tier_id = s.tier_id AND tb.benefit_id = b.id
                 WHERE s.id = :id
                   AND (tb.quantity IS NOT NULL OR s.benefits -> 'delivered' ? b.id::text)
                 ORDER BY b.category, b.name
                """
            ),
            {"id": sponsorship_id},
        )
        return tuple(Delivery(*row) for row in rows)


def record_deliveries(
    actor: Actor, sponsorship_id: uuid.UUID, delivered: dict[uuid.UUID, int]
) -> None:
    """Set how many of each benefit have been delivered under a sponsorship (0 clears
    one), all in one transaction.

    Raises ValidationError (negative quantity, unknown benefit), NotFound,
    PermissionDenied without sponsors.manage.
    """
    for quantity in delivered.values():
        if quantity < 0:
            raise ValidationError("Delivered quantity cannot be negative.", field="quantity")
    with unit_of_work(actor) as uow:
        uow.require(SPONSORS_MANAGE)
        known = set(
            uow.session.execute(
                text("SELECT id FROM sponsor_benefits WHERE id = ANY(:b)"),
                {"b": list(delivered)},
            ).scalars()
        )
        if set(delivered) - known:
            raise ValidationError("That benefit does not exist.", field="benefit_id")
        kept = {str(b): q for b, q in delivered.items() if q > 0}
        cleared = [str(b) for b, q in delivered.items() if q == 0]
        # One statement that merges into the stored map, so people recording different
        # benefits at once do not overwrite each other's.
        found = uow.session.execute(
            text(
                """
                UPDATE sponsorships SET benefits = jsonb_set(
                    coalesce(benefits, '{}'::jsonb), '{delivered}',
                    (coalesce(benefits -> 'delivered', '{}'::jsonb) - CAST(:cleared AS text[]))
                        || :kept)
                 WHERE id = :id RETURNING id
                """
            ),
            {"cleared": cleared, "kept": Jsonb(kept), "id": sponsorship_id},
        ).scalar()
        if found is None:
            raise NotFound("That sponsorship does not exist.", field="sponsorship_id")
        uow.commit()
