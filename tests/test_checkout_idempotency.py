"""Finding 9: a reused idempotency key returned someone else's order.

A different request (other buyer, session or tickets) under an earlier key silently got
the earlier order as success while its own hold stayed reserved. Now the order carries a
fingerprint of the request that placed it (checkout_fingerprint, migration 0010): the
same request replays the order, a different one is refused with IdempotencyConflict
(field idempotency_key) and changes nothing; its hold stays its own, to be placed under a
new key. Both checkout paths (with a code: core/checkout/orders.py; without:
checkout_place), one request after the other, and racing in threads and in processes.
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from decimal import Decimal
from threading import Barrier

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import configure_mappers

from core.checkout.errors import IdempotencyConflict
from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.invariants import find_violations
from core.checkout.orders import Buyer, OrderRequest, PlacedOrder, place_order, quote_order
from core.db import Actor, unit_of_work, use_engine
from core.errors import DomainError
from tests.checkout_fixtures import (
    SaleEvent,
    checkout_engine_fixture,  # noqa: F401  (the checkout_engine fixture)
    make_code,
    make_sale_event,
)

ACTOR = Actor.system("pytest-idempotency")
CAPACITY = 40
WAIT = 30.0
PATHS = ["without a code", "with a code"]


@dataclass(frozen=True)
class Sale:
    sale: SaleEvent
    code: str


def new_sale() -> Sale:
    with unit_of_work(ACTOR) as uow:
        sale = make_sale_event(uow.session, capacity=CAPACITY, seats=CAPACITY)
        code = make_code(uow.session, usage_limit=None, event_id=sale.event_id).code
        uow.commit()
    return Sale(sale, code)


def person(tag: str | None = None) -> Buyer:
    tag = tag or uuid.uuid4().hex[:8]
    return Buyer(f"Ida {tag}", f"ida.{tag}@example.com", "+1 555 0100")


def held_request(
    sale: Sale,
    *,
    path: str,
    seats: int = 0,
    quantity: int = 1,
    who: Buyer | None = None,
    key: str | None = None,
    session_id: str | None = None,
    first_seat: int = 0,
) -> OrderRequest:
    """A session holding `quantity` tickets and `seats` seats (from `first_seat`), and the
    order request that would place it as quoted."""
    session_id = session_id or f"idem-{uuid.uuid4().hex[:10]}"
    who = who or person()
    code = sale.code if path == "with a code" else None
    hold_tickets(
        ACTOR,
        HoldRequest(
            sale.sale.event_id,
            session_id,
            {sale.sale.ticket_type_id: quantity} if quantity else {},
            sale.sale.seat_ids[first_seat : first_seat + seats],
        ),
    )
    total = quote_order(ACTOR, sale.sale.event_id, session_id, code, who).total
    return OrderRequest(
        event_id=sale.sale.event_id,
        session_id=session_id,
        buyer=who,
        payment_method="cash",
        expected_total=total,
        idempotency_key=key or f"key-{uuid.uuid4().hex}",
        code=code,
    )


def state(sale: Sale) -> tuple[object, ...]:
    """Everything a refused request must leave as it was."""
    with unit_of_work(ACTOR, read_only=True) as uow:
        return tuple(
            uow.session.execute(
                text(
                    "SELECT (SELECT array_agg(id ORDER BY id) FROM orders WHERE event_id = :e),"
                    " (SELECT array_agg((id, quantity, session_id, seat_ids) ORDER BY id)::text"
                    "    FROM ticket_inventory_locks WHERE event_id = :e),"
                    " (SELECT remaining_capacity FROM ticket_types WHERE id = :t),"
                    " (SELECT array_agg((seat_id, status, hold_id) ORDER BY seat_id)::text"
                    "    FROM event_seats WHERE event_id = :e),"
                    " (SELECT count(*) FROM order_payments p JOIN orders o ON o.id = p.order_id"
                    "   WHERE o.event_id = :e)"
                ),
                {"e": sale.sale.event_id, "t": sale.sale.ticket_type_id},
            ).one()
        )


def orders_with_key(key: str) -> int:
    with unit_of_work(ACTOR, read_only=True) as uow:
        return uow.session.execute(
            text("SELECT count(*) FROM orders WHERE idempotency_key = :k"), {"k": key}
        ).scalar_one()


# What a second request changes, and how it is made from the first and its sale.
DIFFERENCES: dict[str, Callable[[OrderRequest, Sale, str], OrderRequest]] = {
    "another buyer's email": lambda r, s, p: replace(
        r, buyer=replace(r.buyer, email="someone.else@example.com")
    ),
    "another buyer's name": lambda r, s, p: replace(r, buyer=replace(r.buyer, name="Eve")),
    "another phone": lambda r, s, p: replace(r, buyer=replace(r.buyer, phone="+1 555 0199")),
    "another account": lambda r, s, p: replace(r, buyer=replace(r.buyer, user_id=uuid.uuid4())),
    "other notes": lambda r, s, p: replace(r, notes="deliver to the back door"),
    "another payment method": lambda r, s, p: replace(r, payment_method="card_terminal"),
    "another total": lambda r, s, p: replace(r, expected_total=r.expected_total + 1),
    "another session and hold": lambda r, s, p: held_request(
        s, path=p, quantity=2, who=r.buyer, key=r.idempotency_key
    ),
    "other seats": lambda r, s, p: held_request(
        s, path=p, quantity=0, seats=1, first_seat=5, who=r.buyer, key=r.idempotency_key
    ),
    # The first order's session chooses again: its new hold is another request.
    "new tickets in the same session": lambda r, s, p: held_request(
        s, path=p, quantity=3, who=r.buyer, key=r.idempotency_key, session_id=r.session_id
    ),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("difference", list(DIFFERENCES))
def test_a_different_request_under_a_used_key_is_refused_and_changes_nothing(
    checkout_engine: Engine, path: str, difference: str
) -> None:
    sale = new_sale()
    first = held_request(sale, path=path, seats=1)
    placed = place_order(ACTOR, first)
    second = DIFFERENCES[difference](first, sale, path)
    before = state(sale)

    with pytest.raises(IdempotencyConflict) as caught:
        place_order(ACTOR, second)

    assert (caught.value.code, caught.value.field) == ("idempotency_conflict", "idempotency_key")
    assert "already used for a different order" in caught.value.message
    assert state(sale) == before, "the refused request changed something"
    assert orders_with_key(first.idempotency_key) == 1
    new_hold = second.session_id != first.session_id or difference.startswith("new tickets")
    if not difference.startswith("new tickets"):
        # The first request still replays its own order (once its session holds other
        # tickets, the session names those: no longer the same request).
        assert place_order(ACTOR, first).order_id == placed.order_id
    # The refused request's hold is its own: placed under a new key, it sells.
    if new_hold:
        again = place_order(ACTOR, replace(second, idempotency_key=f"new-{uuid.uuid4().hex}"))
        assert again.order_id != placed.order_id and not again.replayed
    with unit_of_work(ACTOR, read_only=True) as uow:
        assert find_violations(uow.session, sale.sale.event_id) == []


@pytest.mark.parametrize("path", PATHS)
def test_the_same_request_replays_its_order(checkout_engine: Engine, path: str) -> None:
    sale = new_sale()
    request = held_request(sale, path=path, seats=2)
    placed = place_order(ACTOR, request)
    before = state(sale)
    again = place_order(ACTOR, request)
    # Retyped the same way: trimmed and case-folded fields compare as stored.
    retyped = replace(
        request,
        buyer=replace(request.buyer, name=f"  {request.buyer.name} "),
        code=request.code.lower() if request.code else None,
        expected_total=Decimal(f"{request.expected_total}0"),
    )
    assert place_order(ACTOR, retyped).order_id == placed.order_id
    assert (again.order_id, again.replayed, again.total) == (placed.order_id, True, placed.total)
    assert state(sale) == before


def test_an_order_placed_before_fingerprints_refuses_its_key(checkout_engine: Engine) -> None:
    """Orders from before migration 0010 have no fingerprint: what placed them is not
    known, so no request may claim them."""
    sale = new_sale()
    request = held_request(sale, path="without a code")
    placed = place_order(ACTOR, request)
    with unit_of_work(ACTOR) as uow:
        uow.session.execute(
            text("UPDATE orders SET idempotency_fingerprint = NULL WHERE id = :o"),
            {"o": placed.order_id},
        )
        uow.commit()
    with pytest.raises(IdempotencyConflict):
        place_order(ACTOR, request)


# --- racing -------------------------------------------------------------------------------


def _outcome(call: Callable[[], PlacedOrder]) -> str:
    try:
        call()
    except DomainError as exc:
        return type(exc).__name__
    except Exception as exc:  # a failure: anything but a domain error
        return f"unexpected {type(exc).__name__}: {exc}"
    return "placed"


def _held(sale: Sale, requests: list[OrderRequest]) -> int:
    """How many of `requests` still have their hold (all of its rows)."""
    with unit_of_work(ACTOR, read_only=True) as uow:
        return uow.session.execute(
            text(
                "SELECT count(DISTINCT session_id) FROM ticket_inventory_locks"
                " WHERE event_id = :e AND session_id = ANY(:s) AND order_id IS NULL"
            ),
            {"e": sale.sale.event_id, "s": [r.session_id for r in requests]},
        ).scalar_one()


@pytest.mark.parametrize("path", PATHS)
def test_different_requests_racing_with_one_key_in_threads(
    checkout_engine: Engine, path: str
) -> None:
    """Two buyers, one key, started together, many times over: one order each time, the
    other buyer refused with the conflict and still holding their tickets."""
    sale = new_sale()
    with ThreadPoolExecutor(2) as runner:
        for round_ in range(12):
            key = f"race-{round_}-{uuid.uuid4().hex}"
            pair = [held_request(sale, path=path, key=key) for _ in range(2)]
            start = Barrier(2)

            def place(request: OrderRequest, start: Barrier = start) -> str:
                start.wait(WAIT)
                return _outcome(lambda: place_order(ACTOR, request))

            outcomes = sorted(runner.map(place, pair))
            assert outcomes == ["IdempotencyConflict", "placed"], outcomes
            assert orders_with_key(key) == 1
            assert _held(sale, pair) == 1
    with unit_of_work(ACTOR, read_only=True) as uow:
        assert find_violations(uow.session, sale.sale.event_id) == []


_engines: dict[str, Engine] = {}


def _init_worker() -> None:
    configure_mappers()


def _place_in_worker(url: str, request: OrderRequest, start: object) -> str:
    engine = _engines.get(url) or _engines.setdefault(
        url, create_engine(url, pool_size=1, connect_args={"options": "-c timezone=UTC"})
    )
    use_engine(engine)
    with engine.connect():
        pass
    start.wait(WAIT)  # type: ignore[attr-defined]
    return _outcome(lambda: place_order(ACTOR, request))


@pytest.mark.parametrize("path", PATHS)
def test_different_requests_racing_with_one_key_in_processes(
    checkout_engine: Engine, path: str
) -> None:
    """Eight buyers in eight processes, one key: one order, seven conflicts, seven holds
    left to their buyers."""
    sale = new_sale()
    key = f"race-{uuid.uuid4().hex}"
    requests = [held_request(sale, path=path, key=key) for _ in range(8)]
    url = checkout_engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(8, initializer=_init_worker) as pool:
        start = manager.Barrier(8)
        outcomes = pool.starmap(_place_in_worker, [(url, r, start) for r in requests])
    assert Counter(outcomes) == {"placed": 1, "IdempotencyConflict": 7}, outcomes
    assert orders_with_key(key) == 1
    assert _held(sale, requests) == 7
    with unit_of_work(ACTOR, read_only=True) as uow:
        assert find_violations(uow.session, sale.sale.event_id) == []
