"""Finding 8 through the checkout services: what callers pass is checked before the
database, each refusal a ValidationError naming its field, and nothing is held, sold or
stored on a refusal.

Each test reproduces one attack of the finding: 1.5 tickets held as 2, "3" raising a raw
TypeError, NUL bytes, 1 MB session ids and keys and a float total raising raw database
errors, 1 MB names and notes stored.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from core.checkout.holds import HoldRequest, hold_tickets, release_hold
from core.checkout.orders import Buyer, OrderRequest, place_order, quote_order
from core.errors import ValidationError
from tests.checkout_world import (
    ACTOR,
    buyer,
    checkout_db_fixture,  # noqa: F401  (the module's scratch database)
    hold,
    make_sale_event,
    one,
    place,
    remaining,
    tag,
    violations,
)

pytestmark = pytest.mark.usefixtures("checkout_db")

D = Decimal
MEGABYTE = "x" * 1_000_000


def held_and_sold(event_id: uuid.UUID) -> tuple[int, int, int]:
    """Hold rows, orders and order items of the event."""
    return one(
        "SELECT (SELECT count(*) FROM ticket_inventory_locks WHERE event_id = :e),"
        " (SELECT count(*) FROM orders WHERE event_id = :e),"
        " (SELECT count(*) FROM order_items oi JOIN orders o ON o.id = oi.order_id"
        "   WHERE o.event_id = :e)",
        e=event_id,
    )


# --- holds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "code", "message"),
    [
        (1.5, "not_integer", "Each quantity must be a whole number."),
        ("3", "not_integer", "Each quantity must be a whole number."),
        (True, "not_integer", "Each quantity must be a whole number."),
        (D("2"), "not_integer", "Each quantity must be a whole number."),
        (0, "out_of_range", "Each quantity must be between 1 and 10,000."),
        (-1, "out_of_range", "Each quantity must be between 1 and 10,000."),
        (10**12, "out_of_range", "Each quantity must be between 1 and 10,000."),
    ],
)
def test_a_quantity_is_a_whole_number_never_rounded(quantity: Any, code: str, message: str) -> None:
    """1.5 was held as 2 (the ::integer[] cast rounds), "3" raised a raw TypeError."""
    event = make_sale_event([{"capacity": 5}])
    (general,) = event.ticket_type_ids
    with pytest.raises(ValidationError) as caught:
        hold_tickets(ACTOR, HoldRequest(event.event_id, f"s-{tag()}", {general: quantity}))
    assert (caught.value.field, caught.value.code, caught.value.message) == (
        "quantities",
        code,
        message,
    )
    assert held_and_sold(event.event_id) == (0, 0, 0)
    assert remaining(general) == 5


@pytest.mark.parametrize(
    ("session_id", "code"),
    [
        ("s\x00x", "nul_character"),
        ("box office", "not_ascii"),
        ("s" * 201, "too_long"),
        (MEGABYTE, "too_long"),
        (12345, "not_text"),
        ("", "invalid"),
    ],
)
def test_a_session_id_is_a_short_ascii_token(session_id: Any, code: str) -> None:
    """NUL and 1 MB session ids reached the database raw."""
    event = make_sale_event()
    (general,) = event.ticket_type_ids
    with pytest.raises(ValidationError) as caught:
        hold_tickets(ACTOR, HoldRequest(event.event_id, session_id, {general: 1}))
    assert (caught.value.field, caught.value.code) == ("session_id", code)
    assert held_and_sold(event.event_id) == (0, 0, 0)
    with pytest.raises(ValidationError):
        release_hold(ACTOR, event.event_id, session_id)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (lambda e, t: HoldRequest(str(e), "s-1", {t: 1}), "event_id"),
        (lambda e, t: HoldRequest(e, "s-1", [(t, 1)]), "quantities"),  # type: ignore[arg-type]
        (lambda e, t: HoldRequest(e, "s-1", {str(t): 1}), "quantities"),
        (lambda e, t: HoldRequest(e, "s-1", {}, str(t)), "seat_ids"),
        (lambda e, t: HoldRequest(e, "s-1", {}, [t, t]), "seat_ids"),
        (lambda e, t: HoldRequest(e, "s-1", {}, ["seat"]), "seat_ids"),
        (lambda e, t: HoldRequest(e, "s-1", {}, [uuid.uuid4()] * 5001), "seat_ids"),
        (lambda e, t: HoldRequest(e, "s-1"), "quantities"),
    ],
)
def test_ids_and_collections_of_the_wrong_kind_are_field_errors(request_: Any, field: str) -> None:
    event = make_sale_event()
    (general,) = event.ticket_type_ids
    with pytest.raises(ValidationError) as caught:
        hold_tickets(ACTOR, request_(event.event_id, general))
    assert caught.value.field == field
    assert held_and_sold(event.event_id) == (0, 0, 0)


# --- placing --------------------------------------------------------------------------


def _placeable() -> tuple[Any, OrderRequest]:
    event = make_sale_event([{"capacity": 5, "base_price": D("40.00")}], tax_rate="0.10")
    (general,) = event.ticket_type_ids
    held = hold(event, {general: 2})
    who = buyer()
    total = quote_order(ACTOR, event.event_id, held.session_id, None, who).total
    assert total == D("88.00")
    request = OrderRequest(
        event_id=event.event_id,
        session_id=held.session_id,
        buyer=who,
        payment_method="cash",
        expected_total=total,
        idempotency_key=f"k-{tag()}",
    )
    return event, request


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"expected_total": 88.0}, "expected_total", "not_money"),
        ({"expected_total": "88.00"}, "expected_total", "not_money"),
        ({"expected_total": D("NaN")}, "expected_total", "not_money"),
        ({"expected_total": D("88.001")}, "expected_total", "not_money"),
        ({"expected_total": D("1e30")}, "expected_total", "out_of_range"),
        ({"expected_total": D("-88.00")}, "expected_total", "out_of_range"),
        ({"idempotency_key": MEGABYTE}, "idempotency_key", "too_long"),
        ({"idempotency_key": "k\x00"}, "idempotency_key", "nul_character"),
        ({"idempotency_key": "two words"}, "idempotency_key", "not_ascii"),
        ({"idempotency_key": None}, "idempotency_key", "invalid"),
        ({"session_id": MEGABYTE}, "session_id", "too_long"),
        ({"notes": MEGABYTE}, "notes", "too_long"),
        ({"notes": "call \x00 me"}, "notes", "nul_character"),
        ({"code": "SAVE\x00"}, "code", "nul_character"),
        ({"code": MEGABYTE}, "code", "too_long"),
        ({"payment_method": "cash\x00"}, "payment_method", "nul_character"),
        ({"payment_method": 7}, "payment_method", "not_text"),
        ({"event_id": "not-a-uuid"}, "event_id", "not_uuid"),
    ],
)
def test_an_order_request_is_checked_field_by_field(
    change: dict[str, Any], field: str, code: str
) -> None:
    """A float total and NUL or 1 MB keys raised raw database errors; 1 MB notes were
    stored. Now each is a field error, and the hold waits for a corrected request."""
    event, request = _placeable()
    with pytest.raises(ValidationError) as caught:
        place_order(ACTOR, replace(request, **change))
    assert (caught.value.field, caught.value.code) == (field, code)
    assert held_and_sold(event.event_id) == (1, 0, 0)
    assert place_order(ACTOR, request).status == "completed"
    assert violations(event.event_id) == []


@pytest.mark.parametrize(
    ("who", "field", "message"),
    [
        (Buyer(MEGABYTE, "big@example.com"), "billing_name",
         "Buyer name must be at most 200 characters."),
        (Buyer("N" * 201, "big@example.com"), "billing_name",
         "Buyer name must be at most 200 characters."),
        (Buyer("Nul\x00Name", "nul@example.com"), "billing_name",
         "Buyer name cannot contain NUL characters (\\x00)."),
        (Buyer("Ada", f"{'a' * 250}@example.com"), "billing_email",
         "Buyer email must be at most 254 characters."),
        (Buyer("Ada", "ada\x00@example.com"), "billing_email",
         "Buyer email cannot contain NUL characters (\\x00)."),
        (Buyer("Ada", "ada@example.com", "5" * 33), "billing_phone",
         "Buyer phone must be at most 32 characters."),
        (Buyer("Ada", "ada@example.com", user_id="me"), "user_id",  # type: ignore[arg-type]
         "The buyer's account must be an id (a UUID)."),
        (Buyer(None, "ada@example.com"), "billing_name",  # type: ignore[arg-type]
         "Buyer name is required."),
        (Buyer(["Ada"], "ada@example.com"), "billing_name",  # type: ignore[arg-type]
         "Buyer name must be text."),
        ("Ada", "billing_name", "Give the buyer's details."),
    ],
)  # fmt: skip
def test_buyer_details_are_held_to_the_orders_columns(who: Any, field: str, message: str) -> None:
    """1 MB names were stored; the limits are the orders table's own (core/models)."""
    event, request = _placeable()
    with pytest.raises(ValidationError) as caught:
        place_order(ACTOR, replace(request, buyer=who))
    assert (caught.value.field, caught.value.message) == (field, message)
    with pytest.raises(ValidationError):
        quote_order(ACTOR, event.event_id, request.session_id, None, who)
    assert held_and_sold(event.event_id) == (1, 0, 0)


def test_whole_numbers_of_money_are_exact_and_text_keeps_every_script() -> None:
    """The rule for money: a Decimal or an int in whole cents. Unicode text is stored as
    typed, trimmed at the ends."""
    event = make_sale_event([{"capacity": 5, "base_price": D("44.00")}])
    (general,) = event.ticket_type_ids
    held = hold(event, {general: 1})
    zoe = Buyer("  Zoë Ørsted-Łukasz 🎟️  ", "zoe@example.com", " +45 12 34 56 78 ")
    placed = place_order(
        ACTOR,
        OrderRequest(event.event_id, held.session_id, zoe, "cash", 44, f"k-{tag()}"),
    )
    assert placed.total == D("44.00")
    stored = one("SELECT billing_name, billing_phone FROM orders WHERE id = :o", o=placed.order_id)
    assert tuple(stored) == ("Zoë Ørsted-Łukasz 🎟️", "+45 12 34 56 78")


def test_a_name_of_exactly_the_limit_is_taken() -> None:
    event = make_sale_event([{"capacity": 5}])
    (general,) = event.ticket_type_ids
    placed = place(hold(event, {general: 1}), who=buyer(name="N" * 200))
    assert (
        one("SELECT char_length(billing_name) FROM orders WHERE id = :o", o=placed.order_id)[0]
        == 200
    )
