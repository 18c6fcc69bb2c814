"""Orders: search (number, email, name, filters, keyset pages), the detail of one order,
and cancel / refund through the page (AppTest), on a database of this module's own as
the app role, so row-level security applies as in the browser.

Orders are placed through the checkout core by the test's organizer, never written here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.auth import Identity, PermissionDenied
from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.orders import Buyer, OrderRequest, place_order, quote_order, refund_order
from core.errors import NotFound, ValidationError
from core.models import EventSeat, User
from core.services.orders import describe_refund, get_order, search_orders
from tests.apptest import make_person, messages, open_page, shown
from tests.checkout_fixtures import make_code
from tests.factories import assign_staff, make_event, make_seated_section, make_ticket_type

D = Decimal
PAGE = "orders.py"


@dataclass(frozen=True)
class Show:
    event_id: uuid.UUID
    title: str
    general: uuid.UUID
    seated: uuid.UUID
    seat_ids: tuple[uuid.UUID, ...]


def make_show(owner: Engine, organizer: Identity, *, seats: int = 4) -> Show:
    """A published event (10 % tax) of `organizer`: General at 40.00 (capacity 20) and a
    seated Front row at 100.00 (seats A1..A`seats`)."""
    with Session(owner) as s, s.begin():
        venue, section, seat_rows = make_seated_section(s, seats)
        event = make_event(
            s,
            s.get(User, organizer.user_id),
            title=f"Orders Show {uuid.uuid4().hex[:8]}",
            status="published",
            published_at=datetime.now(UTC),
            tax_rate=D("0.10"),
            venue_id=venue.id,
        )
        general = make_ticket_type(
            s, event, name="General", base_price=D("40.00"), total_capacity=20,
            remaining_capacity=20,
        )  # fmt: skip
        seated = make_ticket_type(
            s, event, name="Front row", base_price=D("100.00"), total_capacity=seats,
            remaining_capacity=seats, seating_section_id=section.id, tier="vip",
        )  # fmt: skip
        s.add_all(EventSeat(event_id=event.id, seat_id=seat.id) for seat in seat_rows)
        return Show(event.id, event.title, general.id, seated.id, tuple(x.id for x in seat_rows))


def buy(
    organizer: Identity,
    show: Show,
    buyer: Buyer,
    *,
    general: int = 0,
    seats: tuple[uuid.UUID, ...] = (),
    code: str | None = None,
) -> tuple[uuid.UUID, str]:
    """A completed order placed through the checkout core; (order id, order number)."""
    actor = organizer.actor()
    session_id = uuid.uuid4().hex
    quantities = {show.general: general} if general else {}
    hold_tickets(actor, HoldRequest(show.event_id, session_id, quantities, seats))
    quote = quote_order(actor, show.event_id, session_id, code, buyer)
    placed = place_order(
        actor,
        OrderRequest(show.event_id, session_id, buyer, "cash", quote.total, session_id, code),
    )
    return placed.order_id, placed.order_number


def buyer(tag: str | None = None) -> Buyer:
    tag = tag or uuid.uuid4().hex[:8]
    return Buyer(name=f"Quincy Zephyr{tag}", email=f"quincy.{tag}@example.com")


def scalar(owner: Engine, sql: str, **params: object) -> object:
    with owner.connect() as conn:
        return conn.execute(text(sql), params).scalar()


# -- search -------------------------------------------------------------------------------


def test_search_finds_an_order_by_number_email_and_name(owner: Engine, organizer: Identity) -> None:
    show = make_show(owner, organizer)
    tag = uuid.uuid4().hex[:8]
    mine = buyer(tag)
    order_id, number = buy(organizer, show, mine, general=1)
    other_id, _ = buy(organizer, show, buyer(), general=1)
    actor = organizer.actor()

    by_number = search_orders(actor, query=number.lower())
    assert by_number.matched_by == "order_number"
    assert [r.order_id for r in by_number.rows] == [order_id]
    row = by_number.rows[0]
    assert (row.buyer_name, row.event_title, row.tickets, row.total, row.status) == (
        mine.name,
        show.title,
        1,
        D("44.00"),
        "completed",
    )
    prefix = search_orders(actor, query=number[:-1], event_id=show.event_id)
    assert order_id in {r.order_id for r in prefix.rows}

    by_email = search_orders(actor, query=mine.email.upper())
    assert by_email.matched_by == "email"
    assert [r.order_id for r in by_email.rows] == [order_id]

    by_name = search_orders(actor, query=f"zephyr{tag}")
    assert by_name.matched_by == "name"
    assert [r.order_id for r in by_name.rows] == [order_id]
    by_email_start = search_orders(actor, query=f"quincy.{tag}")
    assert [r.order_id for r in by_email_start.rows] == [order_id]

    everyone = search_orders(actor, event_id=show.event_id)
    assert [r.order_id for r in everyone.rows] == [other_id, order_id], "newest first"
    assert search_orders(actor, event_id=show.event_id, status="refunded").rows == ()
    assert search_orders(actor, query="FW-1999-99").rows == ()


def test_search_pages_with_keyset_cursors_both_ways(owner: Engine, organizer: Identity) -> None:
    show = make_show(owner, organizer)
    placed = [buy(organizer, show, buyer(), general=1)[0] for _ in range(5)]
    newest_first = list(reversed(placed))
    actor = organizer.actor()

    first = search_orders(actor, event_id=show.event_id, limit=2)
    assert [r.order_id for r in first.rows] == newest_first[:2]
    assert first.previous is None and first.next is not None
    second = search_orders(actor, event_id=show.event_id, limit=2, after=first.next)
    assert [r.order_id for r in second.rows] == newest_first[2:4]
    third = search_orders(actor, event_id=show.event_id, limit=2, after=second.next)
    assert [r.order_id for r in third.rows] == newest_first[4:]
    assert third.next is None and third.previous is not None
    back = search_orders(actor, event_id=show.event_id, limit=2, before=third.previous)
    assert [r.order_id for r in back.rows] == newest_first[2:4]
    top = search_orders(actor, event_id=show.event_id, limit=2, before=back.previous)
    assert [r.order_id for r in top.rows] == newest_first[:2]
    assert top.previous is None, "nothing is newer than the first page"

    recent = search_orders(actor, limit=10)
    assert recent.matched_by == "recent"
    times = [(r.created_at, r.order_id) for r in recent.rows]
    assert times == sorted(times, reverse=True)


def test_bad_searches_name_the_field(organizer: Identity) -> None:
    actor = organizer.actor()
    with pytest.raises(ValidationError, match="at least 3 characters") as short:
        search_orders(actor, query="ab")
    assert short.value.field == "query"
    with pytest.raises(ValidationError) as status:
        search_orders(actor, status="lost")
    assert status.value.field == "status"


def test_orders_need_box_office_permission(owner: Engine) -> None:
    marketing = make_person(owner, ["marketing"])
    with pytest.raises(PermissionDenied):
        search_orders(marketing.actor())
    with pytest.raises(PermissionDenied):
        get_order(marketing.actor(), uuid.uuid4())
    at = open_page(PAGE, marketing)
    assert not at.exception
    assert [t.value for t in at.title] == ["No access"]
    assert not at.dataframe and not at.text_input


# -- detail -------------------------------------------------------------------------------


def test_order_detail_shows_items_seats_discount_payment_and_refunds(
    owner: Engine, organizer: Identity
) -> None:
    show = make_show(owner, organizer)
    with Session(owner) as s, s.begin():
        code = make_code(s, usage_limit=None, event_id=show.event_id, percent=D("10")).code
    order_id, number = buy(organizer, show, buyer(), general=2, seats=show.seat_ids[:2], code=code)
    actor = organizer.actor()

    detail = get_order(actor, order_id)
    assert (detail.order_number, detail.status, detail.event_title) == (
        number,
        "completed",
        show.title,
    )
    # 2 × 40 + 2 × 100 = 280, 10 % off = 28, tax 10 % of 252 = 25.20.
    assert (detail.subtotal, detail.discount, detail.tax, detail.total) == (
        D("280.00"),
        D("28.00"),
        D("25.20"),
        D("277.20"),
    )
    by_type = {item.ticket_type: item for item in detail.items}
    front = by_type["Front row"]
    assert front.seats == ("Front row A1", "Front row A2")
    assert (front.quantity, front.unit_price, front.discount, front.code) == (
        2,
        D("100.00"),
        D("20.00"),
        code,
    )
    assert by_type["General"].seats == () and by_type["General"].discount == D("8.00")
    assert [(d.code, d.kind, d.amount) for d in detail.discounts] == [
        (code, "discount code", D("28.00"))
    ]
    assert [(p.method, p.amount) for p in detail.payments] == [("cash", D("277.20"))]
    assert detail.refunds == () and detail.can_refund and detail.can_cancel
    assert not detail.history_visible and detail.history == ()

    result = refund_order(actor, order_id, "seat swap", [front.item_id])
    after = get_order(actor, order_id)
    assert [(r.item, r.amount, r.reason) for r in after.refunds] == [
        ("2 × Front row (A1, A2)", D("198.00"), "seat swap")
    ]
    assert [i.ticket_type for i in after.refundable_items] == ["General"]
    assert describe_refund(detail, result, cancelled=False) == (
        f"Refunded {number}: 2 × Front row (Front row A1, Front row A2). USD 198.00 refunded"
        " by cash; 2 tickets back on sale. The order is now completed."
    )
    with pytest.raises(NotFound):
        get_order(actor, uuid.uuid4())


def test_history_comes_from_the_audit_trail_for_admins_only(
    owner: Engine, organizer: Identity
) -> None:
    show = make_show(owner, organizer)
    order_id, _ = buy(organizer, show, buyer(), general=1)
    admin = make_person(owner, ["admin"], full_name="Ada Auditor")
    with owner.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_logs (user_id, action, table_name, record_id, old_data,"
                " new_data) VALUES (:u, 'orders.update', 'orders', :r, :o, :n)"
            ),
            {
                "u": admin.user_id,
                "r": str(order_id),
                "o": Jsonb({"status": "pending"}),
                "n": Jsonb({"status": "completed"}),
            },
        )
    seen = get_order(admin.actor(), order_id)
    assert seen.history_visible
    # The audit trigger's rows of the sale (by the organizer), then the one added above.
    assert seen.history[0].action == "orders.insert"
    assert seen.history[0].actor == organizer.full_name
    assert [(h.actor, h.action, h.changes) for h in seen.history[-1:]] == [
        ("Ada Auditor", "orders.update", "status: pending → completed")
    ]
    hidden = get_order(organizer.actor(), order_id)
    assert not hidden.history_visible and hidden.history == ()

    at = _open_order(admin, scalar(owner, "SELECT order_number FROM orders WHERE id = :o",
                                   o=order_id))  # fmt: skip
    history = at.dataframe[-1].value
    assert list(history["Who"])[-1] == "Ada Auditor"
    assert list(history["Changes"])[-1] == "status: pending → completed"
    assert "only admins can read" not in messages(at)


# -- the page -----------------------------------------------------------------------------


def _open_order(who: Identity, number: str) -> AppTest:
    at = open_page(PAGE, who)
    assert not at.exception
    at.text_input(key="orders_query").input(number).run()
    assert not at.exception
    assert list(at.dataframe[0].value["Order"]) == [number]
    assert shown(at.subheader[0].value).startswith(number)
    return at


def test_refund_a_whole_order_through_the_page(owner: Engine, organizer: Identity) -> None:
    show = make_show(owner, organizer)
    order_id, number = buy(organizer, show, buyer(), general=2, seats=show.seat_ids[:1])
    at = _open_order(organizer, number)
    assert "only admins can read" in messages(at), "a note instead of the audit history"

    at.text_input(key=f"order_reason_{order_id}").input("event moved").run()
    at.button(key=f"refund_{order_id}_ask").click().run()
    assert any(
        "Refund 1 × Front row (Front row A1), 2 × General" in shown(w.value) for w in at.warning
    )
    assert scalar(owner, "SELECT status FROM orders WHERE id = :o", o=order_id) == "completed"

    at.button(key=f"refund_{order_id}_yes").click().run()
    assert not at.exception
    assert not at.error, messages(at)
    done = [shown(s.value) for s in at.success]
    assert done == [
        f"Refunded {number}: 1 × Front row (Front row A1), 2 × General. USD 198.00 refunded"
        " by cash; 3 tickets back on sale. The order is now refunded."
    ]
    assert scalar(owner, "SELECT status FROM orders WHERE id = :o", o=order_id) == "refunded"
    assert scalar(
        owner, "SELECT sum(amount) FROM order_refunds WHERE order_id = :o", o=order_id
    ) == D("198.00")
    assert scalar(
        owner, "SELECT string_agg(DISTINCT reason, ',') FROM order_refunds WHERE order_id = :o",
        o=order_id,
    ) == "event moved"  # fmt: skip
    remaining = scalar(
        owner,
        "SELECT sum(remaining_capacity) FROM ticket_types WHERE event_id = :e",
        e=show.event_id,
    )
    assert remaining == 20 + 4, "every ticket is back on sale"
    assert (
        scalar(
            owner,
            "SELECT status FROM event_seats WHERE event_id = :e AND seat_id = :s",
            e=show.event_id,
            s=show.seat_ids[0],
        )
        == "available"
    )
    assert "nothing left to cancel or refund" in " ".join(c.value for c in at.caption)


def test_refund_one_item_then_cancel_the_rest_through_the_page(
    owner: Engine, organizer: Identity
) -> None:
    show = make_show(owner, organizer)
    order_id, number = buy(organizer, show, buyer(), general=1, seats=show.seat_ids[:2])
    front = next(i for i in get_order(organizer.actor(), order_id).items if i.seats)
    at = _open_order(organizer, number)

    at.text_input(key=f"order_reason_{order_id}").input("two seats too many").run()
    at.radio(key=f"refund_scope_{order_id}").set_value("Some tickets or seats").run()
    seats = [str(s.seat_id) for s in front.seat_lines]
    at.multiselect(key=f"refund_seats_{front.item_id}").set_value(seats).run()
    at.button(key=f"refund_{order_id}_ask").click().run()
    at.button(key=f"refund_{order_id}_yes").click().run()
    assert not at.exception and not at.error, messages(at)
    assert shown(at.success[0].value).startswith(
        f"Refunded {number}: 2 × Front row (Front row A1, Front row A2). USD 220.00"
    )
    assert scalar(owner, "SELECT status FROM orders WHERE id = :o", o=order_id) == "completed"
    assert scalar(
        owner, "SELECT count(*) FROM event_seats WHERE event_id = :e AND status = 'sold'",
        e=show.event_id,
    ) == 0  # fmt: skip

    # Cancelling asks first; "Cancel" backs out and nothing happens.
    at.button(key=f"cancel_{order_id}_ask").click().run()
    at.button(key=f"cancel_{order_id}_no").click().run()
    assert scalar(owner, "SELECT status FROM orders WHERE id = :o", o=order_id) == "completed"
    at.button(key=f"cancel_{order_id}_ask").click().run()
    at.button(key=f"cancel_{order_id}_yes").click().run()
    assert not at.exception and not at.error, messages(at)
    assert shown(at.success[0].value).startswith(f"Cancelled {number}: 1 × General. USD 44.00")
    assert scalar(owner, "SELECT status FROM orders WHERE id = :o", o=order_id) == "cancelled"
    assert (
        scalar(owner, "SELECT remaining_capacity FROM ticket_types WHERE id = :t", t=show.general)
        == 20
    )


def test_refund_one_seat_of_a_three_seat_line_through_the_page(
    owner: Engine, organizer: Identity
) -> None:
    """Defect 2 on the page: three seats sold together, one of them refunded."""
    show = make_show(owner, organizer)
    order_id, number = buy(organizer, show, buyer(), seats=show.seat_ids[:3])
    (line,) = get_order(organizer.actor(), order_id).items
    middle = line.seat_lines[1]
    at = _open_order(organizer, number)

    at.text_input(key=f"order_reason_{order_id}").input("one guest cannot come").run()
    at.radio(key=f"refund_scope_{order_id}").set_value("Some tickets or seats").run()
    at.multiselect(key=f"refund_seats_{line.item_id}").set_value([str(middle.seat_id)]).run()
    at.button(key=f"refund_{order_id}_ask").click().run()
    assert "USD 110.00 goes back" in messages(at)  # 100.00 and 10 % tax, a third of 330.00
    at.button(key=f"refund_{order_id}_yes").click().run()
    assert not at.exception and not at.error, messages(at)
    assert shown(at.success[0].value).startswith(
        f"Refunded {number}: 1 × Front row (Front row A2). USD 110.00 refunded by cash;"
        " 1 ticket back on sale. The order is now completed."
    )
    after = get_order(organizer.actor(), order_id)
    (item,) = after.items
    assert (item.left, item.refunded_quantity, item.refunded_amount) == (2, 1, D("110.00"))
    assert [s.label for s in item.live_seats] == ["Front row A1", "Front row A3"]
    assert scalar(
        owner, "SELECT status FROM event_seats WHERE event_id = :e AND seat_id = :s",
        e=show.event_id, s=middle.seat_id,
    ) == "available"  # fmt: skip


def test_a_refund_without_a_reason_is_refused_before_confirming(
    owner: Engine, organizer: Identity
) -> None:
    """Defect 8: the reason is checked at the first click, not after confirming."""
    show = make_show(owner, organizer)
    order_id, number = buy(organizer, show, buyer(), general=1)
    at = _open_order(organizer, number)
    at.button(key=f"refund_{order_id}_ask").click().run()
    assert not at.exception
    assert [shown(e.value) for e in at.error] == ["Reason is required."]
    assert f"refund_{order_id}_yes" not in {b.key for b in at.button}, "no question asked"
    at.button(key=f"cancel_{order_id}_ask").click().run()
    assert [shown(e.value) for e in at.error] == ["Reason is required."]
    assert f"cancel_{order_id}_yes" not in {b.key for b in at.button}
    assert scalar(owner, "SELECT status FROM orders WHERE id = :o", o=order_id) == "completed"

    # With a reason, the same button asks to confirm.
    at.text_input(key=f"order_reason_{order_id}").input("duplicate sale").run()
    at.button(key=f"refund_{order_id}_ask").click().run()
    assert not at.error and f"refund_{order_id}_yes" in {b.key for b in at.button}


def test_staff_find_orders_but_cannot_refund(owner: Engine, organizer: Identity) -> None:
    show = make_show(owner, organizer)
    order_id, number = buy(organizer, show, buyer(), general=1)
    staff = make_person(owner, ["staff"])
    with Session(owner) as s, s.begin():
        assign_staff(s, show.event_id, staff.user_id)
    at = _open_order(staff, number)
    keys = {b.key for b in at.button}
    assert f"refund_{order_id}_ask" not in keys and f"cancel_{order_id}_ask" not in keys
    assert "need the orders.refund permission" in " ".join(c.value for c in at.caption)


def test_the_page_pages_and_says_what_to_do_when_nothing_matches(
    owner: Engine, organizer: Identity
) -> None:
    show = make_show(owner, organizer)
    for _ in range(3):
        buy(organizer, show, buyer(), general=1)
    # An admin sees every order (the demo's too), enough for several pages.
    at = open_page(PAGE, make_person(owner, ["admin"]))
    assert len(at.dataframe[0].value) == 25, "an empty search shows the most recent orders"
    first_page = list(at.dataframe[0].value["Order"])
    at.button(key="orders_next").click().run()
    assert not at.exception
    second_page = list(at.dataframe[0].value["Order"])
    assert second_page and not set(second_page) & set(first_page)
    at.button(key="orders_previous").click().run()
    assert list(at.dataframe[0].value["Order"]) == first_page

    at.text_input(key="orders_query").input("Nobody Byth1sName").run()
    assert not at.exception
    assert "No order matches" in messages(at)
    at.text_input(key="orders_query").input("ab").run()
    assert "at least 3 characters" in messages(at)
