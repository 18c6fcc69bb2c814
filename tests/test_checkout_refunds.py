"""Defect 2: one seat of a multi-seat line could not be refunded; three seats sold
together were one item and refunded only together.

Refunds now go by quantity and by seat (core/checkout/refunds.py): the item counts what
it gave back and keeps its arithmetic (per-ticket shares of discount and tax, so all its
refunds together are exactly what it cost), the seat becomes available, the ticket
type's remaining capacity grows by what was refunded, and the order is refunded, and its
code use given back, only when nothing of it is left.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.checkout.errors import InvalidOrderState
from core.checkout.orders import cancel_order, refund_order
from core.checkout.refunds import RefundLine
from core.errors import ValidationError
from tests.checkout_world import (
    ACTOR,
    checkout_db_fixture,  # noqa: F401  (the module's scratch database)
    code_usage,
    hold,
    make_code,
    make_sale_event,
    one,
    place,
    remaining,
    rows,
    scalar,
    seat_rows,
    violations,
)

pytestmark = pytest.mark.usefixtures("checkout_db")

D = Decimal


def item_counters(item_id) -> tuple[object, ...]:
    return tuple(
        one(
            "SELECT refunded_quantity, refunded_discount, refunded_tax, refunded_amount,"
            " refunded_seat_ids, refunded_at IS NOT NULL FROM order_items WHERE id = :i",
            i=item_id,
        )
    )


def the_item(order_id) -> tuple[object, ...]:
    return tuple(
        one(
            "SELECT id, quantity, final_price + tax_amount, seat_ids FROM order_items"
            " WHERE order_id = :o",
            o=order_id,
        )
    )


def status(order_id) -> str:
    return scalar("SELECT status FROM orders WHERE id = :o", o=order_id)


def test_one_seat_of_a_three_seat_line_is_refunded() -> None:
    event = make_sale_event([], seats=3, tax_rate="0.0825")  # seats at 80.00
    s1, s2, s3 = event.seat_ids
    order = place(hold(event, seats=[s1, s2, s3]))
    item_id, quantity, cost, seats = the_item(order.order_id)
    assert (quantity, cost, sorted(seats)) == (3, D("259.80"), sorted([s1, s2, s3]))
    capacity_before = remaining(event.seat_type_id)

    result = refund_order(
        ACTOR, order.order_id, "one guest cannot come", lines=[RefundLine(item_id, seat_ids=[s2])]
    )

    # 80.00 and its tax share: cumulative 6.60 of 19.80 for the first of three tickets.
    assert (result.status, result.refunded_amount, result.released_tickets) == (
        "completed",
        D("86.60"),
        1,
    )
    assert [(line.quantity, line.seat_ids) for line in result.lines] == [(1, (s2,))]
    assert item_counters(item_id) == (1, D("0.00"), D("6.60"), D("86.60"), [s2], False)
    assert {s: row[0] for s, row in seat_rows(event).items()} == {
        s1: "sold",
        s2: "available",
        s3: "sold",
    }
    assert remaining(event.seat_type_id) == capacity_before + 1
    assert status(order.order_id) == "completed"
    refund = one(
        "SELECT amount, quantity, seat_ids, discount_amount, tax_amount, reason"
        " FROM order_refunds WHERE order_id = :o",
        o=order.order_id,
    )
    assert tuple(refund) == (D("86.60"), 1, [s2], D("0.00"), D("6.60"), "one guest cannot come")
    assert violations(event.event_id) == []

    # The seat is on sale again, and sells.
    resold = place(hold(event, seats=[s2]))
    assert resold.status == "completed" and seat_rows(event)[s2][0] == "sold"

    # The other two, by seat: now nothing is left, the order is refunded, and all the
    # refunds together are exactly what the line cost.
    last = refund_order(
        ACTOR, order.order_id, "the others too", lines=[RefundLine(item_id, seat_ids=[s3, s1])]
    )
    assert (last.status, last.refunded_amount, last.released_tickets) == (
        "refunded",
        D("173.20"),
        2,
    )
    assert (
        scalar("SELECT sum(amount) FROM order_refunds WHERE order_id = :o", o=order.order_id)
        == cost
    )
    assert item_counters(item_id)[0] == 3 and item_counters(item_id)[5] is True
    assert violations(event.event_id) == []


def test_refunds_one_ticket_at_a_time_add_up_and_give_the_code_back_at_the_end() -> None:
    """Odd cents: 3 × 33.33 with a 10 % code and 8.25 % tax; shares per ticket rounded
    cumulatively, so the three refunds are exactly the line's cost."""
    event = make_sale_event([{"base_price": D("33.33")}], tax_rate="0.0825")
    (general,) = event.ticket_type_ids
    code = make_code(value="10", events=[event.event_id])
    order = place(hold(event, {general: 3}), code=code.code)
    item_id, _, cost, _ = the_item(order.order_id)
    assert code_usage(code) == 1

    amounts = []
    for n in range(3):
        result = refund_order(
            ACTOR, order.order_id, f"ticket {n}", lines=[RefundLine(item_id, quantity=1)]
        )
        amounts.append(result.refunded_amount)
        assert code_usage(code) == (0 if n == 2 else 1), "the code comes back with the last"
        assert remaining(general) == 10 - 3 + n + 1
    assert sum(amounts) == cost == order.total
    assert status(order.order_id) == "refunded"
    discount, tax = one(
        "SELECT discount_amount, tax_amount FROM order_items WHERE id = :i", i=item_id
    )
    assert item_counters(item_id)[:4] == (3, discount, tax, cost)
    assert violations(event.event_id, [code.code]) == []


def test_two_tickets_at_once_give_back_what_one_and_one_do() -> None:
    event = make_sale_event([{"base_price": D("33.33")}], tax_rate="0.0825")
    (general,) = event.ticket_type_ids
    orders = [place(hold(event, {general: 3})) for _ in range(2)]
    stepwise, at_once = (the_item(o.order_id)[0] for o in orders)
    one_and_one = sum(
        refund_order(
            ACTOR, orders[0].order_id, "x", lines=[RefundLine(stepwise, quantity=1)]
        ).refunded_amount
        for _ in range(2)
    )
    both = refund_order(
        ACTOR, orders[1].order_id, "x", lines=[RefundLine(at_once, quantity=2)]
    ).refunded_amount
    assert one_and_one == both


def test_a_line_mixing_a_seat_and_a_ticket_without_one() -> None:
    """One item can hold a seat and a ticket of the same type without a seat: refunding
    by number gives back the seatless one and keeps the seat sold."""
    event = make_sale_event([], seats=2)
    s1, _ = event.seat_ids
    order = place(hold(event, {event.seat_type_id: 1}, seats=[s1]))
    item_id, quantity, _, _ = the_item(order.order_id)
    assert quantity == 2
    refund_order(ACTOR, order.order_id, "x", lines=[RefundLine(item_id, quantity=1)])
    assert seat_rows(event)[s1][0] == "sold"
    with pytest.raises(ValidationError) as caught:
        refund_order(ACTOR, order.order_id, "x", lines=[RefundLine(item_id, quantity=1)])
    assert caught.value.field == "seat_ids" and "Choose which seats" in caught.value.message
    refund_order(ACTOR, order.order_id, "x", lines=[RefundLine(item_id, seat_ids=[s1])])
    assert seat_rows(event)[s1][0] == "available" and status(order.order_id) == "refunded"
    assert violations(event.event_id) == []


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        (lambda i, s: [RefundLine(i, quantity=4)], "quantity"),
        (lambda i, s: [RefundLine(i, quantity=0)], "quantity"),
        (lambda i, s: [RefundLine(i, quantity=1.5)], "quantity"),  # type: ignore[arg-type]
        (lambda i, s: [RefundLine(i, quantity=1)], "seat_ids"),  # seats left: say which
        (lambda i, s: [RefundLine(i, seat_ids=[s[0], s[0]])], "seat_ids"),
        (lambda i, s: [RefundLine(i, quantity=1, seat_ids=s[:2])], "seat_ids"),
        (lambda i, s: [RefundLine(i, seat_ids=["A1"])], "seat_ids"),
        (lambda i, s: [RefundLine(i, seat_ids=[s[0]]), RefundLine(i, seat_ids=[s[1]])],
         "item_ids"),
        (lambda i, s: [RefundLine(s[0])], "item_ids"),
        (lambda i, s: [], "lines"),
        (lambda i, s: "everything", "lines"),
        (lambda i, s: [(i, 1)], "lines"),
    ],
)  # fmt: skip
def test_refusals_name_what_is_wrong_and_change_nothing(lines, field: str) -> None:
    event = make_sale_event([], seats=3)
    order = place(hold(event, seats=list(event.seat_ids)))
    item_id = the_item(order.order_id)[0]
    with pytest.raises(ValidationError) as caught:
        refund_order(ACTOR, order.order_id, "x", lines=lines(item_id, list(event.seat_ids)))
    assert caught.value.field == field
    assert item_counters(item_id) == (0, D("0.00"), D("0.00"), D("0.00"), None, False)
    assert rows("SELECT id FROM order_refunds WHERE order_id = :o", o=order.order_id) == []
    assert all(row[0] == "sold" for row in seat_rows(event).values())


def test_a_seat_refunded_already_cannot_be_refunded_again() -> None:
    event = make_sale_event([], seats=2)
    s1, s2 = event.seat_ids
    order = place(hold(event, seats=[s1, s2]))
    item_id = the_item(order.order_id)[0]
    refund_order(ACTOR, order.order_id, "x", lines=[RefundLine(item_id, seat_ids=[s1])])
    with pytest.raises(ValidationError) as caught:
        refund_order(ACTOR, order.order_id, "x", lines=[RefundLine(item_id, seat_ids=[s1])])
    assert caught.value.field == "seat_ids"
    with pytest.raises(ValidationError):
        refund_order(ACTOR, order.order_id, "x", [item_id], lines=[RefundLine(item_id)])


def test_cancelling_after_a_partial_refund_gives_back_only_what_is_left() -> None:
    event = make_sale_event([{"base_price": D("40.00")}], seats=2, tax_rate="0.10")
    (general,) = event.ticket_type_ids
    s1, s2 = event.seat_ids
    order = place(hold(event, {general: 3}, seats=[s1, s2]))
    assert order.total == D("308.00")  # 3 × 44.00 + 2 × 88.00
    by_type = dict(
        rows("SELECT ticket_type_id, id FROM order_items WHERE order_id = :o", o=order.order_id)
    )
    first = refund_order(
        ACTOR,
        order.order_id,
        "x",
        lines=[
            RefundLine(by_type[general], quantity=2),
            RefundLine(by_type[event.seat_type_id], seat_ids=[s2]),
        ],
    )
    assert first.refunded_amount == D("176.00") and first.released_tickets == 3
    cancelled = cancel_order(ACTOR, order.order_id, "event moved")
    assert (cancelled.status, cancelled.refunded_amount, cancelled.released_tickets) == (
        "cancelled",
        D("132.00"),
        2,
    )
    assert first.refunded_amount + cancelled.refunded_amount == order.total
    assert remaining(general) == 10 and remaining(event.seat_type_id) == 2
    assert all(row[0] == "available" for row in seat_rows(event).values())
    with pytest.raises(InvalidOrderState):
        refund_order(ACTOR, order.order_id, "x")
    assert violations(event.event_id) == []


def test_whole_items_and_whole_orders_still_refund_as_before() -> None:
    event = make_sale_event([{}, {"base_price": D("70.00")}])
    a, b = event.ticket_type_ids
    order = place(hold(event, {a: 2, b: 1}))
    items = dict(
        rows("SELECT ticket_type_id, id FROM order_items WHERE order_id = :o", o=order.order_id)
    )
    one_item = refund_order(ACTOR, order.order_id, "x", [items[a]])
    assert (one_item.status, one_item.refunded_amount, one_item.released_tickets) == (
        "completed",
        D("100.00"),
        2,
    )
    rest = refund_order(ACTOR, order.order_id, "x")
    assert (rest.status, rest.refunded_amount) == ("refunded", D("70.00"))
    assert violations(event.event_id) == []
