"""Checking a discount or promotional code against tickets, before holding them."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field, StringConstraints

from api.auth import Requires, actor_of
from api.models import Input, Output, Quantity
from api.problems import responses
from api.routes.orders import BuyerIn, QuoteLine, _buyer, quote_lines
from core.checkout.orders import preview_code

router = APIRouter(tags=["discounts"], responses=responses(401, 403, 404, 409, 422, 429, 503))
READ = Requires("discounts:read")


class CodeCheckIn(Input):
    event_id: uuid.UUID
    code: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    quantities: dict[uuid.UUID, Quantity] = Field(min_length=1, max_length=100)
    buyer: BuyerIn | None = Field(None, description="judges once-per-customer rules too")


class CodeCheck(Output):
    valid: bool
    code: str
    lines: list[QuoteLine]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


@router.post("/discount-codes/check", response_model=CodeCheck, summary="Check a code")
def check_code(body: CodeCheckIn, principal: Annotated[object, Depends(READ)]) -> CodeCheck:
    """What the code takes off these tickets now; a code that does not apply is a 422
    (code_invalid) or 409 (code_used_up) problem naming `code`."""
    quote = preview_code(
        actor_of(principal),
        body.event_id,
        body.code,
        body.quantities,
        _buyer(body.buyer) if body.buyer else None,
    )
    return CodeCheck(
        valid=True,
        code=quote.code.code if quote.code else body.code,
        lines=quote_lines(quote),
        subtotal=quote.subtotal,
        discount=quote.discount,
        tax=quote.tax,
        total=quote.total,
    )
