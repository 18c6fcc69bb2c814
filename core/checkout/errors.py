"""The checkout's domain errors: one class per situation a buyer or seller can act on.

Codes are stable (pages and API clients match on them); messages are for people.
"""

from __future__ import annotations

from core.errors import Busy, Conflict, DomainError

__all__ = [
    "AmountChanged",
    "Busy",
    "CheckoutError",
    "CodeNotValid",
    "CodeUsedUp",
    "HoldExpired",
    "IdempotencyConflict",
    "InvalidOrderState",
    "LimitExceeded",
    "SaleClosed",
    "SeatTaken",
    "SoldOut",
]


class CheckoutError(DomainError):
    code = "checkout_error"


class SoldOut(CheckoutError):
    code = "sold_out"


class SeatTaken(CheckoutError):
    code = "seat_taken"


class HoldExpired(CheckoutError):
    code = "hold_expired"


class SaleClosed(CheckoutError):
    code = "sale_closed"


class LimitExceeded(CheckoutError):
    code = "limit_exceeded"


class CodeNotValid(CheckoutError):
    code = "code_invalid"


class CodeUsedUp(CheckoutError):
    code = "code_used_up"


class AmountChanged(CheckoutError):
    code = "amount_changed"


class InvalidOrderState(CheckoutError):
    code = "invalid_order_state"


class IdempotencyConflict(Conflict):
    """The idempotency key was used for a different request; nothing was changed."""

    code = "idempotency_conflict"
