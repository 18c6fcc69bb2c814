"""The checkout's one-call path (migration 0004, core/checkout/wire.py): what the other
checkout tests do not reach through it.

Orders with a code take the statement-by-statement path, so the fault tests (which use a
code) do not cover an order without one; nor do they cover a payment provider other than
the box office on this path, the lock keys SQL and Python must agree on, or the
translation of a lock timeout into Busy outside core.db.uow.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from core.checkout.errors import AmountChanged, HoldExpired
from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.locking import NS_TICKET_TYPE, _key
from core.checkout.orders import OrderRequest, PlacedOrder, place_order, quote_order
from core.checkout.payments import BoxOfficePayments, PaymentResult
from core.db import unit_of_work
from core.errors import Busy, ValidationError
from tests.checkout_world import (
    ACTOR,
    buyer,
    checkout_db_fixture,  # noqa: F401  (the module's scratch database)
    hold,
    make_sale_event,
    one,
    place,
    remaining,
    scalar,
    violations,
)

pytestmark = pytest.mark.usefixtures("checkout_db")

D = Decimal


def test_python_and_sql_compute_the_same_lock_keys() -> None:
    ids = [uuid.uuid4() for _ in range(20)]
    keys = ["k-1", "order-buyer-7-0a1b2c3d", "ünïcödé"]
    with unit_of_work(ACTOR, read_only=True) as uow:
        from_ids = uow.session.execute(
            text("SELECT checkout_lock_key(uuid_send(i)) FROM unnest(CAST(:ids AS uuid[])) i"),
            {"ids": ids},
        ).scalars()
        from_keys = uow.session.execute(
            text(
                "SELECT checkout_lock_key(convert_to(k, 'UTF8'))"
                " FROM unnest(CAST(:keys AS text[])) k"
            ),
            {"keys": keys},
        ).scalars()
        assert list(from_ids) == [_key(i) for i in ids]
        assert list(from_keys) == [_key(k) for k in keys]


class FailingPayments(BoxOfficePayments):
    """A provider of its own (charged between the writes and the commit) that refuses."""

    def charge(
        self, *, amount: Decimal, currency: str, method: str, order_number: str
    ) -> PaymentResult:
        raise ValidationError("The card was declined.", field="payment_method")


class RecordingPayments(BoxOfficePayments):
    def __init__(self) -> None:
        self.charged: list[tuple[Decimal, str]] = []

    def charge(
        self, *, amount: Decimal, currency: str, method: str, order_number: str
    ) -> PaymentResult:
        self.charged.append((amount, order_number))
        return PaymentResult("terminal-co", method, f"tc-{uuid.uuid4().hex[:10]}", amount)


def _request(event_id: uuid.UUID, session_id: str, total: Decimal, **kw: object) -> OrderRequest:
    values: dict[str, object] = {
        "event_id": event_id,
        "session_id": session_id,
        "buyer": buyer(),
        "payment_method": "card_terminal",
        "expected_total": total,
        "idempotency_key": f"k-{uuid.uuid4().hex[:10]}",
    }
    values.update(kw)
    return OrderRequest(**values)  # type: ignore[arg-type]


def test_a_provider_refusing_the_charge_leaves_nothing_then_a_retry_places_once() -> None:
    event = make_sale_event([{"capacity": 5}], tax_rate="0.10")
    (general,) = event.ticket_type_ids
    held = hold(event, {general: 2})
    total = quote_order(ACTOR, event.event_id, held.session_id, None, buyer()).total
    request = _request(event.event_id, held.session_id, total)

    with pytest.raises(ValidationError, match="declined"):
        place_order(ACTOR, request, FailingPayments())
    assert scalar("SELECT count(*) FROM orders WHERE event_id = :e", e=event.event_id) == 0
    assert remaining(general) == 5

    provider = RecordingPayments()
    placed = place_order(ACTOR, request, provider)
    again = place_order(ACTOR, request, provider)
    assert again == PlacedOrder(**{**placed.__dict__, "replayed": True})
    assert provider.charged == [(total, placed.order_number)]
    assert one(
        "SELECT o.status, p.provider, p.amount FROM orders o"
        " JOIN order_payments p ON p.order_id = o.id WHERE o.id = :o",
        o=placed.order_id,
    ) == ("completed", "terminal-co", total)
    assert remaining(general) == 3
    assert violations(event.event_id) == []


def test_box_office_refusals_keep_their_messages_and_write_nothing() -> None:
    event = make_sale_event([{"capacity": 5}])
    (general,) = event.ticket_type_ids
    held = hold(event, {general: 1})
    with pytest.raises(ValidationError, match=r"must total 0\.00") as comp:
        place(held, method="complimentary")
    assert comp.value.field == "payment_method"
    with pytest.raises(ValidationError, match=r"payment method must be one of: cash,"):
        place(held, method="bitcoin")
    with pytest.raises(AmountChanged, match=r"The total is now 50\.00, not the 49\.99 shown"):
        place(held, expected=D("49.99"))
    assert scalar("SELECT count(*) FROM orders WHERE event_id = :e", e=event.event_id) == 0
    assert place(held).total == D("50.00")
    with pytest.raises(HoldExpired):
        place(held)


def test_a_lock_held_past_the_timeout_is_busy_and_leaves_nothing(checkout_db: Engine) -> None:
    event = make_sale_event([{"capacity": 5}])
    (general,) = event.ticket_type_ids
    request = HoldRequest(event.event_id, f"busy-{uuid.uuid4().hex[:8]}", {general: 1})
    with checkout_db.connect() as blocker:
        blocker.begin()
        blocker.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :k)"),
            {"ns": NS_TICKET_TYPE, "k": _key(general)},
        )
        with pytest.raises(Busy):
            hold_tickets(ACTOR, request)
        blocker.rollback()
    assert (
        scalar("SELECT count(*) FROM ticket_inventory_locks WHERE event_id = :e", e=event.event_id)
        == 0
    )
    assert hold_tickets(ACTOR, request).quantities == {general: 1}
