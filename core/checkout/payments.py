"""The payment-provider interface and the built-in box-office provider."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from core.errors import ValidationError


@dataclass(frozen=True)
class PaymentResult:
    provider: str
    method: str
    reference: str
    amount: Decimal


class PaymentProvider(Protocol):
    """Takes money for an order and gives it back. Implementations raise DomainError
    subclasses for refusals a person can act on."""

    name: str
    methods: tuple[str, ...]

    def charge(
        self, *, amount: Decimal, currency: str, method: str, order_number: str
    ) -> PaymentResult: ...

    def refund(
        self, *, amount: Decimal, currency: str, method: str, order_number: str
    ) -> PaymentResult: ...


class BoxOfficePayments:
    """Money taken at the desk: cash, the card terminal, or complimentary tickets.

    Nothing leaves the building, so charging records the payment; complimentary orders
    must come to zero (apply a 100% code to comp tickets).
    """

    name = "box_office"
    methods = ("cash", "card_terminal", "complimentary")
    free_methods = ("complimentary",)  # must total 0.00

    @staticmethod
    def new_reference() -> str:
        return f"bo-{uuid.uuid4().hex[:12]}"

    @classmethod
    def check(cls, amount: Decimal, method: str) -> None:
        """Refuse a method the box office does not take, or a complimentary order that
        costs something (ValidationError)."""
        if method not in cls.methods:
            raise ValidationError(
                f"payment method must be one of: {', '.join(cls.methods)}", field="payment_method"
            )
        if method in cls.free_methods and amount != 0:
            raise ValidationError(
                "A complimentary order must total 0.00; apply a 100% code to comp tickets.",
                field="payment_method",
            )

    def charge(
        self, *, amount: Decimal, currency: str, method: str, order_number: str
    ) -> PaymentResult:
        self.check(amount, method)
        return PaymentResult(self.name, method, self.new_reference(), amount)

    def refund(
        self, *, amount: Decimal, currency: str, method: str, order_number: str
    ) -> PaymentResult:
        return PaymentResult(self.name, method, f"bo-refund-{uuid.uuid4().hex[:12]}", amount)
