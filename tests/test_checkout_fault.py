"""Faults while placing an order: a connection killed mid-transaction, and the same
request arriving twice at once.

A killed placing transaction must leave nothing behind (no order, no sale, no code use,
the hold intact), and the same request retried with the same idempotency key must then
make exactly one order. Requests racing with one key must make one order and all get it.

The kills are deterministic: the placing transaction runs in a thread on an engine with
an application_name of its own; the test parks it at a known point (waiting for a lock
the test holds, or inside the payment provider) and, once pg_stat_activity shows it
there, ends its backend with pg_terminate_backend.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.invariants import find_violations
from core.checkout.locking import NS_IDEMPOTENCY, NS_TICKET_TYPE, _key
from core.checkout.orders import Buyer, OrderRequest, PlacedOrder, place_order, quote_order
from core.checkout.payments import BoxOfficePayments, PaymentResult
from core.db import Actor, unit_of_work
from core.errors import DomainError, Unavailable
from tests.checkout_fixtures import (
    SaleEvent,
    checkout_engine_fixture,  # noqa: F401  (the checkout_engine fixture)
    installed,
    make_code,
    make_sale_event,
)

ACTOR = Actor.system("pytest-checkout-fault")
CAPACITY = 10
WAIT = 10.0  # seconds; the checkout's own lock timeout is 5 s


@dataclass(frozen=True)
class Pending:
    """A buyer holding two tickets (one of them seat A1) with a code, about to place."""

    sale: SaleEvent
    code_id: uuid.UUID
    request: OrderRequest


def pending_order(*, code_limit: int = 1) -> Pending:
    with unit_of_work(ACTOR) as uow:
        sale = make_sale_event(uow.session, capacity=CAPACITY, seats=CAPACITY)
        code = make_code(uow.session, usage_limit=code_limit, event_id=sale.event_id)
        uow.commit()
    session_id = f"fault-{uuid.uuid4().hex[:10]}"
    buyer = Buyer("Faye Ult", f"faye.{uuid.uuid4().hex[:6]}@example.com")
    hold_tickets(
        ACTOR,
        HoldRequest(
            sale.event_id,
            session_id,
            quantities={sale.ticket_type_id: 1},
            seat_ids=(sale.seat_ids[0],),
        ),
    )
    quote = quote_order(ACTOR, sale.event_id, session_id, code.code, buyer)
    assert quote.discount > 0
    request = OrderRequest(
        event_id=sale.event_id,
        session_id=session_id,
        buyer=buyer,
        payment_method="card_terminal",
        expected_total=quote.total,
        idempotency_key=f"key-{session_id}",
        code=code.code,
    )
    return Pending(sale, code.id, request)


# --- reading the state -------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    orders: int  # orders with the request's idempotency key
    remaining: int
    held: int  # live hold quantity of the buyer's session
    seat: tuple[str, uuid.UUID | None]  # status and order of seat A1
    code_usage: int
    payments: int  # payments of the event's orders
    violations: list[str]


def state(pending: Pending) -> State:
    sale, request = pending.sale, pending.request
    with unit_of_work(ACTOR, read_only=True) as uow:
        s = uow.session

        def scalar(sql: str, **params: Any) -> Any:
            return s.execute(text(sql), params).scalar()

        return State(
            orders=scalar(
                "SELECT count(*) FROM orders WHERE idempotency_key = :k", k=request.idempotency_key
            ),
            remaining=scalar(
                "SELECT remaining_capacity FROM ticket_types WHERE id = :t", t=sale.ticket_type_id
            ),
            held=scalar(
                "SELECT coalesce(sum(quantity), 0) FROM ticket_inventory_locks"
                " WHERE session_id = :s AND expires_at > now() AND order_id IS NULL",
                s=request.session_id,
            ),
            seat=tuple(
                s.execute(
                    text(
                        "SELECT status, order_id FROM event_seats"
                        " WHERE event_id = :e AND seat_id = :seat"
                    ),
                    {"e": sale.event_id, "seat": sale.seat_ids[0]},
                ).one()
            ),
            code_usage=scalar(
                "SELECT current_usage FROM discount_codes WHERE id = :c", c=pending.code_id
            ),
            payments=scalar(
                "SELECT count(*) FROM order_payments p JOIN orders o ON o.id = p.order_id"
                " WHERE o.event_id = :e",
                e=sale.event_id,
            ),
            violations=find_violations(s),
        )


UNTOUCHED = {"orders": 0, "remaining": CAPACITY, "held": 2, "code_usage": 0, "payments": 0}


def assert_untouched(pending: Pending) -> None:
    """Nothing of the killed attempt is left; the hold still stands for the retry."""
    now = state(pending)
    assert now.violations == []
    assert {k: getattr(now, k) for k in UNTOUCHED} == UNTOUCHED
    assert now.seat == ("held", None)


def assert_placed_once(pending: Pending, placed: PlacedOrder) -> None:
    now = state(pending)
    assert now.violations == []
    assert now.orders == 1
    assert now.remaining == CAPACITY - 2
    assert now.held == 0
    assert now.seat == ("sold", placed.order_id)
    assert now.code_usage == 1
    assert now.payments == 1
    with unit_of_work(ACTOR, read_only=True) as uow:
        status, total, paid = uow.session.execute(
            text(
                "SELECT o.status, o.total_amount, (SELECT sum(amount) FROM order_payments"
                " WHERE order_id = o.id) FROM orders o WHERE o.idempotency_key = :k"
            ),
            {"k": pending.request.idempotency_key},
        ).one()
    assert (status, total, paid) == ("completed", pending.request.expected_total, total)


# --- parking and killing the placing transaction -----------------------------------------------


class StallingPayments(BoxOfficePayments):
    """A provider that stops inside charge() until told to go on: by then the order,
    its items, the sale, the seat and the code use are written but not committed."""

    def __init__(self) -> None:
        self.charging = threading.Event()
        self.go_on = threading.Event()

    def charge(
        self, *, amount: Decimal, currency: str, method: str, order_number: str
    ) -> PaymentResult:
        self.charging.set()
        self.go_on.wait(WAIT)
        return super().charge(
            amount=amount, currency=currency, method=method, order_number=order_number
        )


def poll(conn: Connection, sql: str, **params: Any) -> Any:
    """The first row of `sql` once it has one (autocommit reads, so each poll is fresh)."""
    deadline = time.monotonic() + WAIT
    while True:
        row = conn.execute(text(sql), params).first()
        if row is not None:
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {sql} {params}")
        time.sleep(0.01)


@contextmanager
def victim_engine(checkout_engine: Engine) -> Iterator[tuple[Engine, str]]:
    """An engine on the same database whose connections pg_stat_activity can tell apart,
    installed as the process engine while the block runs."""
    app = f"checkout-victim-{uuid.uuid4().hex[:8]}"
    engine = create_engine(
        checkout_engine.url,
        connect_args={"application_name": app, "options": "-c timezone=UTC"},
    )
    try:
        with installed(engine):
            yield engine, app
    finally:
        engine.dispose()


VICTIM = "SELECT pid FROM pg_stat_activity WHERE application_name = :app"
CHECKOUT_TABLES = ("orders", "order_items", "ticket_types", "event_seats", "discount_codes")


def written_tables(conn: Connection, pid: int) -> set[str]:
    """The checkout tables the backend `pid` has written to in its open transaction."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE l.pid = :p AND l.mode = 'RowExclusiveLock' AND l.granted"
            " AND c.relname = ANY(:tables)"
        ),
        {"p": pid, "tables": list(CHECKOUT_TABLES)},
    )
    return set(rows.scalars())


def _hold_ticket_type_lock(blocker: Connection, pending: Pending) -> str:
    blocker.execute(
        text("SELECT pg_advisory_xact_lock(:ns, :k)"),
        {"ns": NS_TICKET_TYPE, "k": _key(pending.sale.ticket_type_id)},
    )
    return VICTIM + " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"


def _hold_ticket_type_row(blocker: Connection, pending: Pending) -> str:
    # The order items' foreign key needs a KEY SHARE lock on the ticket type's row, which
    # FOR UPDATE refuses: the victim stops with the order inserted, inside the items' insert.
    blocker.execute(
        text("SELECT 1 FROM ticket_types WHERE id = :t FOR UPDATE"),
        {"t": pending.sale.ticket_type_id},
    )
    return VICTIM + " AND wait_event_type = 'Lock' AND wait_event <> 'advisory'"


BLOCKERS: dict[str, Callable[[Connection, Pending], str]] = {
    "waiting-for-the-ticket-type-lock": _hold_ticket_type_lock,
    "inserting-the-order-items": _hold_ticket_type_row,
}


def kill(conn: Connection, pid: int) -> None:
    assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    # The backend rolls back as it exits; wait until it is gone.
    deadline = time.monotonic() + WAIT
    while conn.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).first():
        assert time.monotonic() < deadline, "the killed backend did not go away"
        time.sleep(0.01)


def assert_connection_lost(error: BaseException | None) -> None:
    # The domain error for a lost connection (finding 8): no raw database error reaches
    # the caller, who is told to retry, and retries with the same key.
    assert isinstance(error, Unavailable), repr(error)
    assert error.code == "unavailable"
    assert error.message == "The database is temporarily unavailable; please retry."
    assert isinstance(error.__cause__, DBAPIError)


# --- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("where", list(BLOCKERS))
def test_killed_while_waiting_inside_place_order_then_retried(
    checkout_engine: Engine, where: str
) -> None:
    pending = pending_order()
    with (
        checkout_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as monitor,
        checkout_engine.connect() as blocker,
        ThreadPoolExecutor(1) as runner,
        victim_engine(checkout_engine) as (_, app),
    ):
        blocker.begin()
        parked_at = BLOCKERS[where](blocker, pending)
        attempt = runner.submit(place_order, ACTOR, pending.request)
        (pid,) = poll(monitor, parked_at, app=app)
        expected = {"orders", "order_items"} if where == "inserting-the-order-items" else set()
        assert written_tables(monitor, pid) == expected
        kill(monitor, pid)
        blocker.rollback()
        error = attempt.exception(timeout=WAIT)
    assert_connection_lost(error)
    assert_untouched(pending)

    placed = place_order(ACTOR, pending.request)
    again = place_order(ACTOR, pending.request)
    assert not placed.replayed
    assert again == PlacedOrder(**{**placed.__dict__, "replayed": True})
    assert_placed_once(pending, placed)


def test_killed_during_payment_with_every_write_done_then_retried(
    checkout_engine: Engine,
) -> None:
    pending = pending_order()
    payments = StallingPayments()
    with (
        checkout_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as monitor,
        ThreadPoolExecutor(1) as runner,
        victim_engine(checkout_engine) as (_, app),
    ):
        attempt = runner.submit(place_order, ACTOR, pending.request, payments)
        assert payments.charging.wait(WAIT)
        (pid,) = poll(monitor, VICTIM + " AND state = 'idle in transaction'", app=app)
        assert written_tables(monitor, pid) == set(CHECKOUT_TABLES)
        # Uncommitted: from outside, the sale is not there yet, and the seat row is locked.
        assert_untouched(pending)
        kill(monitor, pid)
        payments.go_on.set()
        error = attempt.exception(timeout=WAIT)
    assert_connection_lost(error)
    assert_untouched(pending)

    placed = place_order(ACTOR, pending.request)
    assert not placed.replayed
    assert place_order(ACTOR, pending.request).order_id == placed.order_id
    assert_placed_once(pending, placed)


def test_requests_queued_on_one_key_make_one_order_and_all_get_it(checkout_engine: Engine) -> None:
    """Eight copies of one request, all inside place_order waiting for the key's lock
    (held by the test) when it is let go: one order, every caller gets its id."""
    pending = pending_order()
    copies = 8
    with (
        checkout_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as monitor,
        checkout_engine.connect() as gate,
        ThreadPoolExecutor(copies) as runner,
        victim_engine(checkout_engine) as (_, app),
    ):
        gate.begin()
        gate.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :k)"),
            {"ns": NS_IDEMPOTENCY, "k": _key(pending.request.idempotency_key)},
        )
        calls = [runner.submit(place_order, ACTOR, pending.request) for _ in range(copies)]
        poll(
            monitor,
            "SELECT 1 FROM pg_stat_activity WHERE application_name = :app"
            " AND wait_event = 'advisory' HAVING count(*) = :n",
            app=app,
            n=copies,
        )
        gate.rollback()
        results = [call.result(timeout=WAIT) for call in calls]
    assert len({r.order_id for r in results}) == 1
    assert sorted(r.replayed for r in results) == [False] + [True] * (copies - 1)
    assert len({(r.order_number, r.total, r.status) for r in results}) == 1
    assert_placed_once(pending, results[0])


def test_two_racing_requests_with_one_key_make_one_order(checkout_engine: Engine) -> None:
    """Ungated races, repeated: both callers always get the same, single order."""
    with ThreadPoolExecutor(2) as runner:
        for _ in range(15):
            pending = pending_order()
            start = threading.Barrier(2)

            def place(p: Pending = pending, start: threading.Barrier = start) -> PlacedOrder:
                start.wait(WAIT)
                return place_order(ACTOR, p.request)

            calls = [runner.submit(place) for _ in range(2)]
            first, second = (call.result(timeout=WAIT) for call in calls)
            assert first.order_id == second.order_id
            assert {first.replayed, second.replayed} == {False, True}
            assert_placed_once(pending, first)


def test_one_hold_placed_under_two_keys_at_once_makes_one_order(checkout_engine: Engine) -> None:
    """A double submit whose copies carry different keys: the hold's rows are locked by
    the first, so the second finds them gone and is told the hold expired."""
    pending = pending_order()
    twin = OrderRequest(**{**pending.request.__dict__, "idempotency_key": f"twin-{uuid.uuid4()}"})
    start = threading.Barrier(2)

    def place(request: OrderRequest) -> PlacedOrder | DomainError:
        start.wait(WAIT)
        try:
            return place_order(ACTOR, request)
        except DomainError as exc:
            return exc

    with ThreadPoolExecutor(2) as runner:
        results = list(runner.map(place, [pending.request, twin]))
    placed = [r for r in results if isinstance(r, PlacedOrder)]
    refused = [type(r).__name__ for r in results if not isinstance(r, PlacedOrder)]
    assert len(placed) == 1, results
    assert refused == ["HoldExpired"]
    with unit_of_work(ACTOR, read_only=True) as uow:
        keys = uow.session.execute(
            text("SELECT idempotency_key FROM orders WHERE event_id = :e"),
            {"e": pending.sale.event_id},
        ).all()
        assert find_violations(uow.session) == []
    assert len(keys) == 1
    won = pending.request if keys[0][0] == pending.request.idempotency_key else twin
    assert_placed_once(Pending(pending.sale, pending.code_id, won), placed[0])
