"""Box office: the sale services over the checkout, and the page in AppTest, on a database
of this module's own (the app role, so row-level security applies as in the browser).

Each test makes its own event with the test's organizer as the event's organizer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.auth import Identity, PermissionDenied
from core.checkout.errors import CodeNotValid, SeatTaken, SoldOut
from core.checkout.holds import HoldRequest, hold_tickets
from core.errors import ValidationError
from core.models import EventSeat, User
from core.services.box_office import (
    Buyer,
    Payment,
    SaleRequest,
    get_sale_options,
    hold_seats,
    list_sale_events,
    new_checkout_session_id,
    new_idempotency_key,
    quote_sale,
    take_payment,
)
from tests.apptest import make_person, messages, open_page, shown
from tests.checkout_fixtures import make_code
from tests.factories import assign_staff, make_event, make_seated_section, make_ticket_type

PAGE = "box_office.py"
D = Decimal
QUOTE = "box_office.quote"
SEATS_FOR_SALE = "checkout.seats"


@dataclass(frozen=True)
class Show:
    event_id: uuid.UUID
    title: str
    general: uuid.UUID
    seated: uuid.UUID | None
    seat_ids: tuple[uuid.UUID, ...]


def make_show(
    owner: Engine,
    organizer: Identity,
    *,
    capacity: int = 10,
    seats: int = 0,
    price: Decimal = Decimal("40.00"),
    max_per_order: int | None = None,
) -> Show:
    """A published event (8.25 % tax) of `organizer` with a general ticket type and,
    with `seats`, a seated section sold by its own ticket type at 100.00."""
    with Session(owner) as s, s.begin():
        user = s.get(User, organizer.user_id)
        venue_id = section_id = None
        seat_rows = []
        if seats:
            venue, section, seat_rows = make_seated_section(s, seats)
            venue_id, section_id = venue.id, section.id
        event = make_event(
            s,
            user,
            title=f"Box Office Show {uuid.uuid4().hex[:8]}",
            status="published",
            published_at=datetime.now(UTC),
            tax_rate=D("0.0825"),
            venue_id=venue_id,
        )
        general = make_ticket_type(
            s,
            event,
            name="General",
            base_price=price,
            total_capacity=capacity,
            remaining_capacity=capacity,
            max_quantity_per_order=max_per_order,
        )
        seated = None
        if seats:
            seated = make_ticket_type(
                s,
                event,
                name="Front row",
                base_price=D("100.00"),
                total_capacity=seats,
                remaining_capacity=seats,
                seating_section_id=section_id,
                tier="vip",
            ).id
            s.add_all(EventSeat(event_id=event.id, seat_id=seat.id) for seat in seat_rows)
        return Show(
            event.id,
            event.title,
            general.id,
            seated,
            tuple(sorted(seat.id for seat in seat_rows)),
        )


def add_code(owner: Engine, event_id: uuid.UUID, percent: str = "10") -> str:
    with Session(owner) as s, s.begin():
        return make_code(s, usage_limit=None, event_id=event_id, percent=D(percent)).code


def orders_of(owner: Engine, event_id: uuid.UUID) -> list[tuple]:
    with owner.connect() as conn:
        return conn.execute(
            text(
                "SELECT order_number, status, billing_email, billing_name, subtotal,"
                " discount_amount, tax_amount, total_amount, payment_method"
                " FROM orders WHERE event_id = :e ORDER BY created_at"
            ),
            {"e": event_id},
        ).all()


def scalar(owner: Engine, sql: str, **params: object) -> object:
    with owner.connect() as conn:
        return conn.execute(text(sql), params).scalar()


BUYER = Buyer(name="Walk In", email="walk.in@example.com")


# -- services ---------------------------------------------------------------------------


def test_a_sale_is_quoted_then_paid_once_per_key(owner: Engine, organizer: Identity) -> None:
    show = make_show(owner, organizer)
    actor = organizer.actor()
    session_id = new_checkout_session_id()
    quote = quote_sale(actor, SaleRequest(show.event_id, session_id, BUYER, {show.general: 2}))
    assert (quote.subtotal, quote.discount, quote.tax, quote.total) == (
        D("80.00"),
        D("0.00"),
        D("6.60"),
        D("86.60"),
    )
    assert quote.lines[0].quantity == 2 and quote.lines[0].total == D("86.60")

    payment = Payment(
        show.event_id, session_id, BUYER, "card_terminal", quote.total, "k1" + session_id
    )
    sale = take_payment(actor, payment)
    assert sale.status == "completed" and sale.order_number.startswith("FW-")
    again = take_payment(actor, payment)
    assert again.replayed and again.order_id == sale.order_id
    assert [o[0] for o in orders_of(owner, show.event_id)] == [sale.order_number]
    options = get_sale_options(actor, show.event_id)
    assert (options.ticket_types[0].sold, options.ticket_types[0].free) == (2, 8)


def test_quoting_again_replaces_the_sessions_hold(owner: Engine, organizer: Identity) -> None:
    show = make_show(owner, organizer, capacity=3, max_per_order=3)
    actor = organizer.actor()
    session_id = new_checkout_session_id()
    for quantity in (3, 2, 3):
        quote_sale(actor, SaleRequest(show.event_id, session_id, BUYER, {show.general: quantity}))
    held = scalar(
        owner,
        "SELECT sum(quantity) FROM ticket_inventory_locks WHERE event_id = :e",
        e=show.event_id,
    )
    assert held == 3, "not 8: each quote gives the previous hold back"


def test_a_bad_code_and_a_sold_out_type_are_refused_and_nothing_is_sold(
    owner: Engine, organizer: Identity
) -> None:
    show = make_show(owner, organizer, capacity=2)
    actor = organizer.actor()
    with pytest.raises(CodeNotValid, match="does not exist"):
        quote_sale(
            actor,
            SaleRequest(
                show.event_id, new_checkout_session_id(), BUYER, {show.general: 1}, code="NOPE"
            ),
        )
    with pytest.raises(SoldOut, match="only 2 left"):
        quote_sale(
            actor,
            SaleRequest(show.event_id, new_checkout_session_id(), BUYER, {show.general: 3}),
        )
    with pytest.raises(ValidationError) as bad_email:
        quote_sale(
            actor,
            SaleRequest(
                show.event_id,
                new_checkout_session_id(),
                Buyer("Someone", "not-an-email"),
                {show.general: 1},
            ),
        )
    assert bad_email.value.field == "billing_email"
    assert orders_of(owner, show.event_id) == []


def test_a_code_discounts_and_complimentary_needs_a_zero_total(
    owner: Engine, organizer: Identity
) -> None:
    show = make_show(owner, organizer)
    actor = organizer.actor()
    ten = add_code(owner, show.event_id, "10")
    session_id = new_checkout_session_id()
    quote = quote_sale(
        actor, SaleRequest(show.event_id, session_id, BUYER, {show.general: 1}, code=ten.lower())
    )
    assert (quote.discount, quote.total) == (D("4.00"), D("38.97"))
    with pytest.raises(ValidationError) as comp:
        take_payment(
            actor,
            Payment(
                show.event_id,
                session_id,
                BUYER,
                "complimentary",
                quote.total,
                new_idempotency_key(),
                code=ten,
            ),
        )
    assert comp.value.field == "payment_method"

    free = add_code(owner, show.event_id, "100")
    comp_quote = quote_sale(
        actor, SaleRequest(show.event_id, session_id, BUYER, {show.general: 1}, code=free)
    )
    assert comp_quote.total == D("0.00")
    sale = take_payment(
        actor,
        Payment(
            show.event_id,
            session_id,
            BUYER,
            "complimentary",
            D("0.00"),
            new_idempotency_key(),
            code=free,
        ),
    )
    assert orders_of(owner, show.event_id)[0][-1] == "complimentary"
    assert sale.total == D("0.00")


def test_seats_held_on_the_seat_map_are_sold_with_the_sale(
    owner: Engine, organizer: Identity
) -> None:
    show = make_show(owner, organizer, seats=6)
    actor = organizer.actor()
    session_id = new_checkout_session_id()
    chosen = show.seat_ids[:2]
    hold_seats(actor, show.event_id, session_id, chosen)
    other = new_checkout_session_id()
    with pytest.raises(SeatTaken):
        hold_seats(actor, show.event_id, other, chosen[:1])

    quote = quote_sale(
        actor, SaleRequest(show.event_id, session_id, BUYER, {show.general: 1}, chosen)
    )
    assert quote.subtotal == D("240.00") and set(quote.seat_ids) == set(chosen)
    sale = take_payment(
        actor,
        Payment(show.event_id, session_id, BUYER, "cash", quote.total, new_idempotency_key()),
    )
    sold = scalar(
        owner,
        "SELECT count(*) FROM event_seats WHERE event_id = :e AND status = 'sold'"
        " AND order_id = :o",
        e=show.event_id,
        o=sale.order_id,
    )
    assert sold == 2


def test_staff_sells_marketing_may_not(owner: Engine, organizer: Identity) -> None:
    show = make_show(owner, organizer)
    staff = make_person(owner, ["staff"])
    with Session(owner) as s, s.begin():
        assign_staff(s, show.event_id, staff.user_id)
    marketing = make_person(owner, ["marketing"])
    assert show.event_id in {e.event_id for e in list_sale_events(staff.actor(), search="Box")}
    quote_sale(
        staff.actor(),
        SaleRequest(show.event_id, new_checkout_session_id(), BUYER, {show.general: 1}),
    )
    for call in (
        lambda: list_sale_events(marketing.actor()),
        lambda: get_sale_options(marketing.actor(), show.event_id),
        lambda: quote_sale(
            marketing.actor(),
            SaleRequest(show.event_id, new_checkout_session_id(), BUYER, {show.general: 1}),
        ),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_a_seller_sells_only_for_the_events_they_organise_or_work(
    owner: Engine, organizer: Identity
) -> None:
    """The services say it first, in words; the database refuses the hold and the order
    anyway (tests/test_rls_attack.py)."""
    show = make_show(owner, organizer)
    outsider = make_person(owner, ["staff"])
    other_organizer = make_person(owner, ["organizer"])
    for seller in (outsider, other_organizer):
        actor = seller.actor()
        assert show.event_id not in {e.event_id for e in list_sale_events(actor)}
        request = SaleRequest(show.event_id, new_checkout_session_id(), BUYER, {show.general: 1})
        payment = Payment(
            event_id=show.event_id,
            session_id=request.session_id,
            buyer=BUYER,
            payment_method="cash",
            expected_total=D("43.30"),
            idempotency_key=new_idempotency_key(),
        )
        with pytest.raises(PermissionDenied, match=f"organizer of {show.title}"):
            get_sale_options(actor, show.event_id)
        with pytest.raises(PermissionDenied, match=f"organizer of {show.title}"):
            quote_sale(actor, request)
        with pytest.raises(PermissionDenied, match=f"organizer of {show.title}"):
            take_payment(actor, payment)
    # The checkout core called directly, past the box office's check: the database refuses.
    with pytest.raises(PermissionDenied):
        hold_tickets(
            outsider.actor(),
            HoldRequest(show.event_id, new_checkout_session_id(), {show.general: 1}),
        )
    assert scalar(owner, "SELECT count(*) FROM orders WHERE event_id = :e", e=show.event_id) == 0
    with Session(owner) as s, s.begin():
        assign_staff(s, show.event_id, outsider.user_id)
    quote = quote_sale(
        outsider.actor(),
        SaleRequest(show.event_id, new_checkout_session_id(), BUYER, {show.general: 1}),
    )
    assert quote.total == D("43.30")


# -- the page -----------------------------------------------------------------------------


def _button(at: AppTest, label_start: str):
    matches = [b for b in at.button if str(b.label).startswith(label_start)]
    assert matches, f"no button {label_start!r}; buttons: {[b.label for b in at.button]}"
    return matches[0]


def _submit(at: AppTest, label: str):
    return _button(at, label)


def open_box_office(identity: Identity) -> AppTest:
    at = open_page(PAGE, identity)
    assert [t.value for t in at.title] == ["Box office"], [t.value for t in at.title]
    return at


def _page_for(organizer: Identity, show: Show) -> AppTest:
    at = open_box_office(organizer)
    assert not at.exception
    at.text_input(key="bo_search").input(show.title).run()
    at.selectbox(key="bo_event").set_value(str(show.event_id)).run()
    assert not at.exception
    return at


def _fill(at: AppTest, show: Show, quantity: int, *, code: str = "", method: str = "cash") -> None:
    at.number_input(key=f"bo_qty_{show.general}").set_value(quantity)
    at.text_input(key="bo_code").input(code)
    at.text_input(key="bo_name").input("Ada Walk-In")
    at.text_input(key="bo_email").input("ada.walkin@example.com")
    at.radio(key="bo_method").set_value(method)


def test_the_page_sells_tickets_and_shows_the_order_number(
    owner: Engine, organizer: Identity
) -> None:
    show = make_show(owner, organizer)
    at = _page_for(organizer, show)
    assert at.title[0].value == "Box office"
    _fill(at, show, 3)
    at = _submit(at, "Review price").click().run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["$120.00", "-$0.00", "$9.90", "$129.90"]
    assert orders_of(owner, show.event_id) == [], "nothing is sold before the payment"

    at = _button(at, "Take payment · $129.90 · Cash").click().run()
    assert not at.exception
    [order] = orders_of(owner, show.event_id)
    number, status, email, name, _, _, _, total, method = order
    assert (status, email, name, total, method) == (
        "completed",
        "ada.walkin@example.com",
        "Ada Walk-In",
        D("129.90"),
        "cash",
    )
    assert f"Order {number} is complete: $129.90" in messages(at)
    assert at.text_input(key="bo_name").value == "", "the form is ready for the next buyer"
    assert QUOTE not in at.session_state


def test_a_double_click_on_pay_sells_once(owner: Engine, organizer: Identity) -> None:
    show = make_show(owner, organizer)
    at = _page_for(organizer, show)
    _fill(at, show, 1)
    at = _submit(at, "Review price").click().run()
    pending = at.session_state[QUOTE]
    # The first click's run places the order, then the second click interrupts it before
    # it can show the result: the second run finds the quote still on screen.
    first = take_payment(
        organizer.actor(),
        Payment(
            show.event_id,
            at.session_state["checkout.session_id"],
            Buyer("Ada Walk-In", "ada.walkin@example.com"),
            "cash",
            pending["quote"].total,
            pending["key"],
        ),
    )
    at = _button(at, "Take payment").click().run()
    assert not at.exception
    assert [o[0] for o in orders_of(owner, show.event_id)] == [first.order_number]
    assert f"Order {first.order_number} is complete" in messages(at)


def test_sold_out_and_a_bad_code_show_a_message_keep_the_form_and_sell_nothing(
    owner: Engine, organizer: Identity
) -> None:
    show = make_show(owner, organizer, capacity=2)
    at = _page_for(organizer, show)
    _fill(at, show, 5)
    at = _submit(at, "Review price").click().run()
    assert not at.exception
    assert "General: only 2 left." in [shown(e.value) for e in at.error]
    assert at.number_input(key=f"bo_qty_{show.general}").value == 5
    assert at.text_input(key="bo_email").value == "ada.walkin@example.com"
    assert not [b for b in at.button if str(b.label).startswith("Take payment")]

    at.number_input(key=f"bo_qty_{show.general}").set_value(1)
    at.text_input(key="bo_code").input("NO-SUCH-CODE")
    at = _submit(at, "Review price").click().run()
    assert "Code NO-SUCH-CODE does not exist." in [shown(e.value) for e in at.error]
    assert at.text_input(key="bo_code").value == "NO-SUCH-CODE"
    assert "Traceback" not in messages(at)
    assert orders_of(owner, show.event_id) == []


def test_a_code_shows_its_discount_in_the_breakdown(owner: Engine, organizer: Identity) -> None:
    show = make_show(owner, organizer)
    code = add_code(owner, show.event_id, "25")
    at = _page_for(organizer, show)
    _fill(at, show, 2, code=code)
    at = _submit(at, "Review price").click().run()
    assert [m.value for m in at.metric] == ["$80.00", "-$20.00", "$4.95", "$64.95"]
    at = _button(at, "Take payment · $64.95").click().run()
    assert orders_of(owner, show.event_id)[0][5:8] == (D("20.00"), D("4.95"), D("64.95"))


def test_seats_sent_from_the_seat_map_are_sold_here(owner: Engine, organizer: Identity) -> None:
    show = make_show(owner, organizer, seats=8)
    chosen = show.seat_ids[3:6]
    at = open_box_office(organizer)
    at.session_state[SEATS_FOR_SALE] = {
        "event_id": str(show.event_id),
        "seat_ids": [str(s) for s in chosen],
        "labels": ["Front row A4", "Front row A5", "Front row A6"],
    }
    at.run()
    assert not at.exception
    assert at.selectbox(key="bo_event").value == str(show.event_id)
    assert "Seats from the seat map (3)" in messages(at)
    at.text_input(key="bo_name").input("Seat Buyer")
    at.text_input(key="bo_email").input("seat.buyer@example.com")
    at = _submit(at, "Review price").click().run()
    assert [m.value for m in at.metric][-1] == "$324.75"
    at = _button(at, "Take payment").click().run()
    assert not at.exception
    sold = scalar(
        owner,
        "SELECT count(*) FROM event_seats WHERE event_id = :e AND status = 'sold'"
        " AND seat_id = ANY(:s)",
        e=show.event_id,
        s=list(chosen),
    )
    assert sold == 3
    assert SEATS_FOR_SALE not in at.session_state


def test_choosing_another_event_drops_the_seats_from_the_seat_map(
    owner: Engine, organizer: Identity
) -> None:
    seated = make_show(owner, organizer, seats=4)
    other = make_show(owner, organizer)
    at = open_box_office(organizer)
    at.session_state[SEATS_FOR_SALE] = {
        "event_id": str(seated.event_id),
        "seat_ids": [str(s) for s in seated.seat_ids[:2]],
        "labels": ["Front row A1", "Front row A2"],
    }
    at.run()
    assert at.selectbox(key="bo_event").value == str(seated.event_id)
    at.text_input(key="bo_search").input("Box Office Show").run()
    at.selectbox(key="bo_event").set_value(str(other.event_id)).run()
    assert not at.exception
    assert at.selectbox(key="bo_event").value == str(other.event_id)
    assert "Seats from the seat map" not in messages(at)
    assert SEATS_FOR_SALE not in at.session_state


def test_the_page_tells_a_seller_without_events_whom_to_ask(owner: Engine) -> None:
    outsider = make_person(owner, ["staff"])
    at = open_box_office(outsider)
    assert not at.exception
    assert "ask an event's organizer to add you to its staff" in messages(at)
