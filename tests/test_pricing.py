"""Pricing rules, property-based (no database): every quote adds up, every rule holds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.checkout.errors import CodeNotValid, CodeUsedUp
from core.checkout.pricing import BuyerHistory, CodeRule, Line, price, refund_share

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
EVENT = uuid.UUID(int=1)
OTHER_EVENT = uuid.UUID(int=2)

cents = st.integers(min_value=0, max_value=500_00).map(lambda c: Decimal(c) / 100)
rates = st.sampled_from([Decimal("0"), Decimal("0.0825"), Decimal("0.2"), Decimal("0.07")])
lines_strategy = st.lists(
    st.builds(
        Line,
        ticket_type_id=st.uuids(),
        event_id=st.just(EVENT),
        quantity=st.integers(min_value=1, max_value=8),
        unit_price=cents,
        tax_rate=rates,
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda line: line.ticket_type_id,
)


def rule(**overrides: object) -> CodeRule:
    values: dict[str, object] = {
        "kind": "discount",
        "id": uuid.UUID(int=99),
        "code": "TEST",
        "discount_type": "percentage",
        "value": Decimal("10"),
        "starts_at": NOW - timedelta(days=1),
        "ends_at": NOW + timedelta(days=1),
    }
    values.update(overrides)
    return CodeRule(**values)


rules_strategy = st.builds(
    rule,
    discount_type=st.sampled_from(["percentage", "fixed_amount", "free_item"]),
    value=st.integers(min_value=0, max_value=100).map(Decimal),
    maximum_discount=st.none() | cents,
)


def assert_consistent(quote) -> None:
    assert quote.total == quote.subtotal - quote.discount + quote.tax
    assert quote.subtotal == sum(p.subtotal for p in quote.lines)
    assert quote.discount == sum(p.discount for p in quote.lines)
    assert quote.tax == sum(p.tax for p in quote.lines)
    for p in quote.lines:
        assert p.subtotal == p.line.unit_price * p.line.quantity
        assert Decimal(0) <= p.discount <= p.subtotal
        assert p.final_price == p.subtotal - p.discount >= 0
        assert p.tax >= 0
        assert p.discount == p.discount.quantize(Decimal("0.01"))


@given(lines_strategy)
def test_without_a_code_nothing_is_discounted(lines) -> None:
    quote = price(lines, None, now=NOW)
    assert_consistent(quote)
    assert quote.discount == 0


@given(lines_strategy, rules_strategy)
def test_every_quote_adds_up_and_respects_the_maximum(lines, code) -> None:
    quote = price(lines, code, now=NOW)
    assert_consistent(quote)
    if code.maximum_discount is not None:
        assert quote.discount <= code.maximum_discount
    assert quote.discount <= quote.subtotal


@given(lines_strategy, st.integers(min_value=0, max_value=100))
def test_percentage_is_that_share_of_the_subtotal(lines, percent) -> None:
    quote = price(lines, rule(value=Decimal(percent)), now=NOW)
    expected = (quote.subtotal * percent / 100).quantize(Decimal("0.01"))
    assert abs(quote.discount - expected) <= Decimal("0.01")


@given(lines_strategy, cents)
def test_fixed_amount_never_exceeds_the_order(lines, amount) -> None:
    quote = price(lines, rule(discount_type="fixed_amount", value=amount), now=NOW)
    assert quote.discount == min(amount, quote.subtotal)


def test_free_item_makes_the_cheapest_ticket_free() -> None:
    cheap = Line(uuid.uuid4(), EVENT, 2, Decimal("20.00"), Decimal(0))
    dear = Line(uuid.uuid4(), EVENT, 1, Decimal("90.00"), Decimal(0))
    quote = price([cheap, dear], rule(discount_type="free_item", value=Decimal(1)), now=NOW)
    assert quote.discount == Decimal("20.00")


def test_discount_only_on_lines_the_code_covers_and_tax_after_discount() -> None:
    covered = Line(uuid.uuid4(), EVENT, 1, Decimal("100.00"), Decimal("0.10"))
    other = Line(uuid.uuid4(), EVENT, 1, Decimal("50.00"), Decimal("0.10"))
    code = rule(value=Decimal(50), ticket_type_ids=frozenset({covered.ticket_type_id}))
    quote = price([covered, other], code, now=NOW)
    by_type = {p.line.ticket_type_id: p for p in quote.lines}
    assert by_type[covered.ticket_type_id].discount == Decimal("50.00")
    assert by_type[other.ticket_type_id].discount == 0
    assert quote.tax == Decimal("5.00") + Decimal("5.00")
    assert quote.total == Decimal("110.00")


LINE = Line(uuid.UUID(int=7), EVENT, 2, Decimal("40.00"), Decimal(0))


@pytest.mark.parametrize(
    ("code", "buyer", "error", "words"),
    [
        (rule(is_active=False), None, CodeNotValid, "not active"),
        (rule(starts_at=NOW + timedelta(hours=1)), None, CodeNotValid, "not valid yet"),
        (rule(ends_at=NOW), None, CodeNotValid, "expired"),
        (rule(usage_limit=5, used=5), None, CodeUsedUp, "used up"),
        (rule(event_ids=frozenset({OTHER_EVENT})), None, CodeNotValid, "not valid for this"),
        (rule(ticket_type_ids=frozenset({uuid.UUID(int=8)})), None, CodeNotValid, "not valid"),
        (rule(minimum_order_amount=Decimal("100")), None, CodeNotValid, "at least 100.00"),
        (rule(one_per_customer=True), BuyerHistory(has_used_code=True), CodeNotValid, "once"),
        (
            rule(first_purchase_only=True),
            BuyerHistory(has_prior_purchase=True),
            CodeNotValid,
            "first purchase",
        ),
    ],
)
def test_each_rule_refuses_with_its_reason(code, buyer, error, words) -> None:
    with pytest.raises(error) as caught:
        price([LINE], code, now=NOW, buyer=buyer)
    assert words in caught.value.message
    assert caught.value.field == "code"


def test_rules_that_pass_apply() -> None:
    code = rule(
        usage_limit=5,
        used=4,
        one_per_customer=True,
        first_purchase_only=True,
        minimum_order_amount=Decimal("80"),
        event_ids=frozenset({EVENT}),
    )
    quote = price([LINE], code, now=NOW, buyer=BuyerHistory())
    assert quote.discount == Decimal("8.00")


# --- refunds of some tickets of an item (defect 2) -------------------------------------


@st.composite
def priced_items(draw: st.DrawFn) -> tuple[int, Decimal, Decimal, Decimal, list[int]]:
    """An item as pricing made it (quantity, unit price, its discount and tax shares) and
    a way of refunding all of it in steps (how many tickets each refund gives back)."""
    quantity = draw(st.integers(min_value=1, max_value=12))
    unit = draw(cents)
    subtotal = unit * quantity
    discount = draw(st.integers(0, int(subtotal * 100))) / Decimal(100)
    rate = draw(rates)
    tax = ((subtotal - discount) * rate).quantize(Decimal("0.01"))
    steps: list[int] = []
    left = quantity
    while left:
        step = draw(st.integers(1, left))
        steps.append(step)
        left -= step
    return quantity, unit, discount, tax, steps


def _refunds(quantity, unit, discount, tax, steps):
    done, shares = 0, []
    for step in steps:
        shares.append(
            refund_share(
                quantity=quantity, unit_price=unit, discount=discount, tax=tax,
                already=done, count=step,
            )
        )  # fmt: skip
        done += step
    return shares


@given(priced_items())
def test_refunding_every_ticket_in_any_steps_gives_back_exactly_the_item(item) -> None:
    quantity, unit, discount, tax, _ = item
    shares = _refunds(*item)
    assert sum(s.quantity for s in shares) == quantity
    assert sum((s.discount for s in shares), Decimal(0)) == discount
    assert sum((s.tax for s in shares), Decimal(0)) == tax
    assert sum((s.amount for s in shares), Decimal(0)) == unit * quantity - discount + tax
    for share in shares:
        # Every refund is in cents, gives back money, and no more discount than its tickets.
        assert share.amount == share.amount.quantize(Decimal("0.01"))
        assert 0 <= share.discount <= share.subtotal and share.tax >= 0 and share.amount >= 0


@given(priced_items(), st.data())
def test_the_same_tickets_give_back_the_same_money_however_they_are_split(item, data) -> None:
    """Refunding k tickets at once or in any steps gives back the same, for every k."""
    quantity, unit, discount, tax, steps = item
    k = data.draw(st.integers(1, quantity))
    at_once = refund_share(
        quantity=quantity, unit_price=unit, discount=discount, tax=tax, already=0, count=k
    )
    done, stepped = 0, Decimal(0)
    for step in steps:
        step = min(step, k - done)
        if step == 0:
            break
        stepped += refund_share(
            quantity=quantity, unit_price=unit, discount=discount, tax=tax,
            already=done, count=step,
        ).amount  # fmt: skip
        done += step
    assert stepped == at_once.amount


def test_one_of_three_seats_gives_back_a_third_rounded_consistently() -> None:
    # 3 × 33.33 with a 10.00 discount: shares 3.33, 3.34, 3.33 (cumulative 3.33, 6.67, 10).
    shares = _refunds(3, Decimal("33.33"), Decimal("10.00"), Decimal("7.42"), [1, 1, 1])
    assert [s.discount for s in shares] == [Decimal("3.33"), Decimal("3.34"), Decimal("3.33")]
    assert [s.tax for s in shares] == [Decimal("2.47"), Decimal("2.48"), Decimal("2.47")]
    assert [s.amount for s in shares] == [Decimal("32.47"), Decimal("32.47"), Decimal("32.47")]
    with pytest.raises(ValueError):
        refund_share(
            quantity=3, unit_price=Decimal(1), discount=Decimal(0), tax=Decimal(0),
            already=2, count=2,
        )  # fmt: skip
