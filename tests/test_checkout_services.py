"""The checkout services, one behaviour per test, checked on the database afterwards.

Everything runs in a scratch database of this module (tests/checkout_world.py); each test
makes its own event, so tests do not see one another's sales.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from core.checkout.availability import get_availability
from core.checkout.errors import (
    AmountChanged,
    CodeNotValid,
    CodeUsedUp,
    HoldExpired,
    InvalidOrderState,
    LimitExceeded,
    SaleClosed,
    SeatTaken,
    SoldOut,
)
from core.checkout.holds import HoldRequest, hold_tickets, sweep_expired_holds
from core.checkout.orders import cancel_order, quote_order, refund_order
from core.db import Actor, unit_of_work
from core.errors import PermissionDenied, ValidationError
from tests.checkout_world import (
    ACTOR,
    buyer,
    checkout_db_fixture,  # noqa: F401  (the module's scratch database)
    code_usage,
    execute,
    expire_holds,
    hold,
    hold_minutes,
    items,
    make_code,
    make_person,
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


def counts(event_id: uuid.UUID) -> tuple[int, int, int, int]:
    """Orders, items, payments and holds recorded for the event."""
    return one(
        "SELECT (SELECT count(*) FROM orders WHERE event_id = :e),"
        " (SELECT count(*) FROM order_items oi JOIN orders o ON o.id = oi.order_id"
        "   WHERE o.event_id = :e),"
        " (SELECT count(*) FROM order_payments p JOIN orders o ON o.id = p.order_id"
        "   WHERE o.event_id = :e),"
        " (SELECT count(*) FROM ticket_inventory_locks WHERE event_id = :e)",
        e=event_id,
    )


# --- availability ---------------------------------------------------------------------


def test_availability_counts_capacity_sold_held_and_free() -> None:
    event = make_sale_event([{"capacity": 10}, {"capacity": 4, "base_price": D("90.00")}])
    general, vip = event.ticket_type_ids
    place(hold(event, {general: 2}))
    hold(event, {general: 3, vip: 1})

    by_id = {t.ticket_type_id: t for t in get_availability(ACTOR, event.event_id).ticket_types}
    assert (by_id[general].capacity, by_id[general].sold, by_id[general].held) == (10, 2, 3)
    assert by_id[general].free == 5
    assert (by_id[vip].capacity, by_id[vip].sold, by_id[vip].held, by_id[vip].free) == (4, 0, 1, 3)
    assert by_id[vip].price == D("90.00")


def test_availability_reports_each_seats_status() -> None:
    event = make_sale_event([], seats=3)
    s1, s2, s3 = event.seat_ids
    order = place(hold(event, seats=[s1]))
    hold(event, seats=[s2])

    seats = get_availability(ACTOR, event.event_id).seats
    assert (seats[s1].status, seats[s1].order_id) == ("sold", order.order_id)
    assert (seats[s2].status, seats[s2].order_id) == ("held", None)
    assert (seats[s3].status, seats[s3].order_id) == ("available", None)
    assert seats[s1].ticket_type_id == seats[s2].ticket_type_id == event.seat_type_id


# --- holds ----------------------------------------------------------------------------


def test_hold_of_quantities_writes_one_hold_row_per_ticket_type() -> None:
    event = make_sale_event([{}, {"base_price": D("70.00")}])
    a, b = event.ticket_type_ids
    held = hold(event, {a: 2, b: 1})

    found = rows(
        "SELECT ticket_type_id, quantity, session_id, expires_at, seat_ids, order_id,"
        " expires_at - now() FROM ticket_inventory_locks WHERE event_id = :e",
        e=event.event_id,
    )
    assert {(r[0], r[1]) for r in found} == {(a, 2), (b, 1)}
    assert all(r[2] == held.session_id and r[4] is None and r[5] is None for r in found)
    assert all(r[3] == held.expires_at for r in found)
    # No configuration: the default of 15 minutes.
    assert all(timedelta(minutes=14) < r[6] <= timedelta(minutes=15) for r in found)
    assert held.quantities == {a: 2, b: 1}
    assert (remaining(a), remaining(b)) == (10, 10)  # a hold is not a sale
    assert violations(event.event_id) == []


def test_hold_length_comes_from_the_system_configuration() -> None:
    event = make_sale_event()
    (general,) = event.ticket_type_ids
    with hold_minutes(3):
        held = hold(event, {general: 1})
    left = scalar(
        "SELECT expires_at - now() FROM ticket_inventory_locks WHERE session_id = :s",
        s=held.session_id,
    )
    assert timedelta(minutes=2) < left <= timedelta(minutes=3)


def test_hold_of_seats_marks_them_held_for_the_sections_ticket_type() -> None:
    event = make_sale_event([], seats=3)
    s1, s2, s3 = event.seat_ids
    held = hold(event, seats=[s2, s1])

    lock_id, ticket_type_id, quantity, seat_ids, expires_at = one(
        "SELECT id, ticket_type_id, quantity, seat_ids, expires_at FROM ticket_inventory_locks"
        " WHERE session_id = :s",
        s=held.session_id,
    )
    assert (ticket_type_id, quantity) == (event.seat_type_id, 2)
    assert sorted(seat_ids) == sorted([s1, s2])
    seats = seat_rows(event)
    for seat in (s1, s2):
        status, hold_id, held_until, order_id, seat_type, _ = seats[seat]
        assert (status, hold_id, held_until, order_id) == ("held", lock_id, expires_at, None)
        assert seat_type == event.seat_type_id
    assert seats[s3][:2] == ("available", None)
    assert held.seat_ids == tuple(sorted([s1, s2]))
    assert violations(event.event_id) == []


def test_an_expired_hold_stops_counting_at_once_without_the_sweeper() -> None:
    event = make_sale_event([{"capacity": 5}], seats=1)
    (general,) = event.ticket_type_ids
    (seat,) = event.seat_ids
    first = hold(event, {general: 4}, seats=[seat])
    expire_holds(event.event_id, first.session_id)

    availability = get_availability(ACTOR, event.event_id)
    by_id = {t.ticket_type_id: t for t in availability.ticket_types}
    assert (by_id[general].held, by_id[general].free) == (0, 5)
    assert availability.seats[seat].status == "available"
    # The rows are still there, but no longer in anyone's way.
    assert counts(event.event_id)[3] == 2
    second = hold(event, {general: 5}, seats=[seat])
    assert seat_rows(event)[seat][0] == "held"
    assert scalar(
        "SELECT hold_id = (SELECT id FROM ticket_inventory_locks WHERE session_id = :s"
        " AND seat_ids IS NOT NULL) FROM event_seats WHERE seat_id = :seat",
        s=second.session_id,
        seat=seat,
    )
    assert violations(event.event_id) == []


def test_a_zero_minute_hold_length_expires_holds_immediately() -> None:
    event = make_sale_event([{"capacity": 2}])
    (general,) = event.ticket_type_ids
    with hold_minutes(0):
        held = hold(event, {general: 2})
        hold(event, {general: 2})  # the first no longer counts
    with pytest.raises(HoldExpired):
        place(held, expected=D("100.00"))


def test_sweep_deletes_expired_holds_and_frees_their_seats() -> None:
    event = make_sale_event([{}], seats=2)
    (general,) = event.ticket_type_ids
    s1, s2 = event.seat_ids
    stale = hold(event, {general: 3}, seats=[s1])
    live = hold(event, {general: 1}, seats=[s2])
    expire_holds(event.event_id, stale.session_id)

    released = sweep_expired_holds(ACTOR)

    assert released >= 4  # 3 tickets and 1 seat (other tests' expired holds may add)
    left = rows(
        "SELECT session_id FROM ticket_inventory_locks WHERE event_id = :e", e=event.event_id
    )
    assert {r[0] for r in left} == {live.session_id}
    seats = seat_rows(event)
    assert seats[s1][:3] == ("available", None, None)
    assert seats[s2][0] == "held"
    assert sweep_expired_holds(ACTOR) == 0
    assert violations(event.event_id) == []


# --- quotes ---------------------------------------------------------------------------


def test_quote_without_code_adds_the_events_tax() -> None:
    event = make_sale_event([{"base_price": D("50.00")}], tax_rate="0.0825")
    (general,) = event.ticket_type_ids
    held = hold(event, {general: 3})

    quote = quote_order(ACTOR, event.event_id, held.session_id, None, buyer())

    assert (quote.subtotal, quote.discount, quote.tax, quote.total) == (
        D("150.00"),
        D("0.00"),
        D("12.38"),  # 12.375 rounds half up
        D("162.38"),
    )
    assert quote.code is None


def test_quote_uses_a_ticket_types_own_tax_rate_over_the_events() -> None:
    event = make_sale_event(
        [{"base_price": D("40.00")}, {"base_price": D("100.00"), "tax_rate": D("0.2")}],
        tax_rate="0.05",
    )
    general, vip = event.ticket_type_ids
    held = hold(event, {general: 2, vip: 1})

    quote = quote_order(ACTOR, event.event_id, held.session_id, None, buyer())

    tax = {p.line.ticket_type_id: p.tax for p in quote.lines}
    assert tax == {general: D("4.00"), vip: D("20.00")}
    assert (quote.subtotal, quote.tax, quote.total) == (D("180.00"), D("24.00"), D("204.00"))


def test_quote_percentage_code_is_capped_by_its_maximum() -> None:
    event = make_sale_event([{"base_price": D("100.00")}], tax_rate="0.1")
    (general,) = event.ticket_type_ids
    code = make_code("discount", "percentage", "20", maximum="25.00")
    held = hold(event, {general: 3})

    quote = quote_order(ACTOR, event.event_id, held.session_id, code.code.lower(), buyer())

    # 20% of 300.00 would be 60.00; the maximum is 25.00. Tax on what is paid.
    assert (quote.subtotal, quote.discount, quote.tax, quote.total) == (
        D("300.00"),
        D("25.00"),
        D("27.50"),
        D("302.50"),
    )
    assert quote.code is not None and quote.code.id == code.id


def test_quote_fixed_amount_code_is_spread_over_the_lines() -> None:
    event = make_sale_event([{"base_price": D("30.00")}, {"base_price": D("90.00")}])
    cheap, dear = event.ticket_type_ids
    code = make_code("discount", "fixed_amount", "12.00", events=[event.event_id])
    held = hold(event, {cheap: 1, dear: 1})

    quote = quote_order(ACTOR, event.event_id, held.session_id, code.code, buyer())

    share = {p.line.ticket_type_id: p.discount for p in quote.lines}
    assert share == {cheap: D("3.00"), dear: D("9.00")}  # in proportion to 30 : 90
    assert (quote.subtotal, quote.discount, quote.total) == (D("120.00"), D("12.00"), D("108.00"))


def test_quote_free_item_promo_code_gives_the_cheapest_eligible_ticket() -> None:
    event = make_sale_event([{"base_price": D("40.00")}, {"base_price": D("120.00")}])
    cheap, dear = event.ticket_type_ids
    anywhere = make_code("promo", "free_item", "1")
    vip_only = make_code("promo", "free_item", "1", ticket_types=[dear])
    held = hold(event, {cheap: 2, dear: 1})

    free_cheap = quote_order(ACTOR, event.event_id, held.session_id, anywhere.code, buyer())
    free_vip = quote_order(ACTOR, event.event_id, held.session_id, vip_only.code, buyer())

    assert (free_cheap.discount, free_cheap.total) == (D("40.00"), D("160.00"))
    assert {p.line.ticket_type_id: p.discount for p in free_vip.lines} == {
        cheap: D("0.00"),
        dear: D("120.00"),
    }
    assert free_vip.total == D("80.00")


# --- placing orders -------------------------------------------------------------------


def test_place_order_stores_amounts_items_payment_and_the_sale() -> None:
    event = make_sale_event(
        [{"base_price": D("50.00")}, {"base_price": D("80.00"), "tax_rate": D("0.2")}],
        tax_rate="0.1",
    )
    general, vip = event.ticket_type_ids
    code = make_code("discount", "percentage", "10", events=[event.event_id], usage_limit=5)
    held = hold(event, {general: 2, vip: 1})
    who = buyer(name="  Grace Hopper ", phone="+1 555 0100")

    placed = place(held, code=code.code, who=who, method="card_terminal", key="place-1")

    order = one(
        "SELECT status, subtotal, discount_amount, tax_amount, total_amount, billing_email,"
        " billing_name, billing_phone, payment_method, payment_intent_id, completed_at,"
        " idempotency_key, order_number, event_id FROM orders WHERE id = :o",
        o=placed.order_id,
    )
    # 100.00 + 80.00 = 180.00; 10% off: 10.00 + 8.00; tax 9.00 + 14.40.
    assert order[:5] == ("completed", D("180.00"), D("18.00"), D("23.40"), D("185.40"))
    assert (placed.subtotal, placed.discount, placed.tax, placed.total) == order[1:5]
    assert order[5:9] == (who.email, "Grace Hopper", "+1 555 0100", "card_terminal")
    assert order[10] is not None and order[11] == "place-1" and order[13] == event.event_id
    assert order[12] == placed.order_number and order[12].startswith("FW-")

    found = items(placed.order_id)
    assert [(i[1], i[2], i[3], i[4], i[5], i[6], i[7]) for i in found] == [
        (general, 2, D("50.00"), D("100.00"), D("10.00"), D("90.00"), D("9.00")),
        (vip, 1, D("80.00"), D("80.00"), D("8.00"), D("72.00"), D("14.40")),
    ]
    assert all(i[6] == i[4] - i[5] and i[8] == code.id and i[9] is None for i in found)

    payment = one(
        "SELECT provider, method, amount, currency, reference FROM order_payments"
        " WHERE order_id = :o",
        o=placed.order_id,
    )
    assert payment == ("box_office", "card_terminal", D("185.40"), "USD", order[9])
    assert (remaining(general), remaining(vip)) == (8, 9)
    assert counts(event.event_id)[3] == 0  # the hold became the sale
    assert code_usage(code) == 1
    assert violations(event.event_id, [code.code]) == []


def test_place_order_sells_the_held_seats() -> None:
    event = make_sale_event([], seats=3, seat_type={"base_price": D("75.00")})
    s1, s2, s3 = event.seat_ids
    placed = place(hold(event, seats=[s1, s3]))

    seats = seat_rows(event)
    for seat in (s1, s3):
        status, hold_id, held_until, order_id, seat_type, price = seats[seat]
        assert (status, hold_id, held_until, order_id) == ("sold", None, None, placed.order_id)
        assert (seat_type, price) == (event.seat_type_id, D("75.00"))
    assert seats[s2][0] == "available"
    (item,) = items(placed.order_id)
    assert (item[1], item[2], sorted(item[10])) == (event.seat_type_id, 2, sorted([s1, s3]))
    assert remaining(event.seat_type_id) == 1
    assert violations(event.event_id) == []


def test_place_order_with_a_promo_code_records_its_use() -> None:
    event = make_sale_event([{"base_price": D("60.00")}])
    (general,) = event.ticket_type_ids
    code = make_code("promo", "fixed_amount", "15.00", events=[event.event_id])
    placed = place(hold(event, {general: 2}), code=code.code)

    assert placed.total == D("105.00")
    (item,) = items(placed.order_id)
    assert (item[8], item[9], item[5]) == (None, code.id, D("15.00"))
    usage = rows(
        "SELECT order_id, discount_amount, order_total FROM promotional_code_usage"
        " WHERE code_id = :c",
        c=code.id,
    )
    assert usage == [(placed.order_id, D("15.00"), D("105.00"))]
    assert code_usage(code) == 1
    assert violations(event.event_id, [code.code]) == []


def test_amount_changed_when_the_expected_total_differs_and_nothing_is_written() -> None:
    event = make_sale_event([{"base_price": D("50.00")}])
    (general,) = event.ticket_type_ids
    code = make_code("discount", "percentage", "10", usage_limit=3)
    held = hold(event, {general: 2})
    before = counts(event.event_id)

    with pytest.raises(AmountChanged) as caught:
        place(held, code=code.code, key="changed-1", expected=D("100.00"))

    assert caught.value.code == "amount_changed"
    assert caught.value.field == "expected_total"
    assert "90.00" in caught.value.message and "100.00" in caught.value.message
    assert counts(event.event_id) == before
    assert (remaining(general), code_usage(code)) == (10, 0)
    # Nothing was recorded under the key either: the confirmed total goes through.
    placed = place(held, code=code.code, key="changed-1", expected=D("90.00"))
    assert not placed.replayed and placed.total == D("90.00")


def test_replaying_an_idempotency_key_returns_the_same_order() -> None:
    event = make_sale_event([{"capacity": 5}])
    (general,) = event.ticket_type_ids
    held = hold(event, {general: 2})
    ada = buyer()
    first = place(held, key="replay-1", who=ada)

    # The same request again (a double click, a retry after a lost answer).
    again = place(held, key="replay-1", who=ada, expected=first.total)

    assert again.replayed and not first.replayed
    assert (again.order_id, again.order_number, again.total) == (
        first.order_id,
        first.order_number,
        first.total,
    )
    assert counts(event.event_id)[:3] == (1, 1, 1)
    assert remaining(general) == 3
    assert violations(event.event_id) == []


# --- refusals -------------------------------------------------------------------------


def test_sold_out_names_what_is_left() -> None:
    event = make_sale_event([{"capacity": 5, "name": "Front Row"}])
    (front,) = event.ticket_type_ids
    place(hold(event, {front: 2}))
    hold(event, {front: 1})

    with pytest.raises(SoldOut) as caught:
        hold(event, {front: 3})

    assert (caught.value.code, caught.value.field) == ("sold_out", "quantities")
    assert caught.value.message == "Front Row: only 2 left."
    hold(event, {front: 2})
    with pytest.raises(SoldOut, match="Front Row: sold out"):
        hold(event, {front: 1})
    assert violations(event.event_id) == []


def test_event_capacity_binds_across_ticket_types() -> None:
    event = make_sale_event([{"capacity": 4}, {"capacity": 4}], capacity=5)
    a, b = event.ticket_type_ids
    place(hold(event, {a: 3}))
    hold(event, {b: 1})

    with pytest.raises(SoldOut, match="The event is sold out") as caught:
        hold(event, {b: 2})

    assert caught.value.field == "quantities"
    hold(event, {b: 1})
    assert violations(event.event_id) == []


def test_seat_taken_names_the_seat() -> None:
    event = make_sale_event([], seats=3)
    s1, s2, _ = event.seat_ids
    hold(event, seats=[s1])
    place(hold(event, seats=[s2]))

    for seat, label in ((s1, "A1"), (s2, "A2")):
        with pytest.raises(SeatTaken) as caught:
            hold(event, seats=[seat])
        assert (caught.value.code, caught.value.field) == ("seat_taken", "seat_ids")
        assert f"Seat {label} is no longer available" in caught.value.message
    assert violations(event.event_id) == []


def test_hold_expired_refuses_quote_and_order_and_writes_nothing() -> None:
    event = make_sale_event()
    (general,) = event.ticket_type_ids
    held = hold(event, {general: 2})
    expire_holds(event.event_id, held.session_id)

    with pytest.raises(HoldExpired) as caught:
        place(held, expected=D("100.00"))
    assert caught.value.code == "hold_expired"
    assert "expired" in caught.value.message
    with pytest.raises(HoldExpired):
        quote_order(ACTOR, event.event_id, held.session_id, None, buyer())
    with pytest.raises(HoldExpired):  # a session that holds nothing at all
        quote_order(ACTOR, event.event_id, "no-such-session", None, buyer())
    assert counts(event.event_id)[:3] == (0, 0, 0)
    assert remaining(general) == 10


@pytest.mark.parametrize("status", ["draft", "cancelled"])
def test_sale_closed_when_the_event_is_not_published(status: str) -> None:
    event = make_sale_event(status=status)
    (general,) = event.ticket_type_ids

    with pytest.raises(SaleClosed) as caught:
        hold(event, {general: 1})

    assert caught.value.code == "sale_closed"
    assert status in caught.value.message
    assert counts(event.event_id)[3] == 0


def test_sale_closed_at_placing_when_the_event_was_unpublished_meanwhile() -> None:
    event = make_sale_event()
    (general,) = event.ticket_type_ids
    held = hold(event, {general: 1})
    execute("UPDATE events SET status = 'draft' WHERE id = :e", e=event.event_id)

    with pytest.raises(SaleClosed, match="not on sale"):
        place(held, expected=D("50.00"))
    assert counts(event.event_id)[:3] == (0, 0, 0)


@pytest.mark.parametrize(
    ("starts", "ends"),
    [(timedelta(days=1), timedelta(days=5)), (timedelta(days=-5), timedelta(minutes=-1))],
    ids=["not-yet", "ended"],
)
def test_sale_closed_outside_the_ticket_types_sale_window(
    starts: timedelta, ends: timedelta
) -> None:
    now = datetime.now(UTC)
    event = make_sale_event(
        [{"name": "Early Bird", "sale_start_date": now + starts, "sale_end_date": now + ends}]
    )
    (early,) = event.ticket_type_ids

    with pytest.raises(SaleClosed) as caught:
        hold(event, {early: 1})

    assert (caught.value.code, caught.value.field) == ("sale_closed", "ticket_type_id")
    assert caught.value.message == "Early Bird is not on sale now."


def test_sale_closed_for_an_inactive_ticket_type() -> None:
    event = make_sale_event([{"is_active": False}])
    with pytest.raises(SaleClosed):
        hold(event, {event.ticket_type_ids[0]: 1})


def test_limit_exceeded_above_the_maximum_per_order() -> None:
    event = make_sale_event([{"name": "VIP", "max_quantity_per_order": 4}])
    (vip,) = event.ticket_type_ids

    with pytest.raises(LimitExceeded) as caught:
        hold(event, {vip: 5})

    assert (caught.value.code, caught.value.field) == ("limit_exceeded", "quantities")
    assert caught.value.message == "At most 4 × VIP per order."
    hold(event, {vip: 4})


def _code_case(case: str, event_id: uuid.UUID) -> str:
    now = datetime.now(UTC)
    if case == "unknown":
        return "NO-SUCH-CODE"
    if case == "other event":
        other = make_sale_event()
        return make_code(events=[other.event_id]).code
    if case == "expired":
        return make_code(starts=now - timedelta(days=9), ends=now - timedelta(days=1)).code
    if case == "not yet":
        return make_code(starts=now + timedelta(days=1), ends=now + timedelta(days=9)).code
    if case == "inactive":
        return make_code("promo", active=False).code
    if case == "minimum":
        return make_code(minimum="500.00").code
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("unknown", "does not exist"),
        ("other event", "not valid for this event"),
        ("expired", "has expired"),
        ("not yet", "not valid yet"),
        ("inactive", "is not active"),
        ("minimum", "needs an order of at least 500.00"),
    ],
)
def test_code_not_valid(case: str, fragment: str) -> None:
    event = make_sale_event()
    (general,) = event.ticket_type_ids
    held = hold(event, {general: 2})
    code = _code_case(case, event.event_id)

    with pytest.raises(CodeNotValid) as caught:
        quote_order(ACTOR, event.event_id, held.session_id, code, buyer())
    assert (caught.value.code, caught.value.field) == ("code_invalid", "code")
    assert fragment in caught.value.message
    with pytest.raises(CodeNotValid):
        place(held, code=code, expected=D("100.00"))
    assert counts(event.event_id)[:3] == (0, 0, 0)


def test_code_limited_to_other_ticket_types_is_not_valid() -> None:
    event = make_sale_event([{}, {}])
    a, b = event.ticket_type_ids
    code = make_code(ticket_types=[b])
    held = hold(event, {a: 1})
    with pytest.raises(CodeNotValid, match="not valid for this event or these tickets"):
        quote_order(ACTOR, event.event_id, held.session_id, code.code, buyer())


@pytest.mark.parametrize("kind", ["discount", "promo"])
def test_code_once_per_customer_cannot_be_used_twice_by_the_same_buyer(kind: str) -> None:
    event = make_sale_event()
    (general,) = event.ticket_type_ids
    code = make_code(kind, once_per_customer=True)
    ada = buyer()
    place(hold(event, {general: 1}), code=code.code, who=ada)

    again = hold(event, {general: 1})
    with pytest.raises(CodeNotValid, match="once per customer") as caught:
        # Same person, e-mail in other letter case.
        place(again, code=code.code, who=buyer(email=ada.email.upper()), expected=D("45.00"))
    assert caught.value.field == "code"
    place(again, code=code.code, who=buyer())  # someone else may
    assert code_usage(code) == 2
    assert violations(event.event_id, [code.code]) == []


def test_first_purchase_only_code_is_refused_after_an_earlier_order() -> None:
    event = make_sale_event()
    (general,) = event.ticket_type_ids
    code = make_code("discount", first_purchase_only=True)
    ada, bob = buyer(), buyer()
    place(hold(event, {general: 1}), who=ada)
    cancelled = place(hold(event, {general: 1}), who=bob)
    cancel_order(ACTOR, cancelled.order_id, "changed plans")

    with pytest.raises(CodeNotValid, match="first purchase only"):
        place(hold(event, {general: 1}), code=code.code, who=ada, expected=D("45.00"))
    # A cancelled order does not count as a purchase.
    placed = place(hold(event, {general: 1}), code=code.code, who=bob)
    assert placed.discount == D("5.00")


@pytest.mark.parametrize("kind", ["discount", "promo"])
def test_code_used_up_at_its_usage_limit(kind: str) -> None:
    event = make_sale_event()
    (general,) = event.ticket_type_ids
    code = make_code(kind, usage_limit=1)
    place(hold(event, {general: 1}), code=code.code)
    held = hold(event, {general: 1})

    with pytest.raises(CodeUsedUp) as caught:
        quote_order(ACTOR, event.event_id, held.session_id, code.code, buyer())
    assert (caught.value.code, caught.value.field) == ("code_used_up", "code")
    assert "used up" in caught.value.message
    with pytest.raises(CodeUsedUp):
        place(held, code=code.code, expected=D("45.00"))
    assert code_usage(code) == 1
    assert counts(event.event_id)[:2] == (1, 1)
    assert violations(event.event_id, [code.code]) == []


@pytest.mark.parametrize(
    ("who", "field", "fragment"),
    [
        ({"email": "not-an-email"}, "billing_email", "email"),
        ({"email": ""}, "billing_email", "email"),
        ({"name": ""}, "billing_name", "name is required"),
        ({"name": "   "}, "billing_name", "name is required"),
    ],
)
def test_buyer_details_are_validated(who: dict[str, str], field: str, fragment: str) -> None:
    event = make_sale_event()
    held = hold(event, {event.ticket_type_ids[0]: 1})

    with pytest.raises(ValidationError) as caught:
        place(held, who=buyer(**who), expected=D("50.00"))

    assert (caught.value.code, caught.value.field) == ("invalid", field)
    assert fragment in caught.value.message
    assert counts(event.event_id) == (0, 0, 0, 1)


def test_complimentary_order_must_total_zero() -> None:
    event = make_sale_event([{"base_price": D("50.00")}])
    (general,) = event.ticket_type_ids
    comp = make_code("discount", "percentage", "100", usage_limit=1)
    held = hold(event, {general: 2})

    with pytest.raises(ValidationError) as caught:
        place(held, method="complimentary", code=None)
    assert (caught.value.code, caught.value.field) == ("invalid", "payment_method")
    assert "complimentary" in caught.value.message.lower()
    assert counts(event.event_id) == (0, 0, 0, 1)
    assert remaining(general) == 10

    placed = place(held, method="complimentary", code=comp.code)
    assert placed.total == D("0.00")
    payment = one(
        "SELECT method, amount FROM order_payments WHERE order_id = :o", o=placed.order_id
    )
    assert payment == ("complimentary", D("0.00"))
    assert violations(event.event_id, [comp.code]) == []


def test_unknown_payment_method_is_refused() -> None:
    event = make_sale_event()
    held = hold(event, {event.ticket_type_ids[0]: 1})
    with pytest.raises(ValidationError) as caught:
        place(held, method="bitcoin")
    assert caught.value.field == "payment_method"
    assert counts(event.event_id)[:3] == (0, 0, 0)


# --- cancelling and refunding ---------------------------------------------------------


def _order_with_two_items(kind: str = "discount"):
    """An order for 2 general tickets and one seat, with a 10% code (usage limit 2)."""
    event = make_sale_event([{"base_price": D("50.00")}], seats=2, tax_rate="0.1")
    (general,) = event.ticket_type_ids
    s1, _ = event.seat_ids
    code = make_code(kind, "percentage", "10", usage_limit=2)
    placed = place(hold(event, {general: 2}, seats=[s1]), code=code.code)
    return event, code, placed


def test_cancel_order_releases_tickets_and_seats_refunds_and_returns_the_code_use() -> None:
    event, code, placed = _order_with_two_items()
    (general,) = event.ticket_type_ids
    s1, _ = event.seat_ids

    result = cancel_order(ACTOR, placed.order_id, "  show moved  ")

    assert (result.status, result.released_tickets) == ("cancelled", 3)
    assert result.refunded_amount == placed.total
    status, cancelled_at = one(
        "SELECT status, cancelled_at FROM orders WHERE id = :o", o=placed.order_id
    )
    assert status == "cancelled" and cancelled_at is not None
    assert (remaining(general), remaining(event.seat_type_id)) == (10, 2)
    assert seat_rows(event)[s1][:4] == ("available", None, None, None)
    assert all(i[11] is not None for i in items(placed.order_id))
    refunds = rows(
        "SELECT r.order_item_id, r.amount, r.reason, i.final_price + i.tax_amount"
        " FROM order_refunds r JOIN order_items i ON i.id = r.order_item_id"
        " WHERE r.order_id = :o",
        o=placed.order_id,
    )
    assert len(refunds) == 2
    assert all(r[1] == r[3] and r[2] == "show moved" for r in refunds)
    assert sum(r[1] for r in refunds) == placed.total
    assert code_usage(code) == 0
    # The seat can be sold again.
    place(hold(event, seats=[s1]))
    assert violations(event.event_id, [code.code]) == []


def test_refund_of_one_item_keeps_the_code_use_and_releases_only_that_item() -> None:
    event, code, placed = _order_with_two_items()
    (general,) = event.ticket_type_ids
    s1, _ = event.seat_ids
    general_item, seat_item = items(placed.order_id)

    result = refund_order(ACTOR, placed.order_id, "seat broken", [seat_item[0]])

    assert (result.status, result.released_tickets) == ("completed", 1)
    assert result.refunded_amount == seat_item[6] + seat_item[7]
    assert scalar("SELECT status FROM orders WHERE id = :o", o=placed.order_id) == "completed"
    assert (remaining(general), remaining(event.seat_type_id)) == (8, 2)
    assert seat_rows(event)[s1][0] == "available"
    after = {i[0]: i[11] for i in items(placed.order_id)}
    assert after[seat_item[0]] is not None and after[general_item[0]] is None
    refunds = rows(
        "SELECT order_item_id, amount FROM order_refunds WHERE order_id = :o", o=placed.order_id
    )
    assert refunds == [(seat_item[0], seat_item[6] + seat_item[7])]
    assert code_usage(code) == 1
    assert violations(event.event_id, [code.code]) == []


def test_refunding_every_item_marks_the_order_refunded_and_returns_the_code_use() -> None:
    event, code, placed = _order_with_two_items("promo")
    general_item, _seat_item = items(placed.order_id)
    refund_order(ACTOR, placed.order_id, "partial", [general_item[0]])
    assert code_usage(code) == 1

    result = refund_order(ACTOR, placed.order_id, "the rest")

    assert (result.status, result.released_tickets) == ("refunded", 1)
    status, refunded_at = one(
        "SELECT status, refunded_at FROM orders WHERE id = :o", o=placed.order_id
    )
    assert status == "refunded" and refunded_at is not None
    assert code_usage(code) == 0
    assert scalar("SELECT count(*) FROM promotional_code_usage WHERE code_id = :c", c=code.id) == 0
    total_refunded = scalar(
        "SELECT sum(amount) FROM order_refunds WHERE order_id = :o", o=placed.order_id
    )
    assert total_refunded == placed.total
    assert (remaining(event.ticket_type_ids[0]), remaining(event.seat_type_id)) == (10, 2)
    assert violations(event.event_id, [code.code]) == []


def test_refunding_twice_is_refused() -> None:
    event, code, placed = _order_with_two_items()
    general_item, _seat_item = items(placed.order_id)
    refund_order(ACTOR, placed.order_id, "first", [general_item[0]])

    with pytest.raises(ValidationError) as caught:
        refund_order(ACTOR, placed.order_id, "again", [general_item[0]])
    assert caught.value.field == "item_ids"
    assert "refunded already" in caught.value.message

    refund_order(ACTOR, placed.order_id, "rest")
    with pytest.raises(InvalidOrderState) as state:
        refund_order(ACTOR, placed.order_id, "once more")
    assert state.value.code == "invalid_order_state"
    assert "refunded order cannot be refunded" in state.value.message
    with pytest.raises(InvalidOrderState, match="cannot be cancelled"):
        cancel_order(ACTOR, placed.order_id, "too late")
    assert scalar("SELECT count(*) FROM order_refunds WHERE order_id = :o", o=placed.order_id) == 2
    assert violations(event.event_id, [code.code]) == []


def test_a_cancelled_order_cannot_be_cancelled_or_refunded() -> None:
    event = make_sale_event()
    placed = place(hold(event, {event.ticket_type_ids[0]: 2}))
    cancel_order(ACTOR, placed.order_id, "first")

    with pytest.raises(InvalidOrderState, match="cancelled order cannot be cancelled"):
        cancel_order(ACTOR, placed.order_id, "again")
    with pytest.raises(InvalidOrderState, match="cancelled order cannot be refunded"):
        refund_order(ACTOR, placed.order_id, "again")
    assert remaining(event.ticket_type_ids[0]) == 10
    assert violations(event.event_id) == []


def test_cancel_and_refund_need_a_reason_and_an_existing_order() -> None:
    with pytest.raises(ValidationError) as caught:
        cancel_order(ACTOR, uuid.uuid4(), "  ")
    assert caught.value.field == "reason"
    from core.errors import NotFound

    with pytest.raises(NotFound):
        refund_order(ACTOR, uuid.uuid4(), "why not")


# --- who acts -------------------------------------------------------------------------


def test_the_actors_user_id_is_visible_inside_the_unit_of_work_and_recorded() -> None:
    person = make_person()
    actor = Actor(person, "203.0.113.7", "box-office")
    with unit_of_work(actor) as uow:
        seen = uow.session.execute(
            text("SELECT current_setting('app.user_id'), app_current_user_id()")
        ).one()
    assert seen == (str(person), person)

    event = make_sale_event()
    placed = place(hold(event, {event.ticket_type_ids[0]: 1}), actor=actor)
    refund_order(actor, placed.order_id, "audit")
    assert one(
        "SELECT o.ip_address, o.user_agent, r.refunded_by FROM orders o"
        " JOIN order_refunds r ON r.order_id = o.id WHERE o.id = :o",
        o=placed.order_id,
    ) == ("203.0.113.7", "box-office", person)


def test_a_person_needs_the_role_for_each_step_and_a_refusal_changes_nothing() -> None:
    event = make_sale_event()
    (general,) = event.ticket_type_ids
    marketing = Actor(make_person("marketing"), user_agent="pytest")
    anonymous = Actor(None, user_agent="pytest")
    request = HoldRequest(event.event_id, f"who-{uuid.uuid4().hex[:8]}", {general: 1})
    for actor in (marketing, anonymous):
        with pytest.raises(PermissionDenied, match=r"box_office\.sell"):
            hold_tickets(actor, request)
        with pytest.raises(PermissionDenied):
            get_availability(actor, event.event_id)
    assert (
        scalar("SELECT count(*) FROM ticket_inventory_locks WHERE event_id = :e", e=event.event_id)
        == 0
    )

    staff = Actor(make_person("staff"), user_agent="pytest")
    placed = place(hold_tickets(staff, request), actor=staff)
    with pytest.raises(PermissionDenied, match=r"orders\.refund"):
        refund_order(staff, placed.order_id, "staff may sell but not refund")
    assert one("SELECT status FROM orders WHERE id = :o", o=placed.order_id) == ("completed",)


# --- known bugs (xfail, strict: they start passing when the bug is fixed) --------------


def test_choosing_again_in_the_same_session_after_expiry_can_be_placed() -> None:
    event = make_sale_event()
    (general,) = event.ticket_type_ids
    first = hold(event, {general: 2}, session_id=f"again-{uuid.uuid4().hex[:8]}")
    expire_holds(event.event_id, first.session_id)
    with pytest.raises(HoldExpired):
        place(first, expected=D("100.00"))

    again = hold(event, {general: 1}, session_id=first.session_id)
    placed = place(again, expected=D("50.00"))

    assert placed.total == D("50.00")
    assert violations(event.event_id) == []


def test_max_per_order_also_holds_across_several_holds_of_one_session() -> None:
    event = make_sale_event([{"name": "VIP", "max_quantity_per_order": 4}])
    (vip,) = event.ticket_type_ids
    session_id = f"limit-{uuid.uuid4().hex[:8]}"
    hold(event, {vip: 3}, session_id=session_id)

    try:
        held = hold(event, {vip: 3}, session_id=session_id)
        place(held)
    except LimitExceeded:
        pass
    sold = scalar(
        "SELECT coalesce(max(oi.quantity), 0) FROM order_items oi"
        " JOIN orders o ON o.id = oi.order_id WHERE o.event_id = :e",
        e=event.event_id,
    )
    assert sold <= 4


@pytest.mark.parametrize(
    ("price", "percent"), [("0.00", "50"), ("0.40", "1")], ids=["free-ticket", "rounds-to-0"]
)
def test_a_code_worth_nothing_on_the_order_keeps_its_count_consistent(
    price: str, percent: str
) -> None:
    event = make_sale_event([{"base_price": D(price)}])
    (general,) = event.ticket_type_ids
    code = make_code("discount", "percentage", percent, usage_limit=5)

    placed = place(hold(event, {general: 1}), code=code.code)

    assert placed.discount == D("0.00")
    assert violations(event.event_id, [code.code]) == []
