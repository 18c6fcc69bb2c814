"""What migration 0013's policies would break, working: rules and figures that need every
order while row-level security shows a person only some (the checkout's buyer history,
idempotency keys, the overview, discount code figures), the buyer's own order, and the
analytics rollups behind their guarded views. On a database of this module's own, as the
app role."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.analytics.rollups import refresh_rollups
from core.auth import Identity
from core.checkout.errors import CodeNotValid
from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.orders import Buyer, OrderRequest, place_order, quote_order
from core.db import unit_of_work
from core.errors import Conflict, PermissionDenied
from core.models import User
from core.services.discounts import get_discount_code, list_discount_codes
from core.services.orders import search_orders
from core.services.overview import get_overview_counts
from tests.apptest import make_person
from tests.checkout_fixtures import make_code
from tests.factories import make_event, make_ticket_type

D = Decimal


def _show(owner: Engine, organizer: Identity) -> tuple[uuid.UUID, uuid.UUID]:
    """A published event of `organizer` (no tax) with one 40.00 ticket type."""
    with Session(owner) as s, s.begin():
        event = make_event(
            s,
            s.get(User, organizer.user_id),
            status="published",
            published_at=datetime.now(UTC),
            tax_rate=D("0"),
        )
        ticket_type = make_ticket_type(s, event, base_price=D("40.00"))
        return event.id, ticket_type.id


def _sell(
    seller: Identity,
    show: tuple[uuid.UUID, uuid.UUID],
    buyer: Buyer,
    *,
    code: str | None = None,
    expected: str = "40.00",
    key: str | None = None,
) -> uuid.UUID:
    event_id, ticket_type = show
    session_id = f"rls-{uuid.uuid4().hex[:10]}"
    hold_tickets(seller.actor(), HoldRequest(event_id, session_id, {ticket_type: 1}))
    placed = place_order(
        seller.actor(),
        OrderRequest(
            event_id=event_id,
            session_id=session_id,
            buyer=buyer,
            payment_method="cash",
            expected_total=D(expected),
            idempotency_key=key or f"rls-{uuid.uuid4().hex}",
            code=code,
        ),
    )
    return placed.order_id


@pytest.fixture(scope="module")
def other_organizer(owner: Engine) -> Identity:
    return make_person(owner, ["organizer"])


def _buyer() -> Buyer:
    return Buyer(name="Cleo Customer", email=f"cleo-{uuid.uuid4().hex[:8]}@example.com")


def test_codes_for_a_first_purchase_or_once_per_customer_see_all_of_a_buyers_orders(
    owner: Engine, organizer: Identity, other_organizer: Identity
) -> None:
    """The buyer bought at one organizer's event; the other organizer, who cannot see that
    order, still cannot give them a first-purchase discount or a second use of a
    once-per-customer code (checkout_buyer_history answers yes or no)."""
    mine, theirs = _show(owner, organizer), _show(owner, other_organizer)
    cleo = _buyer()
    with Session(owner) as s, s.begin():
        once = make_code(s, usage_limit=None, is_one_time_use=True).code
        first = make_code(s, usage_limit=None, is_first_purchase_only=True).code
    _sell(other_organizer, theirs, cleo, code=once, expected="36.00")
    assert search_orders(organizer.actor(), query=cleo.email).rows == ()  # not theirs to see

    event_id, ticket_type = mine
    for code, rule in ((first, "first purchase only"), (once, "once per customer")):
        session_id = f"rls-{uuid.uuid4().hex[:10]}"
        hold_tickets(organizer.actor(), HoldRequest(event_id, session_id, {ticket_type: 1}))
        with pytest.raises(CodeNotValid, match=rule):
            quote_order(organizer.actor(), event_id, session_id, code, cleo)
    # Someone new to both events gets both.
    newcomer = _buyer()
    session_id = f"rls-{uuid.uuid4().hex[:10]}"
    hold_tickets(organizer.actor(), HoldRequest(event_id, session_id, {ticket_type: 1}))
    assert quote_order(organizer.actor(), event_id, session_id, first, newcomer).discount == D(
        "4.00"
    )


def test_the_buyer_history_answers_only_sellers(owner: Engine) -> None:
    designer = make_person(owner, ["designer"])
    with pytest.raises(PermissionDenied), unit_of_work(designer.actor(), read_only=True) as uow:
        uow.session.execute(
            text("SELECT * FROM checkout_buyer_history(NULL, 'a@example.com', 'discount', NULL)")
        )


@pytest.mark.parametrize("with_code", [False, True])
def test_a_key_of_an_order_the_seller_cannot_see_is_refused_not_replayed(
    owner: Engine, organizer: Identity, other_organizer: Identity, with_code: bool
) -> None:
    """Both checkout paths (one database call without a code, statements with one)."""
    key = f"rls-shared-{uuid.uuid4().hex}"
    first = _sell(other_organizer, _show(owner, other_organizer), _buyer(), key=key)
    code = None
    if with_code:
        with Session(owner) as s, s.begin():
            code = make_code(s, usage_limit=None).code
    with pytest.raises(Conflict):
        _sell(
            organizer,
            _show(owner, organizer),
            _buyer(),
            key=key,
            code=code,
            expected="36.00" if with_code else "40.00",
        )
    with owner.connect() as conn:
        keyed = conn.execute(
            text("SELECT id FROM orders WHERE idempotency_key = :k"), {"k": key}
        ).scalars()
        assert list(keyed) == [first]


def test_the_overview_counts_every_order_for_anyone_who_sees_it(owner: Engine) -> None:
    staff = make_person(owner, ["staff"])
    with owner.connect() as conn:
        completed, gross, refunds = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM orders WHERE status = 'completed'),"
                " (SELECT coalesce(sum(amount), 0) FROM order_payments),"
                " (SELECT coalesce(sum(amount), 0) FROM order_refunds)"
            )
        ).one()
    counts = get_overview_counts(staff.actor())
    assert (counts.completed_orders, counts.revenue.gross, counts.revenue.refunds) == (
        completed,
        gross,
        refunds,
    )
    assert completed > 0
    with unit_of_work(staff.actor(), read_only=True) as uow:  # the rows stay out of reach
        assert uow.session.execute(text("SELECT count(*) FROM orders")).scalar_one() == 0


def test_a_codes_figures_count_every_organizers_orders_its_order_list_only_theirs(
    owner: Engine, organizer: Identity, other_organizer: Identity
) -> None:
    with Session(owner) as s, s.begin():
        code = make_code(s, usage_limit=None)
        code_id, text_code = code.id, code.code
    _sell(
        other_organizer, _show(owner, other_organizer), _buyer(), code=text_code, expected="36.00"
    )
    mine = _sell(organizer, _show(owner, organizer), _buyer(), code=text_code, expected="36.00")
    [listed] = list_discount_codes(organizer.actor(), search=text_code).rows
    assert (listed.usage.orders, listed.usage.discount_given, listed.usage.revenue) == (
        2,
        D("8.00"),
        D("72.00"),
    )
    detail = get_discount_code(organizer.actor(), code_id)
    assert [o.order_id for o in detail.recent_orders] == [mine]


def test_a_buyer_opens_their_own_pending_order_and_nothing_more(owner: Engine) -> None:
    """The design's order_self_insert: an account holder's own order, pending; paying it,
    completing it or writing one for someone else stays the sellers'."""
    buyer = make_person(owner, [], user_type="attendee")
    event_id, ticket_type = _show(owner, make_person(owner, ["organizer"]))
    insert = (
        "INSERT INTO orders (order_number, user_id, event_id, status, billing_email,"
        " billing_name) VALUES ('FW-SELF-' || left(md5(random()::text), 8), :u, :e, :s,"
        " 'me@example.com', 'Me') RETURNING id"
    )
    with unit_of_work(buyer.actor()) as uow:
        order_id = uow.session.execute(
            text(insert), {"u": buyer.user_id, "e": event_id, "s": "pending"}
        ).scalar_one()
        uow.session.execute(
            text(
                "INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price,"
                " subtotal, final_price) VALUES (:o, :t, 1, 40, 40, 40)"
            ),
            {"o": order_id, "t": ticket_type},
        )
        refused = []
        for sql, params in (
            (insert, {"u": buyer.user_id, "e": event_id, "s": "completed"}),
            (insert, {"u": uuid.uuid4(), "e": event_id, "s": "pending"}),
            ("UPDATE orders SET status = 'completed' WHERE id = :o", {"o": order_id}),
            (
                "INSERT INTO order_payments (order_id, provider, method, amount, reference)"
                " VALUES (:o, 'box_office', 'cash', 40, 'self-paid')",
                {"o": order_id},
            ),
        ):
            savepoint = uow.session.begin_nested()
            try:
                changed = uow.session.execute(text(sql), params).rowcount
                refused.append(changed == 0)
            except DBAPIError as exc:
                refused.append("row-level security" in str(exc.orig))
            savepoint.rollback()
        assert refused == [True, True, True, True]
        seen = uow.session.execute(
            text("SELECT status FROM orders WHERE id = :o"), {"o": order_id}
        ).scalar_one()
        assert seen == "pending"


def test_the_analytics_rollups_reach_analytics_readers_only(owner: Engine) -> None:
    marketing = make_person(owner, ["marketing"])
    designer = make_person(owner, ["designer"])
    refresh_rollups(marketing.actor())
    counts = {}
    for name, who in (("marketing", marketing), ("designer", designer)):
        with unit_of_work(who.actor(), read_only=True) as uow:
            counts[name] = uow.session.execute(
                text("SELECT count(*) FROM campaign_analytics_monthly_guarded")
            ).scalar_one()
    assert counts["marketing"] > 0 and counts["designer"] == 0
    with pytest.raises(PermissionDenied), unit_of_work(marketing.actor(), read_only=True) as uow:
        # The materialized view itself is the owner's: no policy could guard it.
        uow.session.execute(text("SELECT count(*) FROM campaign_analytics_monthly"))
