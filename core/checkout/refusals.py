"""The refusals of the checkout's database functions (migration 0004).

A function refuses with SQLSTATE FW001, the domain error's code in DETAIL and its field
in HINT (checkout_refuse); `refusal` gives back that domain error. Any other error is
translated as core.db.uow does (core/checkout/wire.py).
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from core.checkout.errors import (
    AmountChanged,
    CheckoutError,
    CodeNotValid,
    CodeUsedUp,
    HoldExpired,
    IdempotencyConflict,
    InvalidOrderState,
    LimitExceeded,
    SaleClosed,
    SeatTaken,
    SoldOut,
)
from core.errors import DomainError, NotFound, ValidationError

REFUSED = "FW001"

_ERRORS: dict[str, type[DomainError]] = {
    cls.code: cls
    for cls in (
        AmountChanged,
        CodeNotValid,
        CodeUsedUp,
        HoldExpired,
        IdempotencyConflict,
        InvalidOrderState,
        LimitExceeded,
        SaleClosed,
        SeatTaken,
        SoldOut,
        NotFound,
        ValidationError,
    )
}


def refusal(exc: DBAPIError) -> DomainError | None:
    """The domain error a checkout function raised, or None for any other error."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) != REFUSED:
        return None
    diag = orig.diag  # type: ignore[union-attr]
    cls = _ERRORS.get(diag.message_detail or "", CheckoutError)
    return cls(diag.message_primary or "", field=diag.message_hint or None)
