"""Promotional codes of campaigns: create, withdraw, and their use so far.

Codes are stored upper-case and must be unique among promotional *and* discount codes:
the checkout looks a typed code up case-insensitively in both. The checkout owns the use
counter; the effect over a date range is on the campaign analytics page.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text

from core.auth.permissions import CAMPAIGNS_MANAGE
from core.db import Actor, unit_of_work
from core.errors import Conflict, NotFound, ValidationError
from core.marketing.drafts import insert_row, one_of
from core.models.marketing import PROMOTIONAL_DISCOUNT_TYPES

CODE_FORMAT = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")


@dataclass(frozen=True)
class PromoCodeDraft:
    code: str
    discount_type: str
    discount_value: Decimal
    start_date: datetime
    end_date: datetime
    campaign_id: uuid.UUID | None = None
    description: str | None = None
    min_purchase_amount: Decimal | None = None
    max_discount_amount: Decimal | None = None
    usage_limit: int | None = None


@dataclass(frozen=True)
class PromoCodeView:
    code_id: uuid.UUID
    code: str
    campaign_id: uuid.UUID | None
    campaign: str | None
    discount_type: str
    discount_value: Decimal
    start_date: datetime
    end_date: datetime
    usage_limit: int | None
    usage_count: int
    is_active: bool
    description: str | None


_LIST = """
    SELECT pc.id, pc.code, pc.campaign_id, c.name, pc.discount_type, pc.discount_value,
           pc.start_date, pc.end_date, pc.usage_limit, pc.usage_count, pc.is_active,
           pc.description
      FROM promotional_codes pc LEFT JOIN marketing_campaigns c ON c.id = pc.campaign_id
     WHERE {where}
     ORDER BY pc.start_date DESC, pc.code
"""


def list_promo_codes(
    actor: Actor, *, campaign_id: uuid.UUID | None = None
) -> tuple[PromoCodeView, ...]:
    """Promotional codes, newest first, optionally of one campaign. Raises
    PermissionDenied without campaigns.manage."""
    where, params = "true", {}
    if campaign_id is not None:
        where, params = "pc.campaign_id = :c", {"c": campaign_id}
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        rows = uow.session.execute(text(_LIST.format(where=where)), params)
        return tuple(PromoCodeView(*row) for row in rows)


def _clean(draft: PromoCodeDraft) -> dict[str, object]:
    code = (draft.code or "").strip().upper()
    if not CODE_FORMAT.match(code):
        raise ValidationError(
            "Code must be 3–32 letters, digits, - or _, starting with a letter or digit.",
            field="code",
        )
    one_of(draft.discount_type, PROMOTIONAL_DISCOUNT_TYPES, "discount_type")
    value = draft.discount_value
    if draft.discount_type == "percentage" and not Decimal(0) < value <= 100:
        raise ValidationError("A percentage is more than 0 and at most 100.", field="value")
    if draft.discount_type == "fixed_amount" and value <= 0:
        raise ValidationError("A fixed amount must be more than 0.", field="value")
    if draft.end_date <= draft.start_date:
        raise ValidationError("The end must be after the start.", field="end_date")
    if draft.usage_limit is not None and draft.usage_limit < 1:
        raise ValidationError("Usage limit is 1 or more, or empty.", field="usage_limit")
    return {
        "code": code,
        "campaign_id": draft.campaign_id,
        "description": (draft.description or "").strip() or None,
        "discount_type": draft.discount_type,
        "discount_value": value,
        "min_purchase_amount": draft.min_purchase_amount,
        "max_discount_amount": draft.max_discount_amount,
        "start_date": draft.start_date,
        "end_date": draft.end_date,
        "usage_limit": draft.usage_limit,
    }


def create_promo_code(actor: Actor, draft: PromoCodeDraft) -> PromoCodeView:
    """Create a promotional code. Raises ValidationError naming the field, Conflict when
    the code is taken by a promotional or discount code, PermissionDenied without
    campaigns.manage."""
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        taken = uow.session.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM promotional_codes WHERE upper(code) = :c)"
                " OR EXISTS (SELECT 1 FROM discount_codes WHERE upper(code) = :c)"
            ),
            {"c": values["code"]},
        ).scalar_one()
        if taken:
            raise Conflict(f"The code {values['code']} is already in use.", field="code")
        code_id = insert_row(uow.session, "promotional_codes", values)
        view = PromoCodeView(
            *uow.session.execute(text(_LIST.format(where="pc.id = :id")), {"id": code_id}).one()
        )
        uow.commit()
    return view


def set_promo_code_active(actor: Actor, code_id: uuid.UUID, active: bool) -> None:
    """Withdraw a code (checkouts refuse it) or put it back. Raises NotFound,
    PermissionDenied without campaigns.manage."""
    with unit_of_work(actor) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        found = uow.session.execute(
            text("UPDATE promotional_codes SET is_active = :a WHERE id = :id RETURNING id"),
            {"a": active, "id": code_id},
        ).scalar()
        if found is None:
            raise NotFound("That promotional code does not exist.", field="code_id")
        uow.commit()
