"""Pricing: pure functions from lines, an optional code and the buyer's history to a quote.

No database here, so every rule can be tested exhaustively. The services load the code's
rule and the buyer's history inside their transaction (with the code row locked) and
call `price`; the order stores exactly what the quote says.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from core.checkout.errors import CodeNotValid, CodeUsedUp

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal) -> Decimal:
    """Round half-up to cents, the way a till does."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Line:
    """Tickets of one type being bought."""

    ticket_type_id: uuid.UUID
    event_id: uuid.UUID
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal

    @property
    def subtotal(self) -> Decimal:
        return money(self.unit_price * self.quantity)


@dataclass(frozen=True)
class CodeRule:
    """A discount code or a promotional code, reduced to the rules pricing needs.

    `event_ids` / `ticket_type_ids` of None mean "not limited".
    """

    kind: str  # "discount" or "promo"
    id: uuid.UUID
    code: str
    discount_type: str  # percentage, fixed_amount, free_item
    value: Decimal
    minimum_order_amount: Decimal = ZERO
    maximum_discount: Decimal | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    usage_limit: int | None = None
    used: int = 0
    is_active: bool = True
    one_per_customer: bool = False
    first_purchase_only: bool = False
    event_ids: frozenset[uuid.UUID] | None = None
    ticket_type_ids: frozenset[uuid.UUID] | None = None

    def applies_to(self, line: Line) -> bool:
        return (self.event_ids is None or line.event_id in self.event_ids) and (
            self.ticket_type_ids is None or line.ticket_type_id in self.ticket_type_ids
        )


@dataclass(frozen=True)
class BuyerHistory:
    """What the rules need to know about the buyer's earlier orders."""

    has_prior_purchase: bool = False
    has_used_code: bool = False


@dataclass(frozen=True)
class PricedLine:
    line: Line
    subtotal: Decimal
    discount: Decimal
    tax: Decimal

    @property
    def final_price(self) -> Decimal:
        return self.subtotal - self.discount


@dataclass(frozen=True)
class Quote:
    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    code: CodeRule | None


def check_code(rule: CodeRule, lines: Sequence[Line], now: datetime, buyer: BuyerHistory) -> None:
    """Raise CodeNotValid or CodeUsedUp when `rule` may not be used for these lines now."""
    label = f"Code {rule.code}"
    if not rule.is_active:
        raise CodeNotValid(f"{label} is not active.", field="code")
    if rule.starts_at is not None and now < rule.starts_at:
        raise CodeNotValid(f"{label} is not valid yet.", field="code")
    if rule.ends_at is not None and now >= rule.ends_at:
        raise CodeNotValid(f"{label} has expired.", field="code")
    if rule.usage_limit is not None and rule.used >= rule.usage_limit:
        raise CodeUsedUp(f"{label} has been used up.", field="code")
    if not any(rule.applies_to(line) for line in lines):
        raise CodeNotValid(f"{label} is not valid for this event or these tickets.", field="code")
    subtotal = sum((line.subtotal for line in lines), ZERO)
    if subtotal < rule.minimum_order_amount:
        raise CodeNotValid(
            f"{label} needs an order of at least {rule.minimum_order_amount:.2f}.", field="code"
        )
    if rule.one_per_customer and buyer.has_used_code:
        raise CodeNotValid(
            f"{label} can be used once per customer and was used already.", field="code"
        )
    if rule.first_purchase_only and buyer.has_prior_purchase:
        raise CodeNotValid(f"{label} is for a first purchase only.", field="code")


def _discount_amount(rule: CodeRule, eligible: Sequence[Line]) -> Decimal:
    eligible_subtotal = sum((line.subtotal for line in eligible), ZERO)
    if rule.discount_type == "percentage":
        raw = money(eligible_subtotal * rule.value / 100)
    elif rule.discount_type == "fixed_amount":
        raw = money(rule.value)
    elif rule.discount_type == "free_item":
        # `value` free tickets (at least one), the cheapest eligible ones.
        free = max(int(rule.value), 1)
        units = sorted(line.unit_price for line in eligible for _ in range(line.quantity))
        raw = money(sum(units[:free], ZERO))
    else:
        raise ValueError(f"unknown discount type {rule.discount_type!r}")
    if rule.maximum_discount is not None:
        raw = min(raw, rule.maximum_discount)
    return max(min(raw, eligible_subtotal), ZERO)


def _allocate(amount: Decimal, subtotals: Sequence[Decimal]) -> list[Decimal]:
    """Split `amount` over lines in proportion to their subtotals, to the cent, never
    more than a line's subtotal, summing exactly to `amount`."""
    total = sum(subtotals, ZERO)
    if total == 0 or amount == 0:
        return [ZERO for _ in subtotals]
    shares = [(amount * s / total).quantize(CENT, rounding=ROUND_DOWN) for s in subtotals]
    left = amount - sum(shares, ZERO)
    # Hand out the leftover cents to the largest lines first that still have room.
    for i in sorted(range(len(subtotals)), key=lambda i: (-subtotals[i], i)):
        if left <= 0:
            break
        room = subtotals[i] - shares[i]
        extra = min(room, left)
        shares[i] += extra
        left -= extra
    return shares


def price(
    lines: Sequence[Line],
    rule: CodeRule | None,
    *,
    now: datetime,
    buyer: BuyerHistory | None = None,
) -> Quote:
    """Price `lines` with an optional code. Raises CodeNotValid / CodeUsedUp for a code
    that may not be used, ValueError for empty lines or a non-positive quantity."""
    if not lines:
        raise ValueError("nothing to price")
    if any(line.quantity <= 0 for line in lines):
        raise ValueError("quantities must be positive")
    discounts = [ZERO] * len(lines)
    if rule is not None:
        check_code(rule, lines, now, buyer or BuyerHistory())
        eligible_idx = [i for i, line in enumerate(lines) if rule.applies_to(line)]
        amount = _discount_amount(rule, [lines[i] for i in eligible_idx])
        shares = _allocate(amount, [lines[i].subtotal for i in eligible_idx])
        for i, share in zip(eligible_idx, shares, strict=True):
            discounts[i] = share
    priced = tuple(
        PricedLine(
            line=line,
            subtotal=line.subtotal,
            discount=discount,
            tax=money((line.subtotal - discount) * line.tax_rate),
        )
        for line, discount in zip(lines, discounts, strict=True)
    )
    subtotal = sum((p.subtotal for p in priced), ZERO)
    discount = sum((p.discount for p in priced), ZERO)
    tax = sum((p.tax for p in priced), ZERO)
    return Quote(priced, subtotal, discount, tax, subtotal - discount + tax, rule)


@dataclass(frozen=True)
class RefundShare:
    """What refunding some tickets of an item gives back, split as the item was priced."""

    quantity: int
    subtotal: Decimal
    discount: Decimal
    tax: Decimal

    @property
    def amount(self) -> Decimal:
        return self.subtotal - self.discount + self.tax


def refund_share(
    *,
    quantity: int,
    unit_price: Decimal,
    discount: Decimal,
    tax: Decimal,
    already: int,
    count: int,
) -> RefundShare:
    """The share of an item of `quantity` tickets (its `discount` and `tax` totals) that
    `count` more tickets give back after `already` were refunded.

    Cumulative shares, each rounded half up to cents: the first m tickets carry
    round(discount * m / quantity) of the discount and likewise of the tax, and a refund
    gives back the difference between the shares before and after it. So the same
    tickets give back the same money whether refunded at once or one by one, every share
    stays within its total, and refunding them all gives back exactly the item's
    subtotal - discount + tax. Raises ValueError for counts outside the item.
    """
    if quantity <= 0 or already < 0 or count <= 0 or already + count > quantity:
        raise ValueError("refund count outside the item")

    def share(total: Decimal, m: int) -> Decimal:
        return money(total * m / quantity)

    after = already + count
    return RefundShare(
        quantity=count,
        subtotal=money(unit_price * count),
        discount=share(discount, after) - share(discount, already),
        tax=share(tax, after) - share(tax, already),
    )
